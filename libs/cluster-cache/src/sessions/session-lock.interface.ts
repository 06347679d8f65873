/**
 * A non-blocking lock over the whole cluster, used so that one session is
 * rotated by one node at a time (Pow uses `:global.set_lock` with no retries).
 */
export interface SessionLock {
  /**
   * Runs `fn` if the lock on `resource` could be taken at once, and releases
   * it afterwards. Resolves to `{ acquired: false }` without running `fn` when
   * someone else holds it.
   */
  tryWith<T>(resource: string, fn: () => Promise<T>): Promise<{ acquired: true; result: T } | { acquired: false }>;
}

/** A lock that only knows this process: enough for a single node. */
export class LocalSessionLock implements SessionLock {
  private readonly held = new Set<string>();

  async tryWith<T>(resource: string, fn: () => Promise<T>): Promise<{ acquired: true; result: T } | { acquired: false }> {
    if (this.held.has(resource)) return { acquired: false };
    this.held.add(resource);
    try {
      return { acquired: true, result: await fn() };
    } finally {
      this.held.delete(resource);
    }
  }
}
