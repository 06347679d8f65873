/** Options (BENCH_* env) and the data of the backends bench: the session payload, its keys, raw keys as the library names them. */
import { NamespaceKeys } from '../../libs/cluster-cache/src/redis/redis-keys';
import { packValue } from '../../libs/cluster-cache/src/redis/redis-values';
import { sessionKeys, sessionValues } from '../util/session-data';
import { Driver } from './loops';
import { BackendName } from './setup';

// ---------- options ----------

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
};
export const RUNS = num('BENCH_RUNS', 5);
export const WARMUP = process.env.BENCH_WARMUP === '0' ? 0 : num('BENCH_WARMUP', 1);
export const KEYS = num('BENCH_KEYS', 10_000);
export const SESSIONS = num('BENCH_SESSIONS', 1_000);
export const DRIVER: Driver = {
  seqN: num('BENCH_SEQ_N', 2_000),
  seqLocalN: num('BENCH_LOCAL_N', 100_000),
  concurrency: num('BENCH_CONCURRENCY', 100),
  durationMs: num('BENCH_INFLIGHT_MS', 400),
};
const list = <T extends string>(name: string, fallback: string, allowed: readonly T[]): T[] => {
  const items = (process.env[name] || fallback).split(',').map((s) => s.trim()) as T[];
  for (const item of items) if (!allowed.includes(item)) throw new Error(`${name}: unknown "${item}" (known: ${allowed.join(', ')})`);
  return items;
};
export const BACKENDS = list<BackendName>('BENCH_BACKENDS', 'mesh,redis,cluster', ['mesh', 'redis', 'cluster']);
export type SectionName = 'get' | 'get100' | 'put' | 'put100';
export const SECTIONS = list<SectionName>('BENCH_SECTIONS', 'get,get100,put,put100', ['get', 'get100', 'put', 'put100']);

// ---------- data: the session payload of bench/util/session-data.ts ----------

export const VALUES = sessionValues(1000);
/** The bytes the library stores for each value (its MessagePack), for the raw ioredis anchors. */
export const PACKED = VALUES.map((v) => packValue(v));
export const GET_KEYS = sessionKeys(KEYS, 1);
export const PUT_KEYS = sessionKeys(KEYS, 3);
/** The Redis keys the library uses for them (prefix `ncc:`, table `sessions`, namespace `cache`). */
const NS_KEYS = new NamespaceKeys('ncc:', 'sessions', 'cache');
export const RAW_GET_KEYS = GET_KEYS.map((k) => NS_KEYS.entry(k));
export const RAW_PUT_KEYS = PUT_KEYS.map((k) => NS_KEYS.entry(k));
/** Plain keys without a hash tag: on the Cluster they spread over the 3 masters (context rows). */
export const SPREAD_GET_KEYS = GET_KEYS.map((k) => `bench:${k}`);
export const SPREAD_PUT_KEYS = PUT_KEYS.map((k) => `bench:${k}`);
export const MAP = new Map<string, unknown>(GET_KEYS.map((k, i) => [k, VALUES[i % VALUES.length]]));

export const at = <T>(xs: readonly T[], i: number): T => xs[i % xs.length];
