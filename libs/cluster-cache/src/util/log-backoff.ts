/** What {@link LogBackoff} allows. */
export interface LogBackoffOptions {
  /** Wait after a key's first line before the next one may be logged, in ms; each later wait doubles. */
  first: number;
  /** Longest wait between two lines of one key, in ms. */
  max: number;
  /** Keys remembered at most (the oldest is forgotten first). Default 256. */
  keys?: number;
}

/**
 * Logs a failure that keeps coming back (a peer refusing every handshake
 * because the cookies differ, a member that stays away) less and less often:
 * the first line at once, the next after `first` ms, then after doubling waits
 * up to `max`. A line after some were held back says how many. The same key
 * with another `kind` of failure is logged at once, and `forget` (the failure
 * is over) starts the key over.
 *
 * @example
 * const backoff = new LogBackoff({ first: 5_000, max: 300_000 });
 * const line = backoff.take('10.0.0.6:14000', 'auth-failed', 'Handshake with 10.0.0.6:14000 failed: the cookies differ');
 * if (line !== undefined) logger.warn(line);
 */
export class LogBackoff {
  private readonly seen = new Map<string, { kind: string; next: number; wait: number; held: number }>();

  constructor(
    private readonly options: LogBackoffOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** `message` (with a count of the lines held back since the last one) if it may be logged now, else `undefined`. */
  take(key: string, kind: string, message: string): string | undefined {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry === undefined || entry.kind !== kind) {
      this.seen.delete(key);
      this.seen.set(key, { kind, next: now + this.options.first, wait: this.options.first, held: 0 });
      const most = this.options.keys ?? 256;
      while (this.seen.size > most) this.seen.delete(this.seen.keys().next().value!);
      return message;
    }
    if (now < entry.next) {
      entry.held++;
      return undefined;
    }
    const held = entry.held;
    entry.held = 0;
    entry.wait = Math.min(this.options.max, entry.wait * 2);
    entry.next = now + entry.wait;
    return held === 0 ? message : `${message} (${held} more time(s) since the last line like this; the next in ${formatWait(entry.wait)} at the earliest)`;
  }

  /** The failure of `key` is over: its next one is logged at once. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  /** How many keys it remembers (at most `keys`). */
  get size(): number {
    return this.seen.size;
  }
}

function formatWait(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
