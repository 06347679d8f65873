import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { BucketFilter, fromWire, ReplicationMessage, WireState } from './messages';

/** Handles a call from a peer; its result (or error) is the reply. */
export type CallHandler = (from: string, body: unknown) => unknown;

/** Receives the states of one table of a copy, chunk by chunk. */
export type ChunkHandler = (table: Table, states: EntryState[]) => void;

interface PendingCall {
  peer: string;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingPull {
  peer: string;
  onChunk: ChunkHandler;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Requests between peers over their links: calls (one request, one reply)
 * and pulls (a copy of tables streamed back in chunks). Both fail when the
 * link to the peer drops, so no caller waits forever.
 */
export class PeerCalls {
  private nextId = 1;
  private readonly calls = new Map<number, PendingCall>();
  private readonly pulls = new Map<number, PendingPull>();
  private readonly handlers = new Map<string, CallHandler>();

  constructor(
    private readonly send: (peer: string, message: ReplicationMessage) => boolean,
    private readonly table: (name: string) => Table | undefined,
  ) {}

  /** Serves calls of `kind` from peers. */
  handle(kind: string, handler: CallHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Calls `kind` on `peer`; resolves with its reply, rejects after `timeout` ms or if the link drops. */
  call<T>(peer: string, kind: string, body: unknown, timeout: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.failCall(id, new Error(`${kind} call to ${peer} timed out after ${timeout} ms`)), timeout);
      this.calls.set(id, { peer, resolve: resolve as (body: unknown) => void, reject, timer });
      if (!this.send(peer, { t: 'call', id, kind, body })) this.failCall(id, new Error(`${peer} is not linked`));
    });
  }

  /**
   * Asks `peer` for a copy of `tables` (only the given buckets, if any); each
   * chunk goes to `onChunk`; resolves when the copy is complete.
   */
  pull(peer: string, tables: readonly string[], onChunk: ChunkHandler, buckets?: BucketFilter): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pulls.set(id, { peer, onChunk, resolve, reject });
      if (!this.send(peer, { t: 'copy-request', id, tables: [...tables], buckets })) this.failPull(id, new Error(`${peer} is not linked`));
    });
  }

  /** Runs a call from `from` and sends the reply. */
  async serve(from: string, message: { id: number; kind: string; body: unknown }): Promise<void> {
    const handler = this.handlers.get(message.kind);
    try {
      if (handler === undefined) throw new Error(`no handler for ${message.kind}`);
      this.send(from, { t: 'reply', id: message.id, body: await handler(from, message.body) });
    } catch (error) {
      this.send(from, { t: 'reply', id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  }

  reply(message: { id: number; body?: unknown; error?: string }): void {
    const call = this.calls.get(message.id);
    if (call === undefined) return;
    this.calls.delete(message.id);
    clearTimeout(call.timer);
    if (message.error !== undefined) call.reject(new Error(message.error));
    else call.resolve(message.body);
  }

  chunk(message: { id: number; table: string; states: WireState[] }): void {
    const pull = this.pulls.get(message.id);
    const table = this.table(message.table);
    if (pull !== undefined && table !== undefined) pull.onChunk(table, message.states.map(fromWire));
  }

  end(id: number): void {
    const pull = this.pulls.get(id);
    this.pulls.delete(id);
    pull?.resolve();
  }

  /** Fails everything pending with `peer`, whose link dropped. */
  dropPeer(peer: string): void {
    const gone = new Error(`the link to ${peer} dropped`);
    for (const [id, call] of this.calls) if (call.peer === peer) this.failCall(id, gone);
    for (const [id, pull] of this.pulls) if (pull.peer === peer) this.failPull(id, gone);
  }

  private failCall(id: number, error: Error): void {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.calls.delete(id);
    clearTimeout(call.timer);
    call.reject(error);
  }

  private failPull(id: number, error: Error): void {
    const pull = this.pulls.get(id);
    this.pulls.delete(id);
    pull?.reject(error);
  }
}
