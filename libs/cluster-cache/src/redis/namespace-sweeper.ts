import { performance } from 'node:perf_hooks';
import { SWEEP } from './cache-scripts';
import type { RedisConnection, ScriptCall } from './redis-connection';
import type { NamespaceKeys } from './redis-keys';

/** How often the sweeper runs, in ms. */
export const SWEEP_INTERVAL = 1_000;
/** Most index members one sweep of one namespace drops (more: that namespace is swept again next time). */
export const SWEEP_BATCH = 1_000;
/** Most namespaces swept per run (the others wait for the next run, oldest due first). */
export const SWEEP_NAMESPACES = 64;

interface DueNamespace {
  keys: NamespaceKeys;
  at: number;
  writes: number;
}

/**
 * Keeps the key indexes of cache namespaces about the size of their live
 * entries without waiting for writes: every namespace this app wrote to is
 * swept when its next entry is due to expire (one `SWEEP` script: drop the
 * expired members, say when the next one expires), at most `SWEEP_BATCH`
 * members and `SWEEP_NAMESPACES` namespaces per run. A namespace whose
 * indexes are empty is forgotten until it is written again.
 *
 * So an index holds its live entries plus those expired in the last
 * `SWEEP_INTERVAL` and the 1–2 s its scores are rounded up by (see `WRITE`;
 * more only past `SWEEP_BATCH` expiries per second and namespace). Should every app stop, the indexes still go: they carry a Redis
 * TTL past their longest entry (see `WRITE`).
 */
export class NamespaceSweeper {
  /** Namespaces to sweep, by index key: when (`performance.now()`) their next member expires, and writes to it so far. */
  private readonly due = new Map<string, DueNamespace>();
  private readonly sweep: ScriptCall;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    connection: RedisConnection,
    private readonly interval = SWEEP_INTERVAL,
  ) {
    this.sweep = connection.script('nccSweep', SWEEP);
    connection.whenClosed(() => this.stop());
  }

  /** How many namespaces are waiting to be swept. */
  get size(): number {
    return this.due.size;
  }

  /** A write put entries into a namespace, the first of which expires in `ttl` ms. */
  wrote(keys: NamespaceKeys, ttl: number): void {
    const at = performance.now() + ttl;
    const known = this.due.get(keys.index);
    if (known === undefined) this.due.set(keys.index, { keys, at, writes: 1 });
    else {
      known.writes++;
      if (at < known.at) known.at = at;
    }
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.run(), this.interval);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  /** One run: the namespaces due, oldest first, at most `SWEEP_NAMESPACES`. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = performance.now();
      const due = [...this.due.values()]
        .filter((ns) => ns.at <= now)
        .sort((a, b) => a.at - b.at)
        .slice(0, SWEEP_NAMESPACES);
      await Promise.all(due.map((ns) => this.sweepOne(ns)));
      if (this.due.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } finally {
      this.running = false;
    }
  }

  private async sweepOne(ns: DueNamespace): Promise<void> {
    const before = ns.writes;
    try {
      const [dropped, next] = (await this.sweep([ns.keys.index, ns.keys.expiry], [SWEEP_BATCH])) as [number, number];
      if (this.due.get(ns.keys.index) !== ns) return;
      // A write during the sweep may have come after the script: the namespace is not empty, and its next expiry may be earlier.
      const written = ns.writes !== before;
      if (dropped >= SWEEP_BATCH) ns.at = 0;
      else if (next >= 0) ns.at = written ? Math.min(ns.at, performance.now() + next) : performance.now() + next;
      else if (!written) this.due.delete(ns.keys.index);
    } catch {
      // Redis unavailable: try again next run.
    }
  }
}
