/** Sizes (BENCH_* env overrides), fixtures and the shared report state of the store bench. */
import { ClusterCache } from '../../libs/cluster-cache/src/cache/cluster-cache';
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import { Store } from '../../libs/cluster-cache/src/store/store';
import type { Figure } from '../util/results';

const env = (name: string, fallback: number) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);

/** Entries of the get / all / memory tables. */
export const N = env('BENCH_N', 1_000_000);
/** Inserts per timed put run (into an empty structure). */
export const N_PUT = env('BENCH_N_PUT', 100_000);
/** Users × sessions of the all() table. */
export const USERS = env('BENCH_USERS', 100_000);
export const PER_USER = env('BENCH_PER_USER', 10);
/** all() queries per run, and full-scan queries per run. */
export const QUERIES = env('BENCH_QUERIES', 10_000);
export const SCAN_QUERIES = env('BENCH_SCAN_QUERIES', 5);
/** Sessions per user in the SessionCache memory build (N / this many users). */
export const SESSIONS_PER_USER = env('BENCH_MEM_PER_USER', 2);
/** Entries of the (discarded) warm-up build of the memory section: it only warms the JIT. */
export const MEM_WARMUP_N = env('BENCH_MEM_WARMUP_N', 100_000);
/** Memory builds yield to the event loop this often (see sectionMem). */
export const YIELD_EVERY = 1000;
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** SessionCache.create stores one record; the per-user index is derived locally, not stored as entries. */
export const ENTRIES_PER_SESSION = 1;
export const RUNS = env('BENCH_RUNS', 5);
export const MEM_RUNS = env('BENCH_MEM_RUNS', 3);
export const TTL = 30 * 60_000;
export const PUT_OPTS = { ttl: TTL } as const;

export const NODE_OPTS = { writes: 'sync' as const, sweepInterval: 1000, logger: { log() {}, error() {}, warn() {} } };

/** A ClusterCache on its own Store, with the real clock and no default TTL. */
export function systemCache<V>(engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS)): ClusterCache<V> {
  const table = engine.store.table('sessions') ?? engine.store.addTable('sessions', 'replicated');
  return new ClusterCache<V>(engine, table, 'cache', undefined);
}

export interface Summary {
  target: string;
  value: string;
  met: boolean | undefined;
}
export const summaries: Summary[] = [];
/** This process's figures for the results file (a section's child prints them; the parent collects them). */
export const figures: Figure[] = [];
export const out = (s = '') => process.stdout.write(s + '\n');
export const runsCol = (xs: number[], f: (x: number) => string) => xs.map(f).join(' · ');
