import type { CacheEngine } from '../engine/cache-engine';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { bucketCount, differingBuckets } from './digest';
import { differencesInSlices, joinParts, keySummariesInSlices, SummaryPart, summaryParts } from './key-summaries';
import { CallHandler, ChunkHandler, ReplyParts } from './peer-calls';
import { float64Bytes, float64sOf, uint32Bytes, uint32sOf } from './wire-arrays';

/** How long one step of a heal may take, in ms (a step may move many entries). */
export const HEAL_STEP_TIMEOUT = 60_000;

/** Most key hashes in one fetch request (8 MB): more go in several requests, each within the 16 MiB frame limit. */
export const FETCH_BATCH_KEYS = 1_000_000;

/** What anti-entropy needs of its node (`ClusterNode`): requests between nodes, copies, and sending states on. */
export interface SyncHost {
  handle(kind: string, handler: CallHandler): void;
  call<T>(peer: string, kind: string, body: unknown, timeout?: number): Promise<T>;
  callInParts<T>(peer: string, kind: string, body: unknown, timeout?: number): Promise<T[]>;
  pull(peer: string, tables: readonly string[], onChunk: ChunkHandler, keys?: Float64Array, since?: number): Promise<void>;
  replicatedTables(): Table[];
  spread(table: Table, states: readonly EntryState[], except?: string): void;
}

interface DigestRequest {
  table: string;
  count: number;
}

interface SummaryRequest extends DigestRequest {
  buckets: number[];
}

interface FetchRequest {
  table: string;
  /** Key hashes, as Float64 bytes. */
  keys: Uint8Array;
}

/**
 * Anti-entropy between two nodes: afterwards both hold, per key, the winning
 * state (newer write; a delete over a write that had not seen it). The nodes
 * compare a digest per bucket of keys (kept up to date by the tables), then,
 * for the buckets that differ, a summary per key (key-summaries.ts), and
 * finally send each other the states of the keys that differ — only the
 * winning side's state when the summaries tell which wins — both directions
 * at once. Used by the `merge` heal and to resync a peer that was dropped for
 * not acknowledging writes.
 *
 * The steps that go over a whole table (the first digests, the key
 * summaries, their comparison) run a slice per event-loop turn, on both
 * nodes: at a million entries each takes most of a second, and a node that
 * blocks its event loop that long misses its heartbeats and is taken for dead.
 */
export class AntiEntropy {
  constructor(
    private readonly node: SyncHost,
    private readonly engine: CacheEngine,
  ) {
    node.handle('sync.digests', async (_from, body) => {
      const { table, count } = body as DigestRequest;
      const t = this.table(table);
      await t.prepareDigests();
      return uint32Bytes(t.liveDigests(count, this.now()));
    });
    node.handle('sync.summaries', async (_from, body) => {
      const { table, count, buckets } = body as SummaryRequest;
      return new ReplyParts(summaryParts(await keySummariesInSlices(this.table(table), count, buckets, this.now())));
    });
    node.handle('sync.fetch', (from, body) => {
      const { table, keys } = body as FetchRequest;
      return this.fetch(from, this.table(table), float64sOf(keys));
    });
  }

  /** Merges this node's replicated tables with `peer`'s; resolves to the number of states that changed here and there. */
  async sync(peer: string): Promise<number> {
    let changed = 0;
    for (const table of this.node.replicatedTables()) {
      const count = bucketCount(table.size);
      const theirDigests = this.node.call<Uint8Array>(peer, 'sync.digests', { table: table.name, count } satisfies DigestRequest, HEAL_STEP_TIMEOUT);
      // Awaited after this node's own digests: a link that drops meanwhile must not reject it unobserved.
      theirDigests.catch(() => undefined);
      await table.prepareDigests();
      const buckets = differingBuckets(table.liveDigests(count, this.now()), uint32sOf(await theirDigests));
      if (buckets.length === 0) continue;
      const theirSummaries = this.node.callInParts<SummaryPart>(peer, 'sync.summaries', { table: table.name, count, buckets } satisfies SummaryRequest, HEAL_STEP_TIMEOUT);
      // Awaited below, after a turn: a link that drops meanwhile must not reject it unobserved (that ends the process).
      theirSummaries.catch(() => undefined);
      // The peer computes its summaries while this node computes its own: only once the request has left.
      await requestSent();
      const mine = await keySummariesInSlices(table, count, buckets, this.now());
      const { wanted, offered } = await differencesInSlices(mine, joinParts(await theirSummaries));
      changed += await this.exchange(peer, table, wanted, offered);
    }
    return changed;
  }

  /** Fetches the `wanted` keys from `peer` while it fetches the `offered` ones from this node, in batches that fit in a frame. */
  private async exchange(peer: string, table: Table, wanted: Float64Array, offered: Float64Array): Promise<number> {
    let changed = 0;
    for (let from = 0; from < Math.max(wanted.length, offered.length); from += FETCH_BATCH_KEYS) {
      const want = wanted.subarray(from, from + FETCH_BATCH_KEYS);
      const offer = offered.subarray(from, from + FETCH_BATCH_KEYS);
      const [fetched, pushed] = await Promise.all([
        want.length > 0 ? this.fetch(peer, table, want) : 0,
        offer.length > 0 ? this.node.call<number>(peer, 'sync.fetch', { table: table.name, keys: float64Bytes(offer) } satisfies FetchRequest, HEAL_STEP_TIMEOUT) : 0,
      ]);
      changed += fetched + pushed;
    }
    return changed;
  }

  /**
   * Pulls `peer`'s states of some keys of `table`, merges them, and passes
   * those that won on to the rest of this node's island; returns how many won.
   */
  private async fetch(peer: string, table: Table, keys: Float64Array): Promise<number> {
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

/** Resolves once messages sent in this tick have left: links flush on a microtask, after the current task. */
function requestSent(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
