import type { EntryState } from '../store/entry';
import { FlatStates, putFlat, STATE_FIELDS } from './flat-states';
import type { WriteMessage } from './messages';

/**
 * Consecutive local writes that go to the same peers as one `write` message
 * and are acknowledged together: one id, one promise shared by its writes and
 * one entry per peer in flight — all the ack timeout needs, whatever the
 * number of writes (an async write costs no promise of its own).
 */
export class OutgoingBatch {
  readonly message: WriteMessage;
  /** States and writes in it. */
  states = 0;
  writes = 0;
  /** Resolves once every peer it was sent to has applied it (or left). */
  readonly done: Promise<void>;
  private resolve!: () => void;
  /** Peers that have not applied it yet. */
  private remaining = 0;
  /** The state added last to the last table batch (see putFlat). */
  private lastState: EntryState | undefined;

  constructor(
    readonly id: number,
    /** When its first write was made: the ack timeout and the lag count from here. */
    readonly sentAt: number,
    /** The peer it does not go to (where its states came from), if any. */
    readonly except: string | undefined,
  ) {
    this.message = { t: 'write', id, batches: [] };
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  /** Adds one write; consecutive writes to one table share a table batch. */
  add(table: string, states: readonly EntryState[]): void {
    const batches = this.message.batches;
    const last = batches[batches.length - 1];
    let flat: FlatStates;
    if (last !== undefined && last[0] === table) flat = last[1];
    else {
      batches.push([table, (flat = [])]);
      this.lastState = undefined;
    }
    for (const state of states) {
      putFlat(flat, flat.length / STATE_FIELDS, state, this.lastState);
      this.lastState = state;
    }
    this.states += states.length;
    this.writes++;
  }

  /**
   * Whether it goes to several peers: then it is encoded once for all of them
   * (a shared frame), else in its link's own, more compact stream.
   */
  shared = false;

  /** It goes to `peers` peers (resolved at once if none). */
  sendTo(peers: number): void {
    this.remaining = peers;
    this.shared = peers > 1;
    if (peers === 0) this.resolve();
  }

  /** One peer applied it, or is gone. */
  release(): void {
    if (--this.remaining === 0) this.resolve();
  }
}
