/**
 * Calls for the same key that overlap share one run: the first caller starts
 * it, later callers get the same promise until it settles.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The run under way for `key`, if any. */
  current(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }

  /** Starts `run` for `key`, or joins the run already under way. */
  run(key: string, run: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current !== undefined) return current;
    const started = run().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
