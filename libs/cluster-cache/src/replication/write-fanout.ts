import type { WriteReplicator } from '../engine/write-replicator.interface';
import type { Clock } from '../store/clock';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { toWire } from './messages';
import type { ReplicationMessage, WireState, WriteBatch } from './messages';

/** A write waiting for acknowledgements. */
interface PendingWrite {
  remaining: number;
  resolve: () => void;
}

/** What the fan-out needs of a peer link. */
export interface FanoutPeer {
  readonly name: string;
  send(message: ReplicationMessage): void;
  /** Drops the link: the peer must resync when it comes back. */
  disconnect(reason: 'ack-timeout'): void;
}

/** One write on its way to one peer. */
interface InFlight {
  id: number;
  sentAt: number;
  write: PendingWrite;
  table: string;
  states: WireState[];
}

/** One peer's writes in flight, oldest first (acks arrive in order on one link). */
interface PeerQueue {
  peer: FanoutPeer;
  /** ms from sending the newest acknowledged write to its acknowledgement: the replication lag. */
  lag: number;
  inFlight: InFlight[];
  /** How many of `inFlight` (at the end) are queued for this turn's message and not sent yet. */
  unsent: number;
}

/**
 * Sends local writes to every replicating peer and resolves each write when
 * all peers that were connected when it was made have applied it (Mnesia's
 * `sync_transaction`). The writes of one event-loop turn go to a peer as one
 * message (applied write by write, in order), and acknowledgements are
 * cumulative, so a burst costs one frame each way. A peer that leaves
 * releases its writes; a peer that stays silent past `ackTimeout` is
 * disconnected, which releases them too, and must resync when it comes back.
 */
export class WriteFanout implements WriteReplicator {
  private readonly peers = new Map<string, PeerQueue>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  private flushScheduled = false;

  constructor(
    private readonly clock: Clock,
    private readonly ackTimeout: number,
  ) {}

  /**
   * Starts sending writes to `peer`. If the peer already had a link (a
   * duplicate connection won, or the link was replaced), its writes in flight
   * are sent again on the new one: the old link may not have delivered them,
   * and applying a state twice changes nothing.
   */
  add(peer: FanoutPeer): void {
    const previous = this.peers.get(peer.name);
    const queue: PeerQueue = { peer, inFlight: previous?.inFlight ?? [], lag: previous?.lag ?? 0, unsent: 0 };
    this.peers.set(peer.name, queue);
    if (queue.inFlight.length > 0) this.send(queue, queue.inFlight);
    this.watchdog ??= setInterval(() => this.checkTimeouts(), Math.max(10, Math.floor(this.ackTimeout / 4))).unref();
  }

  /** Stops sending to the peer and releases the writes that waited for it. */
  remove(name: string): void {
    const queue = this.peers.get(name);
    if (queue === undefined) return;
    this.peers.delete(name);
    for (const { write } of queue.inFlight) release(write);
    if (this.peers.size === 0) this.stop();
  }

  /** Names of the peers writes go to. */
  names(): string[] {
    return [...this.peers.keys()];
  }

  /** Sends states to every peer (but `except`); resolves when all of them have applied them. */
  replicate(table: Table, states: readonly EntryState[], except?: string): Promise<void> {
    const targets = except === undefined ? this.peers.size : this.peers.size - (this.peers.has(except) ? 1 : 0);
    if (targets === 0) return Promise.resolve();
    const id = this.nextId++;
    const wire = states.map(toWire);
    return new Promise<void>((resolve) => {
      const write: PendingWrite = { remaining: targets, resolve };
      const sentAt = this.clock.now();
      for (const [name, queue] of this.peers) {
        if (name === except) continue;
        queue.inFlight.push({ id, sentAt, write, table: table.name, states: wire });
        queue.unsent++;
      }
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Sends each peer the writes queued for it this turn, as one message. */
  private flush(): void {
    this.flushScheduled = false;
    for (const queue of this.peers.values()) {
      if (queue.unsent === 0) continue;
      this.send(queue, queue.inFlight.slice(queue.inFlight.length - queue.unsent));
    }
  }

  /** Sends writes to a peer in one message: consecutive writes to one table share a batch. */
  private send(queue: PeerQueue, writes: readonly InFlight[]): void {
    queue.unsent = 0;
    const batches: WriteBatch[] = [];
    for (const write of writes) {
      const last = batches[batches.length - 1];
      if (last !== undefined && last[0] === write.table) for (const state of write.states) last[1].push(state);
      else batches.push([write.table, [...write.states]]);
    }
    queue.peer.send({ t: 'write', id: writes[writes.length - 1].id, batches });
  }

  /** The peer has applied every write up to `id`. */
  acknowledge(name: string, id: number): void {
    const queue = this.peers.get(name);
    if (queue === undefined) return;
    const inFlight = queue.inFlight;
    let done = 0;
    while (done < inFlight.length && inFlight[done].id <= id) release(inFlight[done++].write);
    if (done === 0) return;
    queue.lag = this.clock.now() - inFlight[done - 1].sentAt;
    inFlight.splice(0, done);
    queue.unsent = Math.min(queue.unsent, inFlight.length);
  }

  /** Writes in flight to each peer (for stats). */
  backlog(): Record<string, number> {
    return Object.fromEntries([...this.peers].map(([name, q]) => [name, q.inFlight.length]));
  }

  /** Each peer's replication lag: ms from sending its newest acknowledged write to the acknowledgement. */
  lag(): Record<string, number> {
    return Object.fromEntries([...this.peers].map(([name, q]) => [name, q.lag]));
  }

  stop(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private checkTimeouts(): void {
    const deadline = this.clock.now() - this.ackTimeout;
    for (const queue of [...this.peers.values()]) {
      const oldest = queue.inFlight[0];
      if (oldest !== undefined && oldest.sentAt <= deadline) queue.peer.disconnect('ack-timeout');
    }
  }
}

function release(write: PendingWrite): void {
  if (--write.remaining === 0) write.resolve();
}
