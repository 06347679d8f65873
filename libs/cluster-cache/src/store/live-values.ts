import type { EntryState } from './entry';
import type { KeyPart } from './key';

/**
 * Scalar keys mapped straight to their values, for as long as those values are
 * surely live: every value held here stays live until at least `until`. A read
 * whose clock is before `until` takes its value from here without loading the
 * key's state to check expiry — at 1M entries that state is one more dependent
 * cache miss, the largest cost of a get after the Map lookup itself.
 *
 * Sweeps move `until` forward, after taking out the values that expire before
 * the new `until` (`Table.sweep`). A read after `until` (no sweep for a while)
 * goes to the state, as every read of an array key does. Costs one Map slot
 * per live scalar entry.
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

  /** `state` became the current state of its scalar key. */
  installed(key: KeyPart, state: EntryState): void {
    // A tombstone's value is undefined: it is never held.
    if (state.value !== undefined && state.expiresAt >= this.live) this.values.set(key, state.value);
    else this.values.delete(key);
  }

  /** The key's value may expire soon or is gone: reads of it go to its state. */
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
