import type { EntryState } from './entry';
import { MinHeap } from './min-heap';
import type { Sliced, TimedSlice } from '../util/slices';

/** Expiry times are grouped into buckets of this many ms. */
const BUCKET_MS = 1000;

/**
 * What the index lists: a state, or the reference of a record in a resting
 * index (see `RestingIndex`: its states are not objects); a negative number
 * lists nothing (a record a compaction found dropped).
 */
export type Listed = EntryState | number;

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
  private readonly buckets = new Map<number, Listed[]>();
  private readonly due = new MinHeap();
  private listed = 0;

  /** States listed, overwritten ones included. */
  get size(): number {
    return this.listed;
  }

  add(state: EntryState): void {
    this.list(state, state.expiresAt);
  }

  /** Lists the record `ref` of a resting index, whose state expires at `expiresAt`. */
  addRef(ref: number, expiresAt: number): void {
    this.list(ref, expiresAt);
  }

  private list(state: Listed, expiresAt: number): void {
    this.listed++;
    const bucket = Math.floor(expiresAt / BUCKET_MS);
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
  drain(now: number, visit: (state: Listed) => void): void {
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
  forEachDue(now: number, visit: (state: Listed) => void): void {
    const last = Math.floor(now / BUCKET_MS);
    if (this.due.peek() === undefined || this.due.peek()! > last) return;
    for (const [bucket, list] of this.buckets) if (bucket <= last) for (const state of list) visit(state);
  }

  /**
   * Hands every listed item, overwritten states included, to `rewrite` and
   * lists what it returns in its place (undefined: nothing), a slice of
   * `slice` at a time: a compaction moves the records of resting states and
   * rewrites their references (see `RecordSlab.compaction`). Writes and
   * sweeps in between go on as usual.
   */
  *rewrite(rewrite: (listed: Listed) => Listed | undefined, slice: TimedSlice): Sliced<void> {
    for (const [bucket, list] of this.buckets) {
      const length = list.length;
      let unlisted = 0;
      // By index: a write meanwhile may push onto the list; order within a bucket does not matter.
      for (let i = 0; i < list.length; i++) {
        const kept = rewrite(list[i]);
        if (kept !== undefined) {
          list[i] = kept;
        } else {
          list[i] = list[list.length - 1];
          list.pop();
          this.listed--;
          unlisted++;
          i--;
        }
        if (slice.over()) {
          yield;
          slice.next();
          // Drained (or the index cleared) meanwhile: the list is no longer listed.
          if (this.buckets.get(bucket) !== list) break;
        }
      }
      // An array keeps the room it once had: a list that lost half of it is copied.
      if (unlisted * 2 >= length && unlisted > 0 && this.buckets.get(bucket) === list) this.buckets.set(bucket, list.slice());
    }
  }

  /** Lists exactly what `forEachListed` hands out (the current states, and records of resting indexes), forgetting every overwritten state. */
  rebuild(forEachListed: (visit: (state: EntryState) => void, visitRef: (ref: number, expiresAt: number) => void) => void): void {
    this.clear();
    forEachListed(
      (state) => this.add(state),
      (ref, expiresAt) => this.addRef(ref, expiresAt),
    );
  }

  clear(): void {
    this.buckets.clear();
    while (this.due.pop() !== undefined);
    this.listed = 0;
  }
}
