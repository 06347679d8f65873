import type { CacheEngine } from '../engine/cache-engine';
import type { Table } from '../store/table';
import type { ClusterNode } from './cluster-node';
import { bucketCount, bucketDigests, differingBuckets, keySummaries } from './digest';

/** How long one step of a heal may take, in ms (a step may move many entries). */
export const HEAL_STEP_TIMEOUT = 60_000;

interface DigestRequest {
  table: string;
  count: number;
}

interface SummaryRequest extends DigestRequest {
  buckets: number[];
}

interface FetchRequest {
  table: string;
  keys: number[];
}

/**
 * Anti-entropy between two nodes: afterwards both hold, per key, the winning
 * state (newer write; a delete over a write that had not seen it). The nodes
 * compare a digest per bucket of keys, then a hash per key of the buckets that
 * differ, and finally send each other only the states of keys whose hashes
 * differ — both directions at once. Used by the `merge` heal and to resync a
 * peer that was dropped for not acknowledging writes.
 */
export class AntiEntropy {
  constructor(
    private readonly node: ClusterNode,
    private readonly engine: CacheEngine,
  ) {
    node.handle('sync.digests', (_from, body) => {
      const { table, count } = body as DigestRequest;
      return bucketDigests(this.table(table), count, this.now());
    });
    node.handle('sync.summaries', (_from, body) => {
      const { table, count, buckets } = body as SummaryRequest;
      return [...keySummaries(this.table(table), count, buckets, this.now())].flat();
    });
    node.handle('sync.fetch', (from, body) => {
      const { table, keys } = body as FetchRequest;
      return this.fetch(from, this.table(table), keys);
    });
  }

  /** Merges this node's replicated tables with `peer`'s; resolves to the number of states that changed here and there. */
  async sync(peer: string): Promise<number> {
    let changed = 0;
    for (const table of this.node.replicatedTables()) {
      const count = bucketCount(table.size);
      // Both sides compute their digests at the same time.
      const theirDigests = this.node.call<number[]>(peer, 'sync.digests', { table: table.name, count } satisfies DigestRequest, HEAL_STEP_TIMEOUT);
      const buckets = differingBuckets(bucketDigests(table, count, this.now()), await theirDigests);
      if (buckets.length === 0) continue;
      const theirSummaries = this.node.call<number[]>(peer, 'sync.summaries', { table: table.name, count, buckets } satisfies SummaryRequest, HEAL_STEP_TIMEOUT);
      const mine = keySummaries(table, count, buckets, this.now());
      const theirs = pairs(await theirSummaries);
      const wanted = [...theirs].filter(([key, hash]) => mine.get(key) !== hash).map(([key]) => key);
      const offered = [...mine].filter(([key, hash]) => theirs.get(key) !== hash).map(([key]) => key);
      const [fetched, pushed] = await Promise.all([
        wanted.length > 0 ? this.fetch(peer, table, wanted) : 0,
        offered.length > 0 ? this.node.call<number>(peer, 'sync.fetch', { table: table.name, keys: offered } satisfies FetchRequest, HEAL_STEP_TIMEOUT) : 0,
      ]);
      changed += fetched + pushed;
    }
    return changed;
  }

  /**
   * Pulls `peer`'s states of some keys of `table`, merges them, and passes
   * those that won on to the rest of this node's island; returns how many won.
   */
  private async fetch(peer: string, table: Table, keys: number[]): Promise<number> {
    let installed = 0;
    await this.node.pull(
      peer,
      [table.name],
      (t, states) => {
        const won = this.engine.merge(t, states);
        installed += won.length;
        this.node.spread(t, won, peer);
      },
      keys,
    );
    return installed;
  }

  private now(): number {
    return this.engine.store.clock.now();
  }

  private table(name: string): Table {
    const table = this.node.replicatedTables().find((t) => t.name === name);
    if (table === undefined) throw new Error(`no replicated table "${name}" on this node`);
    return table;
  }
}

/** [k1, v1, k2, v2, …] as a map. */
function pairs(flat: readonly number[]): Map<number, number> {
  const map = new Map<number, number>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}
