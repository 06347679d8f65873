import type { WriteReplicator } from '../engine/write-replicator.interface';
import type { Clock } from '../store/clock';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { STATES_PER_ACK } from './messages';
import type { ReplicationMessage } from './messages';
import { OutgoingBatch } from './outgoing-batch';

/** What the fan-out needs of a peer link. */
export interface FanoutPeer {
  readonly name: string;
  /** @param shared the same message goes to other peers too: encode it once for all (see PeerSession.send). */
  send(message: ReplicationMessage, shared?: boolean): void;
  /** Drops the link: the peer must resync when it comes back. */
  disconnect(reason: 'ack-timeout'): void;
}

/** One peer's batches in flight, oldest first (acks arrive in order on one link). */
interface PeerQueue {
  peer: FanoutPeer;
  /** ms from sending the newest acknowledged write to its acknowledgement: the replication lag. */
  lag: number;
  inFlight: OutgoingBatch[];
  /** Writes in `inFlight`. */
  writes: number;
  /** How many of `inFlight` (at the end) are not sent yet: they go out at the end of the turn. */
  unsent: number;
}

/** Resolved result of a write no peer has to apply. */
const NO_PEERS = Promise.resolve();

/**
 * Sends local writes to every replicating peer and resolves each write when
 * all peers that were connected when it was made have applied it (Mnesia's
 * `sync_transaction`). The writes of one event-loop turn are grouped into
 * batches of about `STATES_PER_ACK` states, one message each, sent at the end
 * of the turn; a batch shares one id and one promise among its writes. A
 * write made while none is in flight goes out at the end of its task (a
 * microtask: no wait); while writes are in flight the turn lasts until the
 * I/O callbacks that were ready have run (`setImmediate`), so that under
 * concurrent load (a server's requests, each a task of its own) many writes
 * share one message, one frame and one acknowledgement.
 * Acknowledgements are cumulative: the peer acknowledges at once each time it
 * has applied `STATES_PER_ACK` states (and the rest of a burst after it), so
 * the writer resumes while the peer applies the rest of a burst. A peer that leaves releases its batches; a
 * peer that stays silent past `ackTimeout` is disconnected, which releases them
 * too, and must resync when it comes back.
 */
export class WriteFanout implements WriteReplicator {
  private readonly peers = new Map<string, PeerQueue>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  /** The batch this turn's writes are added to; sent at the end of the turn. */
  private open: OutgoingBatch | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ackTimeout: number,
  ) {}

  /**
   * Starts sending writes to `peer`. If the peer already had a link (a
   * duplicate connection won, or the link was replaced), its batches in flight
   * are sent again on the new one: the old link may not have delivered them,
   * and applying a state twice changes nothing.
   */
  add(peer: FanoutPeer): void {
    const previous = this.peers.get(peer.name);
    const inFlight = previous?.inFlight ?? [];
    const queue: PeerQueue = { peer, inFlight, writes: previous?.writes ?? 0, lag: previous?.lag ?? 0, unsent: 0 };
    this.peers.set(peer.name, queue);
    for (const batch of inFlight) peer.send(batch.message);
    this.watchdog ??= setInterval(() => this.checkTimeouts(), Math.max(10, Math.floor(this.ackTimeout / 4))).unref();
  }

  /** Stops sending to the peer and releases the writes that waited for it. */
  remove(name: string): void {
    const queue = this.peers.get(name);
    if (queue === undefined) return;
    this.peers.delete(name);
    for (const batch of queue.inFlight) batch.release();
    if (this.peers.size === 0) this.stop();
  }

  /** Whether a write made now goes to any peer. */
  get sending(): boolean {
    return this.peers.size > 0;
  }

  /** Names of the peers writes go to. */
  names(): string[] {
    return [...this.peers.keys()];
  }

  /** Sends states to every peer (but `except`); resolves when all of them have applied them. */
  replicate(table: Table, states: readonly EntryState[], except?: string): Promise<void> {
    const targets = except === undefined ? this.peers.size : this.peers.size - (this.peers.has(except) ? 1 : 0);
    if (targets === 0) return NO_PEERS;
    let batch = this.open;
    if (batch === undefined || batch.except !== except || batch.states >= STATES_PER_ACK) {
      if (batch === undefined) this.scheduleFlush();
      else this.close(batch);
      batch = this.open = new OutgoingBatch(this.nextId++, this.clock.now(), except);
    }
    batch.add(table.name, states);
    return batch.done;
  }

  /** Sends the open batch at the end of this task when nothing is in flight, else once the ready I/O has run. */
  private scheduleFlush(): void {
    for (const queue of this.peers.values()) {
      if (queue.inFlight.length > 0) {
        setImmediate(this.flushTurn);
        return;
      }
    }
    queueMicrotask(this.flushTurn);
  }

  private readonly flushTurn = (): void => this.flush();

  /** Queues a full batch for its peers. */
  private close(batch: OutgoingBatch): void {
    let peers = 0;
    for (const [name, queue] of this.peers) {
      if (name === batch.except) continue;
      queue.inFlight.push(batch);
      queue.writes += batch.writes;
      queue.unsent++;
      peers++;
    }
    batch.sendTo(peers);
  }

  /** End of the turn: sends each peer its batches of the turn, one message each. */
  private flush(): void {
    if (this.open !== undefined) this.close(this.open);
    this.open = undefined;
    for (const queue of this.peers.values()) {
      const { inFlight, unsent } = queue;
      for (let i = inFlight.length - unsent; i < inFlight.length; i++) queue.peer.send(inFlight[i].message, inFlight[i].shared);
      queue.unsent = 0;
    }
  }

  /** The peer has applied every write up to `id`. */
  acknowledge(name: string, id: number): void {
    const queue = this.peers.get(name);
    if (queue === undefined) return;
    const inFlight = queue.inFlight;
    let done = 0;
    while (done < inFlight.length && inFlight[done].id <= id) {
      const batch = inFlight[done++];
      queue.writes -= batch.writes;
      batch.release();
    }
    if (done === 0) return;
    queue.lag = this.clock.now() - inFlight[done - 1].sentAt;
    inFlight.splice(0, done);
    queue.unsent = Math.min(queue.unsent, inFlight.length);
  }

  /** Writes in flight to each peer, those of the batch not sent yet included (for stats). */
  backlog(): Record<string, number> {
    const open = this.open;
    return Object.fromEntries([...this.peers].map(([name, q]) => [name, q.writes + (open === undefined || open.except === name ? 0 : open.writes)]));
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
