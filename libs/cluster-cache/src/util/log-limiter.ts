/** What {@link LogLimiter} allows. */
export interface LogLimiterOptions {
  /** Lines allowed per key and window. */
  lines: number;
  /** The window, in ms. */
  window: number;
  /** Keys remembered at most (the oldest is forgotten first). Default 256. */
  keys?: number;
}

/**
 * Rate-limits log lines that an outside party can make repeat (a bad line in
 * a file that keeps changing, an oversized DNS answer every poll): at most
 * `lines` lines per key in each `window`. The first line allowed after some
 * were held back says how many. Memory is bounded by `keys`.
 *
 * @example
 * const limiter = new LogLimiter({ lines: 1, window: 60_000 });
 * const line = limiter.take('oversized', 'dns discovery: 900 addresses in one answer, using 128');
 * if (line !== undefined) logger.warn(line);
 */
export class LogLimiter {
  private readonly seen = new Map<string, { since: number; count: number; held: number }>();

  constructor(
    private readonly options: LogLimiterOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** `message` (with a count of the lines held back since the last one) if it may be logged now, else `undefined`. */
  take(key: string, message: string): string | undefined {
    const now = this.now();
    let entry = this.seen.get(key);
    if (entry === undefined || now - entry.since >= this.options.window) {
      const held = entry?.held ?? 0;
      this.seen.delete(key);
      entry = { since: now, count: 0, held };
      this.seen.set(key, entry);
      const most = this.options.keys ?? 256;
      while (this.seen.size > most) this.seen.delete(this.seen.keys().next().value!);
    }
    if (entry.count >= this.options.lines) {
      entry.held++;
      return undefined;
    }
    entry.count++;
    const held = entry.held;
    entry.held = 0;
    return held === 0 ? message : `${message} (${held} similar line(s) not logged before this one)`;
  }

  /** How many keys it remembers (at most `keys`). */
  get size(): number {
    return this.seen.size;
  }
}
