/**
 * A source of wall-clock time in milliseconds since the epoch. Everything that
 * reads the time (expiry, versions, sweeps) takes one, so tests can move time
 * by hand instead of sleeping.
 * @publicApi
 */
export interface Clock {
  now(): number;
}

/** The real wall clock (`Date.now`). @publicApi */
export const systemClock: Clock = { now: Date.now };

/**
 * A clock that only moves when told to: for tests of expiry and versions.
 * @publicApi
 */
export class ManualClock implements Clock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.time;
  }

  /** Moves the clock forwards (or backwards, with a negative amount) by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }

  /** Sets the clock to an absolute time in ms since the epoch. */
  set(time: number): void {
    this.time = time;
  }
}
