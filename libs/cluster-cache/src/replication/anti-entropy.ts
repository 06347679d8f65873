import type { CacheEngine } from '../engine/cache-engine';
import { bucketCount, bucketDigests, differingBuckets } from './digest';
import type { ClusterNode } from './cluster-node';
import type { Table } from '../store/table';

/** How long one step of a heal may take, in ms (a step may move many entries). */
export const HEAL_STEP_TIMEOUT = 60_000;

interface DiffRequest {
  table: string;
  count: number;
  digests: number[];
}

interface PushRequest {
  table: string;
  count: number;
  ids: number[];
}

/**
 * Anti-entropy between two nodes: afterwards both hold, per key, the winning
 * state (newer write; a delete over a write that had not seen it). The nodes
 * compare per-bucket digests and exchange only the states of buckets that
 * differ. Used by the `merge` heal and to resync a peer that was dropped for
 * not acknowledging writes.
 */
export class AntiEntropy {
  constructor(
    private readonly node: ClusterNode,
    private readonly engine: CacheEngine,
  ) {
    node.handle('unsplit.diff', (_from, body) => {
      const { table, count, digests } = body as DiffRequest;
      const mine = bucketDigests(this.table(table), count, engine.store.clock.now());
      return differingBuckets(mine, digests);
    });
    node.handle('unsplit.push', async (from, body) => {
      const { table, count, ids } = body as PushRequest;
      return this.fetch(from, this.table(table), count, ids);
    });
  }

  /** Merges this node's replicated tables with `peer`'s; resolves to the number of states that changed here and there. */
  async sync(peer: string): Promise<number> {
    let changed = 0;
    for (const table of this.node.replicatedTables()) {
      const count = bucketCount(table.size);
      const digests = bucketDigests(table, count, this.engine.store.clock.now());
      const ids = await this.node.call<number[]>(peer, 'unsplit.diff', { table: table.name, count, digests } satisfies DiffRequest, HEAL_STEP_TIMEOUT);
      if (ids.length === 0) continue;
      changed += await this.fetch(peer, table, count, ids);
      changed += await this.node.call<number>(peer, 'unsplit.push', { table: table.name, count, ids } satisfies PushRequest, HEAL_STEP_TIMEOUT);
    }
    return changed;
  }

  /**
   * Pulls `peer`'s states of some buckets of `table`, merges them, and passes
   * those that won on to the rest of this node's island; returns how many won.
   */
  private async fetch(peer: string, table: Table, count: number, ids: number[]): Promise<number> {
    let installed = 0;
    await this.node.pull(
      peer,
      [table.name],
      (t, states) => {
        const won = this.engine.merge(t, states);
        installed += won.length;
        this.node.spread(t, won);
      },
      { count, ids },
    );
    return installed;
  }

  private table(name: string): Table {
    const table = this.node.replicatedTables().find((t) => t.name === name);
    if (table === undefined) throw new Error(`no replicated table "${name}" on this node`);
    return table;
  }
}
