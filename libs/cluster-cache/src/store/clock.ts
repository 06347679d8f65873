/**
 * A source of wall-clock time in milliseconds since the epoch. Everything that
 * reads the time (expiry, versions, sweeps) takes one, so tests can move time
 * by hand instead of sleeping.
 * @publicApi
 */
export interface Clock {
  now(): number;
}

let turnTime = 0;
let turnFresh = false;

/**
 * The real wall clock, read once per event-loop turn: `Date.now()` is a
 * serialising system call on many machines and costs more than a whole cache
 * lookup, so every read in the same turn shares one reading (at most one turn
 * old — far below any TTL's precision).
 * @publicApi
 */
export const systemClock: Clock = {
  now(): number {
    if (!turnFresh) {
      turnTime = Date.now();
      turnFresh = true;
      setImmediate(endTurn).unref();
    }
    return turnTime;
  },
};

function endTurn(): void {
  turnFresh = false;
}

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
