import type { EntryState } from './entry';
import { MinHeap } from './min-heap';

/** Expiry times are grouped into buckets of this many ms. */
const BUCKET_MS = 1000;

/**
 * Which states expire when, so that a sweep touches only what expired
 * (O(expired)) and no per-key timer exists (Node's timers overflow past 24.8
 * days; Pow's one-timer-per-key costs memory on every node).
 *
 * Buckets are filled lazily: an overwritten state stays in its old bucket and is
 * skipped at sweep time when it is no longer the key's current state. Until
 * then it keeps the old state (and its value) in memory, so the owner rebuilds
 * the index from the current states when overwrites pile up (`rebuild`).
 */
export class ExpiryIndex {
  private readonly buckets = new Map<number, EntryState[]>();
  private readonly due = new MinHeap();
  private listed = 0;

  /** States listed, overwritten ones included. */
  get size(): number {
    return this.listed;
  }

  add(state: EntryState): void {
    this.listed++;
    const bucket = Math.floor(state.expiresAt / BUCKET_MS);
    const list = this.buckets.get(bucket);
    if (list === undefined) {
      this.buckets.set(bucket, [state]);
      this.due.push(bucket);
    } else {
      list.push(state);
    }
  }

  /**
   * Hands every state of every bucket that ended at or before `now` to `visit`
   * and forgets those buckets. States in the current bucket wait for the next
   * sweep; reads never return them anyway.
   */
  drain(now: number, visit: (state: EntryState) => void): void {
    const last = Math.floor(now / BUCKET_MS) - 1;
    for (let bucket = this.due.peek(); bucket !== undefined && bucket <= last; bucket = this.due.peek()) {
      this.due.pop();
      const list = this.buckets.get(bucket)!;
      this.buckets.delete(bucket);
      this.listed -= list.length;
      for (const state of list) visit(state);
    }
  }

  /**
   * Hands `visit` every state of the buckets that hold expiry times at or
   * before `now`, without forgetting them: what expired but was not swept yet,
   * plus (lazily kept) states that were overwritten meanwhile, and states of
   * the current second that expire later.
   */
  forEachDue(now: number, visit: (state: EntryState) => void): void {
    const last = Math.floor(now / BUCKET_MS);
    if (this.due.peek() === undefined || this.due.peek()! > last) return;
    for (const [bucket, list] of this.buckets) if (bucket <= last) for (const state of list) visit(state);
  }

  /** Every state listed, overwritten ones included (for a compaction: see `RecordSlab.compaction`). */
  *states(): IterableIterator<EntryState> {
    for (const list of this.buckets.values()) {
      // By index: a write meanwhile may push onto the list.
      for (let i = 0; i < list.length; i++) yield list[i];
    }
  }

  /** Lists exactly the states `forEachState` hands out (the current ones), forgetting every overwritten state. */
  rebuild(forEachState: (visit: (state: EntryState) => void) => void): void {
    this.clear();
    forEachState((state) => this.add(state));
  }

  clear(): void {
    this.buckets.clear();
    while (this.due.pop() !== undefined);
    this.listed = 0;
  }
}
