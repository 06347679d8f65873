import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import type { CopyChunkMessage, ReplicationMessage } from './messages';
import { fromFlat } from './flat-states';
import { float64Bytes } from './wire-arrays';

/** Handles a call from a peer; its result (or error) is the reply. */
export type CallHandler = (from: string, body: unknown) => unknown;

/** Receives the states of one table of a copy, chunk by chunk. */
export type ChunkHandler = (table: Table, states: EntryState[]) => void;

/**
 * What a handler returns to send its reply as several messages, each within
 * the frame limit; the caller (`callInParts`) gets the parts in order.
 */
export class ReplyParts {
  constructor(readonly parts: readonly unknown[]) {}
}

interface PendingCall {
  peer: string;
  link: string;
  /** Parts received so far, for a call made with `callInParts`. */
  parts: unknown[] | undefined;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingPull {
  peer: string;
  link: string;
  timer: NodeJS.Timeout;
  idle: number;
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
    /** Sends to the peer's current link; returns that link's id, or undefined if the peer is not linked. */
    private readonly send: (peer: string, message: ReplicationMessage) => string | undefined,
    private readonly table: (name: string) => Table | undefined,
  ) {}

  /** Serves calls of `kind` from peers. */
  handle(kind: string, handler: CallHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Calls `kind` on `peer`; resolves with its reply, rejects after `timeout` ms or if the link drops. */
  call<T>(peer: string, kind: string, body: unknown, timeout: number): Promise<T> {
    return this.start<T>(peer, kind, body, timeout, undefined);
  }

  /** Calls `kind` on `peer`, whose handler replies with `ReplyParts`; resolves with the parts. */
  callInParts<T>(peer: string, kind: string, body: unknown, timeout: number): Promise<T[]> {
    return this.start<T[]>(peer, kind, body, timeout, []);
  }

  private start<T>(peer: string, kind: string, body: unknown, timeout: number, parts: unknown[] | undefined): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const link = this.send(peer, { t: 'call', id, kind, body });
      if (link === undefined) return reject(new Error(`${peer} is not linked`));
      const timer = setTimeout(() => this.failCall(id, new Error(`${kind} call to ${peer} timed out after ${timeout} ms`)), timeout);
      this.calls.set(id, { peer, link, parts, resolve: resolve as (body: unknown) => void, reject, timer });
    });
  }

  /**
   * Asks `peer` for a copy of `tables` (only the keys with these hashes, if
   * given, see state-hash.ts; only states of version `since` or newer, if
   * given); each chunk goes to `onChunk`; resolves when the copy is complete.
   */
  pull(peer: string, tables: readonly string[], onChunk: ChunkHandler, keys: Float64Array | undefined, idle: number, since?: number): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      const link = this.send(peer, { t: 'copy-request', id, tables: [...tables], keys: keys && float64Bytes(keys), since });
      if (link === undefined) return reject(new Error(`${peer} is not linked`));
      const timer = this.idleTimer(id, peer, idle);
      this.pulls.set(id, { peer, link, onChunk, resolve, reject, timer, idle });
    });
  }

  /** Runs a call from `from` and sends the reply. */
  async serve(from: string, message: { id: number; kind: string; body: unknown }): Promise<void> {
    const handler = this.handlers.get(message.kind);
    try {
      if (handler === undefined) throw new Error(`no handler for ${message.kind}`);
      const body = await handler(from, message.body);
      if (body instanceof ReplyParts) {
        for (const part of body.parts) this.send(from, { t: 'reply-part', id: message.id, body: part });
        this.send(from, { t: 'reply', id: message.id });
      } else {
        this.send(from, { t: 'reply', id: message.id, body });
      }
    } catch (error) {
      try {
        this.send(from, { t: 'reply', id: message.id, error: error instanceof Error ? error.message : String(error) });
      } catch {
        // The reply cannot be sent at all: the caller's timeout fails its call.
      }
    }
  }

  reply(message: { id: number; body?: unknown; error?: string }): void {
    const call = this.calls.get(message.id);
    if (call === undefined) return;
    this.calls.delete(message.id);
    clearTimeout(call.timer);
    if (message.error !== undefined) call.reject(new Error(message.error));
    else call.resolve(call.parts ?? message.body);
  }

  replyPart(message: { id: number; body: unknown }): void {
    this.calls.get(message.id)?.parts?.push(message.body);
  }

  chunk(message: CopyChunkMessage): void {
    const pull = this.pulls.get(message.id);
    const table = this.table(message.table);
    if (pull === undefined || table === undefined) return;
    let states: EntryState[];
    try {
      states = fromFlat(message.states, true); // values sent as bytes stay bytes (store/compact/)
    } catch (error) {
      // A chunk that cannot be read makes the copy incomplete: fail it (it is retried) rather than the link.
      return this.failPull(message.id, error as Error);
    }
    clearTimeout(pull.timer);
    pull.timer = this.idleTimer(message.id, pull.peer, pull.idle);
    pull.onChunk(table, states);
  }

  end(id: number): void {
    const pull = this.pulls.get(id);
    this.pulls.delete(id);
    if (pull === undefined) return;
    clearTimeout(pull.timer);
    pull.resolve();
  }

  /** Fails everything that was sent over link `link`, which closed: its replies cannot come. */
  dropLink(link: string): void {
    for (const [id, call] of this.calls) if (call.link === link) this.failCall(id, new Error(`the link to ${call.peer} dropped`));
    for (const [id, pull] of this.pulls) if (pull.link === link) this.failPull(id, new Error(`the link to ${pull.peer} dropped`));
  }

  /** Fails everything pending (shutdown). */
  dropAll(): void {
    for (const id of this.calls.keys()) this.failCall(id, new Error('this node is shutting down'));
    for (const id of this.pulls.keys()) this.failPull(id, new Error('this node is shutting down'));
  }

  /** A copy that sends nothing for `idle` ms is given up. */
  private idleTimer(id: number, peer: string, idle: number): NodeJS.Timeout {
    return setTimeout(() => this.failPull(id, new Error(`the copy from ${peer} stalled for ${idle} ms`)), idle);
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
    if (pull === undefined) return;
    this.pulls.delete(id);
    clearTimeout(pull.timer);
    pull.reject(error);
  }
}
