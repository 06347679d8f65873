/** The charts of docs/performance.md, each drawn from figures of the latest results files (a chart whose figures are missing is left out). */
import type { Family, Figure } from '../util/results';
import { fmtValue } from './format';
import type { LoadedRun } from './results-files';
import { Bar, BarChart, BarGroup } from './svg-chart';

export interface ChartSpec {
  /** File name under docs/img/. */
  file: (typeof CHART_FILES)[number];
  /** The family whose section shows it. */
  family: Family;
  chart: BarChart;
}

type Runs = Map<Family, LoadedRun>;

/** Every chart file this report can write under docs/img/ (one it no longer draws is removed). */
export const CHART_FILES = ['replication-latency.svg', 'throughput-vs-redis.svg', 'join-vs-mnesia.svg', 'heap-per-session.svg', 'auth-vs-express-session.svg'] as const;

function figure(runs: Runs, family: Family, id: string): Figure | undefined {
  return runs.get(family)?.record.figures.find((f) => f.id === id);
}

const ours = (label: string, f: Figure): Bar => ({ label, value: f.ours, ours: true, text: fmtValue(f.ours, f.unit) });
const anchor = (label: string, f: Figure): Bar[] => (f.anchor !== undefined && f.anchor.value !== null && Number.isFinite(f.anchor.value) ? [{ label, value: f.anchor.value, ours: false, text: fmtValue(f.anchor.value, f.anchor.unit) }] : []);

function latencyChart(runs: Runs): ChartSpec | undefined {
  const groups: BarGroup[] = [];
  for (const p of ['p50', 'p99'] as const) {
    const f = figure(runs, 'replication', `sync-put-${p}`);
    if (f === undefined) continue;
    const m = figure(runs, 'replication', `sync-put-${p}-vs-mnesia`);
    groups.push({ label: `${p} of one write, a → b`, bars: [ours('sync put (this library)', f), ...anchor('TCP ping-pong round trip', f), ...(m ? anchor('Mnesia sync_transaction', m) : [])] });
  }
  return groups.length === 0 ? undefined : { file: 'replication-latency.svg', family: 'replication', chart: { title: 'Sync write latency against a TCP round trip and Mnesia', axis: 'µs per write, one writer, two processes (less is better)', groups } };
}

function throughputChart(runs: Runs): ChartSpec | undefined {
  const groups: BarGroup[] = [];
  const inflight = figure(runs, 'replication', 'sync-put-100-in-flight');
  if (inflight) groups.push({ label: 'replicated writes, 100 in flight', bars: [ours('sync put, mesh of two', inflight), ...anchor('Redis SET (ioredis)', inflight)] });
  for (const [id, label] of [
    ['mesh-vs-redis:get100', 'CacheStore.get, 100 in flight'],
    ['mesh-vs-redis:put100', 'CacheStore.put, 100 in flight'],
  ] as const) {
    const f = figure(runs, 'backends', id);
    if (f) groups.push({ label, bars: [ours('mesh backend', f), ...anchor('Redis backend (one redis-server)', f)] });
  }
  // Shown under the backends when they ran, else under replication (whose figure it starts with).
  const family = runs.has('backends') ? 'backends' : 'replication';
  return groups.length === 0 ? undefined : { file: 'throughput-vs-redis.svg', family, chart: { title: 'Throughput against Redis', axis: 'operations per second (more is better)', groups } };
}

function joinChart(runs: Runs): ChartSpec | undefined {
  const join = figure(runs, 'join', 'join');
  if (join === undefined) return undefined;
  const same = figure(runs, 'join', 'join-same-data');
  const bars = [ours('fresh node joins (this library)', join), ...anchor('Mnesia copy, 200 B binary values', join), ...(same ? anchor('Mnesia copy, same sessions as maps', same) : [])];
  return { file: 'join-vs-mnesia.svg', family: 'join', chart: { title: 'A new node copies 1M sessions', axis: 'seconds from join to ready, less is better (Mnesia: add_table_copy of ram_copies)', groups: [{ label: '1M sessions copied to a fresh node', bars }] } };
}

function heapChart(runs: Runs): ChartSpec | undefined {
  const bars: Bar[] = [];
  const cache = figure(runs, 'store', 'mem:(b)');
  if (cache) bars.push(ours('ClusterCache.put', cache), ...anchor('Map<key, value>', cache));
  const sessions = figure(runs, 'store', 'mem:(c)');
  if (sessions) bars.push(ours('SessionCache.create', sessions));
  const seed = figure(runs, 'join', 'seed-heap-per-session');
  if (seed) bars.push(...anchor('Mnesia ram_copies, per record', seed));
  return bars.length === 0 ? undefined : { file: 'heap-per-session.svg', family: runs.has('store') ? 'store' : 'join', chart: { title: 'Memory per session, 1M sessions', axis: 'bytes per session, less is better (V8 heap after a full GC; Mnesia: table memory per record, from the join run)', groups: [{ label: 'heap per session', bars }] } };
}

function authChart(runs: Runs): ChartSpec | undefined {
  const groups: BarGroup[] = [];
  for (const [id, label] of [
    ['kit-me-/-es-me', 'GET /me, one node'],
    ['kit-lb-me-/-es-lb-me', 'GET /me, two nodes behind a balancer'],
    ['kit-create-/-es-create', 'POST /session (sign-in), one node'],
  ] as const) {
    const f = figure(runs, 'auth', id);
    if (f) groups.push({ label, bars: [ours('auth kit (this library)', f), ...anchor('express-session + connect-redis', f)] });
  }
  return groups.length === 0 ? undefined : { file: 'auth-vs-express-session.svg', family: 'auth', chart: { title: 'The auth kit against express-session + connect-redis', axis: 'requests per second (more is better)', groups } };
}

export function chartsOf(runs: Runs): ChartSpec[] {
  return [latencyChart(runs), throughputChart(runs), joinChart(runs), heapChart(runs), authChart(runs)].filter((c): c is ChartSpec => c !== undefined);
}
