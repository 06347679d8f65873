import type { EntryState } from './entry';
import { MinHeap } from './min-heap';
import type { Sliced, TimedSlice } from '../util/slices';

/** Expiry times are grouped into buckets of this many ms. */
const BUCKET_MS = 1000;

/**
 * `tidy` filters a bucket once at least this share of its listings is stale
 * (1 / TIDY_SHARE) and at least TIDY_MIN of them: a filter costs a check per
 * listing after a quarter as many overwrites, and what stale states hold
 * (values included) stays under about a quarter of each second's listings.
 */
const TIDY_SHARE = 4;
const TIDY_MIN = 32;

/**
 * What the index lists: a state, or the reference of a record in a resting
 * index (see `RestingIndex`: its states are not objects); a negative number
 * lists nothing (a record a compaction found dropped).
 */
export type Listed = EntryState | number;

/** The listings of one second, and how many of them went stale since it was last filtered (an estimate: `tidy` checks each). */
interface Bucket {
  items: Listed[];
  stale: number;
  /** Whether the bucket waits in `crowded` for `tidy`. */
  crowded: boolean;
}

/**
 * Which states expire when, so that a sweep touches only what expired
 * (O(expired)) and no per-key timer exists (Node's timers overflow past 24.8
 * days; Pow's one-timer-per-key costs memory on every node).
 *
 * An overwritten state is not looked for in its bucket (a scan of the
 * second's listings per write): the owner tells the index which bucket holds
 * a stale listing (`unlist`), and `tidy` filters a bucket once a good share
 * of it is stale. Until then the stale state (and its value) stays in memory,
 * and a sweep skips it because it is no longer its key's current state.
 */
export class ExpiryIndex {
  private readonly buckets = new Map<number, Bucket>();
  /** Buckets stale enough for `tidy` (a sweep must not visit every bucket: a long TTL makes one per second of it). */
  private crowded: Bucket[] = [];
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

  /** Lists a record's state woken into an object (`state`) in its record's second, whose listing of the record is stale now. */
  addWoken(state: EntryState): void {
    this.markStale(this.list(state, state.expiresAt));
  }

  private list(state: Listed, expiresAt: number): Bucket {
    this.listed++;
    const bucket = Math.floor(expiresAt / BUCKET_MS);
    let listings = this.buckets.get(bucket);
    if (listings === undefined) {
      listings = { items: [state], stale: 0, crowded: false };
      this.buckets.set(bucket, listings);
      this.due.push(bucket);
    } else {
      listings.items.push(state);
    }
    return listings;
  }

  /** One listing of a state that expires at `expiresAt` is stale: the table let go of the state (overwritten). */
  unlist(expiresAt: number): void {
    const listings = this.buckets.get(Math.floor(expiresAt / BUCKET_MS));
    if (listings !== undefined) this.markStale(listings);
  }

  private markStale(listings: Bucket): void {
    listings.stale++;
    if (!listings.crowded && listings.stale >= TIDY_MIN && listings.stale * TIDY_SHARE >= listings.items.length) {
      listings.crowded = true;
      this.crowded.push(listings);
    }
  }

  /**
   * Drops the listings `isCurrent` denies from the buckets `unlist` found
   * stale enough (see TIDY_SHARE). Not while a compaction rewrites the
   * buckets: it walks them by index.
   */
  tidy(isCurrent: (listed: Listed) => boolean): void {
    const crowded = this.crowded;
    this.crowded = [];
    for (const listings of crowded) {
      listings.crowded = false;
      // Drained meanwhile (no longer listed), or a compaction unlisted what was stale.
      if (listings.stale === 0) continue;
      const { items } = listings;
      let kept = 0;
      for (let i = 0; i < items.length; i++) if (isCurrent(items[i])) items[kept++] = items[i];
      this.listed -= items.length - kept;
      // V8 gives the room back once an array shrinks below half of it.
      items.length = kept;
      listings.stale = 0;
    }
  }

  /**
   * Hands every state of every bucket that ended at or before `now` to `visit`
   * and forgets those buckets. States in the current bucket wait for the next
   * sweep; reads never return them anyway. With `slice`, stops once it is
   * over, leaving what it did not hand out listed.
   * @returns whether nothing due is left.
   */
  drain(now: number, visit: (state: Listed) => void, slice?: TimedSlice): boolean {
    const last = Math.floor(now / BUCKET_MS) - 1;
    for (let bucket = this.due.peek(); bucket !== undefined && bucket <= last; bucket = this.due.peek()) {
      const listings = this.buckets.get(bucket)!;
      const { items } = listings;
      // From the end, so what is left is the bucket's list still (a compaction walks it by index).
      while (items.length > 0) {
        this.listed--;
        visit(items.pop()!);
        if (slice?.over() && items.length > 0) return false;
      }
      this.due.pop();
      this.buckets.delete(bucket);
      listings.stale = 0;
    }
    return true;
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
    for (const [bucket, { items }] of this.buckets) if (bucket <= last) for (const state of items) visit(state);
  }

  /**
   * Hands every listed item, overwritten states included, to `rewrite` and
   * lists what it returns in its place (undefined: nothing), a slice of
   * `slice` at a time: a compaction moves the records of resting states and
   * rewrites their references (see `RecordSlab.compaction`). Writes and
   * sweeps in between go on as usual.
   */
  *rewrite(rewrite: (listed: Listed) => Listed | undefined, slice: TimedSlice): Sliced<void> {
    for (const [bucket, listings] of this.buckets) {
      const list = listings.items;
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
          if (this.buckets.get(bucket) !== listings) break;
        }
      }
      // What it unlisted were records the table let go of: stale listings, mostly.
      listings.stale = Math.max(0, listings.stale - unlisted);
      // An array keeps the room it once had: a list that lost half of it is copied.
      if (unlisted * 2 >= length && unlisted > 0) listings.items = list.slice();
    }
  }

  clear(): void {
    this.buckets.clear();
    this.crowded = [];
    while (this.due.pop() !== undefined);
    this.listed = 0;
  }
}
