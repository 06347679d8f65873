import type { CacheEngine } from '../engine/cache-engine';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import type { ClusterNode } from '../replication/cluster-node';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { HEAL_STEP_TIMEOUT } from '../replication/anti-entropy';

/** A node of an island and when it started. */
interface IslandMember {
  name: string;
  startedAt: number;
}

/** What the tables allowed to be flushed by a heal are. */
export type FlushPolicy = (table: Table) => boolean;

/** A heal that cannot run because tables that may not be flushed would be. @publicApi */
export class UnflushableTablesError extends ClusterCacheError {
  constructor(
    readonly tables: string[],
    peer: string,
  ) {
    super(`Can't force reload unexpected tables ${JSON.stringify(tables)} to heal ${peer}: allow them with unsplit.flushTables`);
  }
}

/**
 * The `oldest-wins` heal (Pow's Unsplit): the island holding the node that has
 * been up longest keeps its data; every node of the other island flushes its
 * replicated tables and reloads them from the winner. A replicated table that
 * may not be flushed blocks the heal. Local tables are never touched.
 */
export class OldestWinsHeal {
  constructor(
    private readonly node: ClusterNode,
    private readonly engine: CacheEngine,
    private readonly mayFlush: FlushPolicy,
  ) {
    node.handle('unsplit.island', () => this.island());
    node.handle('unsplit.reload', (_from, body) => this.reload((body as { source: string }).source));
  }

  /** The tables a heal would flush but may not. */
  unflushable(): string[] {
    return this.node.replicatedTables().filter((t) => !this.mayFlush(t)).map((t) => t.name);
  }

  /**
   * Heals the split with `peer`. Resolves to the losers' names and the number
   * of states reloaded (0 and no losers if the islands already overlap).
   */
  async heal(peer: string): Promise<{ losers: string[]; reloaded: number; winner: string }> {
    const blocked = this.unflushable();
    if (blocked.length > 0) throw new UnflushableTablesError(blocked, peer);
    const mine = this.island();
    const theirs = await this.node.call<IslandMember[]>(peer, 'unsplit.island', {}, HEAL_STEP_TIMEOUT);
    const oldest = [...mine, ...theirs].sort((a, b) => a.startedAt - b.startedAt || (a.name < b.name ? -1 : 1))[0];
    if (theirs.some((t) => mine.some((m) => m.name === t.name))) return { losers: [], reloaded: 0, winner: oldest.name };
    const iWin = mine.some((m) => m.name === oldest.name);
    const losers = (iWin ? theirs : mine).map((m) => m.name);
    const source = iWin ? this.node.self.name : peer;
    let reloaded = 0;
    for (const loser of losers) {
      reloaded += loser === this.node.self.name ? await this.reload(source) : await this.node.call<number>(loser, 'unsplit.reload', { source }, HEAL_STEP_TIMEOUT);
    }
    return { losers, reloaded, winner: oldest.name };
  }

  private island(): IslandMember[] {
    return this.node.island().map((name) => ({ name, startedAt: name === this.node.self.name ? this.node.self.startedAt : (this.node.peer(name)?.startedAt ?? Infinity) }));
  }

  /**
   * Flushes this node's flushable replicated tables and reloads them from
   * `source`, without a moment of emptiness: the copy is collected aside and
   * swapped in at once, then what changed meanwhile is applied again.
   */
  private async reload(source: string): Promise<number> {
    const tables = this.node.replicatedTables().filter(this.mayFlush);
    const names = new Set(tables.map((t) => t.name));
    const copy = new Map<Table, EntryState[]>(tables.map((t) => [t, []]));
    const since = new Map<Table, EntryState[]>(tables.map((t) => [t, []]));
    const untap = this.engine.tap((table, states) => {
      if (names.has(table.name)) append(since.get(table)!, states);
    });
    try {
      await this.node.pull(source, [...names], (table, states) => append(copy.get(table)!, states));
    } finally {
      untap();
    }
    let reloaded = 0;
    for (const table of tables) {
      await this.engine.replace(table, copy.get(table)!, since.get(table)!);
      reloaded += table.size;
    }
    return reloaded;
  }
}

/** Appends without spreading (a spread of 100k arguments overflows the stack). */
function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}
