import type { ThrottlerStorage } from '@nestjs/throttler';
import { ANY, ClusterCache } from '@app/cluster-cache';

/** What `ThrottlerStorage.increment` resolves to (its type is not exported by name). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The demo's table for the counters (replicated, like `sessions`). */
export const THROTTLE_TABLE = 'throttle';

/**
 * @nestjs/throttler's storage over the replicated cache: a limit counts the
 * requests made on every node of the cluster, so behind a round-robin load
 * balancer 10 sign-in attempts a minute mean 10, not 10 per node.
 *
 * Each node writes only its own entry per key — the times of its recent hits
 * under `['hits', key, node]` — and reads the others': nodes never overwrite
 * each other's counts (no lost increments when two nodes count at once), and
 * the total is the sum. The window slides: a hit counts for `ttl` ms. A key
 * over its limit gets a `['blocked', key]` entry that every node sees, until
 * `blockDuration` has passed. Every entry expires on its own (the hits `ttl`
 * after the newest, the block with the block), so idle keys take no memory.
 *
 * With the default `writes: 'sync'`, `increment` resolves once the connected
 * nodes hold the hit, so the next request finds it on whichever node it
 * reaches. During a netsplit each side counts what it sees.
 *
 * Give it a cache of its own: the demo's is the `throttle` table, so the
 * counters show apart from the sessions on the page and in the metrics.
 */
export class ClusterThrottlerStorage implements ThrottlerStorage {
  private readonly cache: ClusterCache<number[] | number>;

  constructor(
    cache: ClusterCache,
    /** This node's name (its entries' key). */
    private readonly node: string,
  ) {
    this.cache = cache as ClusterCache<number[] | number>;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const id = `${throttlerName}:${key}`;
    const now = this.cache.clockNow();
    const since = now - ttl;
    const blockedUntil = this.cache.get(['blocked', id]);
    if (typeof blockedUntil === 'number' && blockedUntil > now) {
      return { totalHits: this.hits(id, since).length + 1, timeToExpire: seconds(ttl), isBlocked: true, timeToBlockExpire: seconds(blockedUntil - now) };
    }
    // Read and write with nothing awaited in between: the local apply is synchronous, so hits on this node are never lost.
    const own = this.cache.get(['hits', id, this.node]);
    // More than limit + 1 hits of one node never change the answer.
    const mine = [...(Array.isArray(own) ? own.filter((t) => t > since) : []), now].slice(-(limit + 1));
    const others = this.hits(id, since, true);
    const totalHits = others.length + mine.length;
    const oldest = others.reduce((a, b) => Math.min(a, b), mine[0]);
    const blocked = totalHits > limit;
    const written = this.cache.put(['hits', id, this.node], mine, { ttl });
    const block = blocked ? this.cache.put(['blocked', id], now + blockDuration, { ttl: blockDuration }) : undefined;
    await Promise.all([written, block]);
    return {
      totalHits,
      timeToExpire: seconds(oldest + ttl - now),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds(blockDuration) : 0,
    };
  }

  /** The times of the hits of `id` since `since`, on every node (or on the other nodes only). */
  private hits(id: string, since: number, othersOnly = false): number[] {
    const times: number[] = [];
    for (const [key, value] of this.cache.all(['hits', id, ANY])) {
      if (othersOnly && Array.isArray(key) && key[2] === this.node) continue;
      if (Array.isArray(value)) for (const t of value) if (t > since) times.push(t);
    }
    return times;
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
