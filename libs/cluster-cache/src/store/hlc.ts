import { Clock } from './clock';

/**
 * Versions are hybrid logical clock timestamps packed into one double:
 * `(wall ms since VERSION_EPOCH) * 4096 + counter`. 41 bits of milliseconds
 * (69 years) and a 12-bit counter fit in a double's 53-bit mantissa exactly, so
 * versions compare with `<` and cost no allocation. A counter that overflows
 * simply carries into the millisecond part, which keeps the order.
 */
export const VERSION_EPOCH = Date.UTC(2024, 0, 1);
const COUNTER_SPAN = 4096;

/** The wall time (ms since the epoch) that a version was made at. */
export function versionTime(version: number): number {
  return Math.floor(version / COUNTER_SPAN) + VERSION_EPOCH;
}

/** The smallest version made at wall time `ms` (for comparisons with the wall clock). */
export function versionAt(ms: number): number {
  return (ms - VERSION_EPOCH) * COUNTER_SPAN;
}

/**
 * A hybrid logical clock (Kulkarni et al.): each version is greater than every
 * version this node made or saw before, and stays close to the wall clock.
 * If the wall clock goes backwards the versions keep increasing.
 */
export class HybridLogicalClock {
  private last = 0;

  constructor(private readonly clock: Clock) {}

  /** A new version, greater than any made or observed so far. */
  next(): number {
    const physical = versionAt(this.clock.now());
    this.last = physical > this.last ? physical : this.last + 1;
    return this.last;
  }

  /** Takes in a version seen from another node, so later local versions sort after it. */
  observe(version: number): void {
    if (version > this.last) this.last = version;
  }

  /** The last version made or observed. */
  peek(): number {
    return this.last;
  }
}
