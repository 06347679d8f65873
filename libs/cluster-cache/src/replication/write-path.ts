import type { LoggerService } from '@nestjs/common';
import type { CacheEngine } from '../engine/cache-engine';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { fromFlat } from './flat-states';
import type { WriteMessage } from './messages';
import type { PeerSession } from './peer-session';
import { COPY_CHUNK } from './table-copy';
import { WriteFanout } from './write-fanout';

/**
 * Replicated writes, both ways: this node's writes go to every greeted peer
 * through the fan-out (which resolves each write once they all applied it),
 * and the peers' writes are applied here and acknowledged. A peer that missed
 * writes (one could not be sent, or it was dropped for not acknowledging
 * them) is remembered: it must resync when it is linked again.
 */
export class WritePath {
  private readonly fanout: WriteFanout;
  /** Peers that missed writes: they must resync when they are back. */
  private readonly mustResync = new Set<string>();

  constructor(
    private readonly engine: CacheEngine,
    private readonly ackTimeout: number,
    private readonly logger: LoggerService,
    /** The replicated table of a name, if this node has one. */
    private readonly replicatedTable: (name: string) => Table | undefined,
  ) {
    // Ack deadlines are real durations, read afresh: the store's clock keeps one reading per callback, and a
    // long synchronous step before a write (copying a huge value) would date the batch back and time it out early.
    this.fanout = new WriteFanout({ now: () => Date.now() }, ackTimeout);
  }

  /** Local writes are replicated from now on. */
  start(): void {
    this.engine.replicateWith(this.fanout);
  }

  /** Local writes are no longer replicated; the ack watchdog stops. */
  stop(): void {
    this.engine.replicateWith(undefined);
    this.fanout.stop();
  }

  /**
   * Sends writes to the greeted peer of `session` from now on; the writes in
   * flight to an earlier link of the same peer are sent again on this one.
   */
  add(session: PeerSession): void {
    this.fanout.add({
      name: session.name,
      send: (m, shared) => {
        try {
          session.send(m, shared);
        } catch (error) {
          // Not expected (puts refuse values too large for a frame); never let it end the process.
          this.logger.error(`a write to ${session.name} could not be sent, the peer misses it until a resync: ${String(error)}`);
          this.mustResync.add(session.name);
        }
      },
      disconnect: (reason) => {
        this.mustResync.add(session.name);
        this.logger.warn?.(`${session.name} did not acknowledge writes within ${this.ackTimeout} ms: disconnected, it resyncs when it is back`);
        session.link.close(reason);
      },
    });
  }

  /** Stops sending writes to `peer` and releases the writes that waited for it. */
  remove(peer: string): void {
    this.fanout.remove(peer);
  }

  /** `peer` has applied every write up to `id`. */
  acknowledged(peer: string, id: number): void {
    this.fanout.acknowledge(peer, id);
  }

  /** Applies a peer's writes, and acknowledges them (at once or a microtask later; see `PeerSession.acknowledge`). */
  apply(session: PeerSession, message: WriteMessage): void {
    let applied = 0;
    for (const [name, flat] of message.batches) {
      const states = fromFlat(flat, true); // values sent as bytes stay bytes (store/compact/)
      const table = this.replicatedTable(name);
      if (table !== undefined) this.engine.merge(table, states);
      applied += states.length;
    }
    // A part of a message too large for one frame: the last part acknowledges them all.
    if (message.more === 1) return;
    session.acknowledge(message.id, applied);
  }

  /**
   * Sends states this node got from elsewhere (a heal, a merge) on to every
   * linked peer but `except`, in copy-sized batches; peers apply them like
   * any replicated write.
   */
  spread(table: Table, states: readonly EntryState[], except?: string): void {
    for (let i = 0; i < states.length; i += COPY_CHUNK) {
      this.fanout.replicate(table, states.slice(i, i + COPY_CHUNK), except).catch(() => undefined);
    }
  }

  /** Writes in flight per peer. */
  backlog(): Record<string, number> {
    return this.fanout.backlog();
  }

  /** Replication lag per peer, in ms (send to acknowledgement of the newest acknowledged write). */
  lag(): Record<string, number> {
    return this.fanout.lag();
  }

  /** Whether `peer` missed writes; forgets it (the caller resyncs it now). */
  takeResync(peer: string): boolean {
    return this.mustResync.delete(peer);
  }

  /** `peer` must resync when it is linked again (a resync that failed). */
  resyncLater(peer: string): void {
    this.mustResync.add(peer);
  }
}
