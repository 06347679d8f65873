/** What the compact-form benchmarks share: sizes, the node under test, states whose values are bytes. */
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { LmdbPersistenceDirectory } from '../../libs/cluster-cache/src/persistence/lmdb.persistence';
import { prng } from '../util/harness';
import { sessionKey, sessionValue } from '../util/session-data';
import { ClusterCache } from '../../libs/cluster-cache/src/cache/cluster-cache';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { Store } from '../../libs/cluster-cache/src/store/store';
import { EncodedValue } from '../../libs/cluster-cache/src/values/encoded-value';
import { encodeValue } from '../../libs/cluster-cache/src/values/value-codec';

const env = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));

/** Sessions per build. */
export const N = env('BENCH_N', 1_000_000);
/** Measured builds per layout (after one warm-up build of WARMUP_N). */
export const RUNS = env('BENCH_RUNS', 3);
export const WARMUP_N = env('BENCH_WARMUP_N', 100_000);
/** First reads timed one by one. */
export const FIRST_READS = env('BENCH_FIRST_READS', 100_000);
export const TTL = 30 * 60_000;
export const YIELD_EVERY = 1000;
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
export const NODE_OPTS = { writes: 'sync' as const, sweepInterval: 1000, logger: { log() {}, error() {}, warn() {} } };
export const out = (s = '') => process.stdout.write(s + '\n');

/** A node's engine with one replicated table, and a ClusterCache over namespace `cache`. */
export function node(): { engine: CacheEngine; cache: ClusterCache<unknown> } {
  const engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS);
  const table = engine.store.addTable('sessions', 'replicated');
  return { engine, cache: new ClusterCache<unknown>(engine, table, 'cache', undefined) };
}

/** A state from a peer whose value came as its bytes (what a join chunk or a peer write carries when it sends bytes). */
export function bytesState(ns: string, key: string, value: unknown, expiresAt: number, version: number): EntryState {
  const bytes = encodeValue(value);
  return { ns, key, value: new EncodedValue(bytes, 0, bytes.length), expiresAt, version, seen: 0, origin: 'b@127.0.0.1' };
}

/** One figure against its anchor, for the summary table and the results file. */
export interface Row {
  /** Stable id (the results file's figure id). */
  id: string;
  figure: string;
  measured: string;
  anchor: string;
  /** ours ÷ anchor; for a speed row the anchor's CPU over ours (above 1: faster). */
  ratio?: number;
  target: string;
  met: boolean | undefined;
  /** The figure as a number, its unit, and its anchor's, for the results file. */
  ours: number;
  unit: string;
  anchorValue?: { label: string; value: number };
}
export const rows: Row[] = [];

/** Writes `n` sessions to the `sessions` table of the data directory `dir` (the same sessions on every call: seeded). */
export async function writePersistedSessions(dir: string, n: number): Promise<void> {
  const disk = await LmdbPersistenceDirectory.open(dir, NODE_OPTS.logger);
  const persistence = await disk.table('sessions');
  const rand = prng(21);
  const keyRand = prng(22);
  const expiresAt = Date.now() + TTL;
  for (let i = 0; i < n; i += 10_000) {
    const states = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) states.push({ ns: 'cache', key: sessionKey(keyRand), value: sessionValue(j, rand), expiresAt: expiresAt + j, version: 1e15 + j, seen: 0, origin: 'b@127.0.0.1' });
    await persistence.save(states);
  }
  await disk.close();
}
