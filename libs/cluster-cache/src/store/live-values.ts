import type { EntryState } from './entry';
import type { KeyPart } from './key';

/**
 * Scalar keys mapped straight to their values, for as long as those values are
 * surely live: every value held here stays live until at least `until`. A read
 * whose clock is before `until` takes its value from here without loading the
 * key's state to check expiry — at 1M entries that state is one more dependent
 * cache miss, the largest cost of a get after the Map lookup itself.
 *
 * Filled by reads, not writes: a read that had to load the state puts its
 * value here (`fill`). A write of a key new to the namespace therefore pays
 * nothing here, an overwrite one `drop`, and entries never read cost no slot.
 *
 * Sweeps move `until` forward, after taking out the values that expire before
 * the new `until` (`Table.sweep`). A read after `until` (no sweep for a while)
 * goes to the state, as every read of an array key does.
 */
export class LiveValues {
  private readonly values = new Map<KeyPart, unknown>();
  private live = 0;

  /** Every value held stays live until at least this time (ms since the epoch). */
  get until(): number {
    return this.live;
  }

  /** The key's value if it is surely live at `now`; `undefined` means: ask the key's state. */
  get(key: KeyPart, now: number): unknown {
    return now < this.live ? this.values.get(key) : undefined;
  }

  /**
   * A read at `now` found `state` as its scalar key's current state: holds its
   * value if it stays live until `until`. A tombstone's value is undefined: it
   * is never held.
   */
  fill(key: KeyPart, state: EntryState, now: number): void {
    if (now < this.live && state.expiresAt >= this.live && state.value !== undefined) this.values.set(key, state.value);
  }

  /** The key's value changed, may expire soon or is gone: reads of it go to its state. */
  drop(key: KeyPart): void {
    this.values.delete(key);
  }

  /** Moves `until` forward; the caller dropped every value that expires before `until` first. */
  extend(until: number): void {
    if (until > this.live) this.live = until;
  }

  clear(): void {
    this.values.clear();
  }
}
