/**
 * Mesh vs Redis vs Redis Cluster, in one run (issue 7: "a bench compares
 * get/put of both backends in the same run"). Report: docs/benchmarks-backends.md.
 *
 *   npm run bench:backends   # = node --expose-gc -r @swc-node/register bench/backends/backends.bench.ts
 *
 * Every backend is the library booted with ClusterCacheModule.forRoot in this
 * process and driven through the backend-neutral `CacheStore` (and
 * `SessionStore.get`), see setup.ts:
 *
 * - mesh: this process's node linked over loopback TCP to a second node in a
 *   child process (mesh-peer.ts), `writes: 'sync'`;
 * - Redis: one redis-server started for the run;
 * - Redis Cluster: 3 masters (no replicas) started for the run.
 *
 * Anchors, measured in the same run, interleaved with the library: `Map.get`
 * on the same keys and values (for the mesh's reads), and raw ioredis
 * GET / SET … PX of the very bytes the library stores under the very keys it
 * uses (for SessionStore.get: GET of the session's own key), on the same
 * Redis, with two raw clients — without and with auto-pipelining, both with
 * no offline queue, no retries and a 1 s command timeout. Each library row is
 * compared with the better of the two in the same round set, so
 * "library ÷ raw" is the library's cost over the best the client it wraps
 * does (issue 15: target ≥ 0.9× in every cell, see the target table at the
 * end). On the Cluster, plain keys spread over the 3 masters are context rows
 * of the 100-in-flight tables.
 *
 * Method: every section runs its paths interleaved round by round (one
 * discarded warm-up round, then BENCH_RUNS rounds), with a full GC before
 * each run; a figure is the median over the rounds of each run's p50 / p99 /
 * ops/s. Markdown on stdout, progress on stderr.
 *
 * Environment (defaults in brackets):
 *   BENCH_RUNS [5]           kept rounds per section (plus BENCH_WARMUP [1])
 *   BENCH_SEQ_N [2000]       sequential operations per run over the network (×2: timed + untimed pass)
 *   BENCH_LOCAL_N [100000]   sequential operations per run of in-memory paths
 *   BENCH_INFLIGHT_MS [400]  length of one 100-in-flight run
 *   BENCH_CONCURRENCY [100]  operations in flight
 *   BENCH_KEYS [10000]       keys read (pre-loaded) and keys written
 *   BENCH_SESSIONS [1000]    sessions created per backend for SessionStore.get
 *   BENCH_BACKENDS [mesh,redis,cluster]
 *   BENCH_SECTIONS [get,get100,put,put100]
 * A quick trial: BENCH_RUNS=1 BENCH_SEQ_N=300 BENCH_LOCAL_N=10000 BENCH_INFLIGHT_MS=100.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { NamespaceKeys } from '../../libs/cluster-cache/src/redis/redis-keys';
import { packValue } from '../../libs/cluster-cache/src/redis/redis-values';
import { Contender, fmtRatio, fmtUs, fullGc, interleaved, log, median, prng, table } from '../util/harness';
import { sessionKeys, sessionMetadata, sessionValues } from '../util/session-data';
import { Driver, inFlight, Path, Run, sequential, sinkValue } from './loops';
import { TTL } from './mesh-options';
import { Backend, BackendName, Cleanup, startBackends } from './setup';

// ---------- options ----------

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
};
const RUNS = num('BENCH_RUNS', 5);
const WARMUP = process.env.BENCH_WARMUP === '0' ? 0 : num('BENCH_WARMUP', 1);
const KEYS = num('BENCH_KEYS', 10_000);
const SESSIONS = num('BENCH_SESSIONS', 1_000);
const DRIVER: Driver = {
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
const BACKENDS = list<BackendName>('BENCH_BACKENDS', 'mesh,redis,cluster', ['mesh', 'redis', 'cluster']);
type SectionName = 'get' | 'get100' | 'put' | 'put100';
const SECTIONS = list<SectionName>('BENCH_SECTIONS', 'get,get100,put,put100', ['get', 'get100', 'put', 'put100']);

// ---------- data: the session payload of bench/util/session-data.ts ----------

const VALUES = sessionValues(1000);
/** The bytes the library stores for each value (its MessagePack), for the raw ioredis anchors. */
const PACKED = VALUES.map((v) => packValue(v));
const GET_KEYS = sessionKeys(KEYS, 1);
const PUT_KEYS = sessionKeys(KEYS, 3);
/** The Redis keys the library uses for them (prefix `ncc:`, table `sessions`, namespace `cache`). */
const NS_KEYS = new NamespaceKeys('ncc:', 'sessions', 'cache');
const RAW_GET_KEYS = GET_KEYS.map((k) => NS_KEYS.entry(k));
const RAW_PUT_KEYS = PUT_KEYS.map((k) => NS_KEYS.entry(k));
/** Plain keys without a hash tag: on the Cluster they spread over the 3 masters (context rows). */
const SPREAD_GET_KEYS = GET_KEYS.map((k) => `bench:${k}`);
const SPREAD_PUT_KEYS = PUT_KEYS.map((k) => `bench:${k}`);
const MAP = new Map<string, unknown>(GET_KEYS.map((k, i) => [k, VALUES[i % VALUES.length]]));

const at = <T>(xs: readonly T[], i: number): T => xs[i % xs.length];

// ---------- rows ----------

interface Row {
  /** Unique id, e.g. `redis:get`. */
  id: string;
  backend: string;
  path: Path;
  /**
   * The row this one is compared with, if any; with several, the one with the
   * most ops/s in this run (the library against the better raw client).
   */
  anchor?: string | string[];
  anchorLabel?: string;
  /** CPU time so far of the other side (mesh peer, redis-servers), µs. */
  server?: () => Promise<number>;
}

interface Measured {
  row: Row;
  runs: Run[];
  p50: number;
  p99: number;
  ops: number;
  appCpu: number;
  serverCpu: number;
}

const loadByStage: Array<[string, number[]]> = [];
const noteLoad = (stage: string) => loadByStage.push([stage, loadavg().map((x) => Math.round(x * 100) / 100)]);

async function measure(section: string, rows: Row[], driver: (path: Path, offset: number) => Promise<Run>): Promise<Map<string, Measured>> {
  log(`— ${section} (${rows.length} paths × ${WARMUP} + ${RUNS} rounds)`);
  noteLoad(`before ${section}`);
  const contenders: Contender<Run>[] = rows.map((row) => ({
    name: row.id,
    run: async (round) => {
      const app0 = process.cpuUsage();
      const server0 = row.server === undefined ? 0 : await row.server();
      const r = await driver(row.path, round * 7919);
      const app = process.cpuUsage(app0);
      r.appCpuUs = (app.user + app.system) / r.allOps;
      if (row.server !== undefined) r.serverCpuUs = ((await row.server()) - server0) / r.allOps;
      const bad = r.misses + r.errors > 0 ? ` MISSES ${r.misses} ERRORS ${r.errors}` : '';
      log(`  ${round < WARMUP ? 'warm-up' : `round ${round - WARMUP + 1}`} ${row.id}: p50 ${fmtUs(r.p50)} p99 ${fmtUs(r.p99)} ${fmtOps(r.opsPerSec)}/s${bad}`);
      return r;
    },
  }));
  const results = await interleaved(contenders, RUNS, WARMUP, fullGc);
  const out = new Map<string, Measured>();
  for (const row of rows) {
    const runs = results.get(row.id)!;
    out.set(row.id, {
      row,
      runs,
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      ops: median(runs.map((r) => r.opsPerSec)),
      appCpu: median(runs.map((r) => r.appCpuUs ?? NaN)),
      serverCpu: median(runs.map((r) => r.serverCpuUs ?? NaN)),
    });
  }
  return out;
}

/** ops/s with 2–3 significant digits (the harness's `fmtOps` rounds 5.6k to "6k"). */
function fmtOps(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

function fmtCpu(us: number): string {
  return Number.isFinite(us) ? (us >= 10 ? `${us.toFixed(0)} µs` : `${us.toFixed(2)} µs`) : '—';
}

/** The anchor a row is compared with: the one of its anchors with the most ops/s. */
function anchorOf(m: Measured, measured: Map<string, Measured>): Measured | undefined {
  const ids = m.row.anchor === undefined ? [] : typeof m.row.anchor === 'string' ? [m.row.anchor] : m.row.anchor;
  let best: Measured | undefined;
  for (const id of ids) {
    const a = measured.get(id);
    if (a !== undefined && (best === undefined || a.ops > best.ops)) best = a;
  }
  return best;
}

function report(title: string, intro: string, measured: Map<string, Measured>): string {
  const rows: string[][] = [];
  const problems: string[] = [];
  for (const m of measured.values()) {
    const anchor = anchorOf(m, measured);
    rows.push([
      m.row.backend,
      m.row.path.name,
      fmtUs(m.p50),
      fmtUs(m.p99),
      fmtOps(m.ops),
      anchor === undefined ? '—' : (m.row.anchorLabel ?? anchor.row.path.name),
      anchor === undefined ? '—' : fmtRatio(m.p50 / anchor.p50),
      anchor === undefined ? '—' : fmtRatio(m.ops / anchor.ops),
      fmtCpu(m.appCpu),
      fmtCpu(m.serverCpu),
      m.runs.map((r) => fmtOps(r.opsPerSec)).join(' · '),
    ]);
    const misses = m.runs.reduce((s, r) => s + r.misses, 0);
    const errors = m.runs.reduce((s, r) => s + r.errors, 0);
    if (misses + errors > 0) problems.push(`${m.row.id}: ${misses} misses, ${errors} errors`);
  }
  return [
    `### ${title}`,
    '',
    intro,
    '',
    table(['backend', 'path', 'p50', 'p99', 'ops/s', 'compared with', 'p50 ÷ that', 'ops/s ÷ that', 'CPU/op here', 'CPU/op other side', 'ops/s per round'], rows),
    '',
    problems.length === 0 ? 'Misses and errors: none.' : `**Misses/errors:** ${problems.join('; ')}.`,
  ].join('\n');
}

// ---------- main ----------

async function main(cleanup: Cleanup): Promise<void> {
  const started = Date.now();
  noteLoad('start');
  const backends = await startBackends(BACKENDS, cleanup);
  const by = new Map(backends.map((b) => [b.name, b]));
  const mesh = by.get('mesh');
  const redisBackends = backends.filter((b) => b.raw !== undefined);

  // Pre-load the read keys (and plain copies for the Cluster's spread rows), check the raw keys are the library's.
  const tokens = new Map<BackendName, string[]>();
  const sessionKeysOf = new Map<BackendName, string[]>();
  const sessionBytes = new Map<BackendName, number>();
  for (const b of backends) {
    log(`loading ${KEYS} keys and ${SESSIONS} sessions into ${b.label}`);
    for (let i = 0; i < KEYS; i += 1000) {
      await b.cache.putMany(GET_KEYS.slice(i, i + 1000).map((k, j) => [k, at(VALUES, i + j)] as const));
    }
    const own: string[] = [];
    const rand = prng(7);
    for (let i = 0; i < SESSIONS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, SESSIONS - i) }, (_, j) => b.sessions.create(`user-${i + j}`, sessionMetadata(i + j, rand))),
      );
      own.push(...batch.map((s) => s.token));
    }
    tokens.set(b.name, own);
    if (b.raw !== undefined) {
      const stored = await b.raw.plain.getBuffer(RAW_GET_KEYS[1]);
      if (stored === null || !stored.equals(at(PACKED, 1))) throw new Error(`${b.label}: the raw anchor's key or bytes are not the library's (key naming changed?)`);
      // The raw session anchors read the very keys (and so the very bytes) the library's SessionStore.get reads.
      const storage = b.sessions as unknown as { storageKeyOf?: (token: string) => string | undefined };
      const keys = own.map((token) => storage.storageKeyOf?.(token));
      if (keys.some((k) => k === undefined)) throw new Error(`${b.label}: cannot get the Redis key of a session (RedisSessionCache internals changed?)`);
      sessionKeysOf.set(b.name, keys as string[]);
      const bytes = await b.raw.plain.getBuffer(keys[0]!);
      if (bytes === null) throw new Error(`${b.label}: no session stored under the key the raw anchor reads`);
      sessionBytes.set(b.name, bytes.length);
      if (b.name === 'cluster') {
        for (let i = 0; i < KEYS; i += 1000) {
          await Promise.all(SPREAD_GET_KEYS.slice(i, i + 1000).map((k, j) => b.raw!.plain.set(k, at(PACKED, i + j), 'PX', TTL)));
        }
      }
    }
  }
  if (mesh !== undefined && mesh.cache.get(GET_KEYS[0]) instanceof Promise) throw new Error('the mesh read returned a promise');

  const cacheGet = (b: Backend) => (i: number) => b.cache.get(at(GET_KEYS, i));
  const sessionGet = (b: Backend) => {
    const own = tokens.get(b.name)!;
    return (i: number) => b.sessions.get(at(own, i));
  };
  type RawKind = 'plain' | 'pipelined';
  const rawGet = (b: Backend, client: RawKind, keys: readonly (string | Buffer)[] = RAW_GET_KEYS) => (i: number) => b.raw![client].getBuffer(at(keys, i)).then((v) => v ?? undefined);
  const rawSet = (b: Backend, client: RawKind, keys: readonly (string | Buffer)[] = RAW_PUT_KEYS) => (i: number) => b.raw![client].set(at(keys, i), at(PACKED, i), 'PX', TTL);
  const put = (b: Backend) => (i: number) => b.cache.put(at(PUT_KEYS, i), at(VALUES, i));

  const RAW: Record<RawKind, string> = { plain: 'raw ioredis, no auto-pipelining', pipelined: 'raw ioredis, auto-pipelining' };
  const SPREAD = 'raw ioredis, auto-pipelining, plain keys spread over the 3 masters (context)';
  /** Both raw rows of one operation, and their ids (the library row's anchors). */
  const rawRows = (b: Backend, what: string, label: string, op: (kind: RawKind) => (i: number) => unknown, read: boolean): [Row[], string[]] => {
    const kinds: RawKind[] = ['plain', 'pipelined'];
    const rows = kinds.map((kind): Row => ({ id: `${b.name}:raw-${what}-${kind}`, backend: b.label, server: b.serverCpuUs, path: { name: `${RAW[kind]}: ${label}`, async: op(kind), read } }));
    return [rows, rows.map((r) => r.id)];
  };

  // Rows of each section.
  const getRows = (inflight: boolean): Row[] => {
    const rows: Row[] = [];
    if (!inflight) rows.push({ id: 'clock', backend: '—', path: { name: '(clock only: two hrtime reads around nothing)', sync: () => 1, local: true, read: true } });
    if (mesh !== undefined) {
      const mapId = inflight ? 'map:await-get' : 'map:get';
      rows.push({
        id: mapId,
        backend: 'in-process Map',
        path: inflight
          ? { name: 'await Map.get', async: (i) => MAP.get(at(GET_KEYS, i)), local: true, read: true }
          : { name: 'Map.get', sync: (i) => MAP.get(at(GET_KEYS, i)), local: true, read: true },
      });
      if (!inflight) {
        rows.push({ id: 'mesh:get-sync', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'CacheStore.get, not awaited (sync on the mesh)', sync: cacheGet(mesh), local: true, read: true }, anchor: mapId });
      }
      rows.push({ id: 'mesh:get', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await CacheStore.get', async: cacheGet(mesh), local: true, read: true }, anchor: mapId });
      if (!inflight) {
        rows.push({ id: 'mesh:session-sync', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'SessionStore.get, not awaited', sync: sessionGet(mesh), local: true, read: true }, anchor: 'mesh:get-sync' });
      }
      rows.push({ id: 'mesh:session', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await SessionStore.get', async: sessionGet(mesh), local: true, read: true }, anchor: 'mesh:get' });
    }
    for (const b of redisBackends) {
      const [raw, rawIds] = rawRows(b, 'get', 'GET', (kind) => rawGet(b, kind), true);
      rows.push(...raw);
      if (inflight && b.name === 'cluster') rows.push({ id: 'cluster:raw-get-spread', backend: b.label, server: b.serverCpuUs, path: { name: `${SPREAD}: GET`, async: rawGet(b, 'pipelined', SPREAD_GET_KEYS), read: true }, anchor: rawIds });
      rows.push({ id: `${b.name}:get`, backend: b.label, server: b.serverCpuUs, path: { name: 'await CacheStore.get', async: cacheGet(b), read: true }, anchor: rawIds });
      const keys = sessionKeysOf.get(b.name)!;
      const [rawSession, rawSessionIds] = rawRows(b, 'session', `GET of the session's key (${sessionBytes.get(b.name)} B)`, (kind) => rawGet(b, kind, keys), true);
      rows.push(...rawSession);
      rows.push({ id: `${b.name}:session`, backend: b.label, server: b.serverCpuUs, path: { name: 'await SessionStore.get', async: sessionGet(b), read: true }, anchor: rawSessionIds });
    }
    return rows;
  };
  const putRows = (inflight: boolean): Row[] => {
    const rows: Row[] = [];
    if (mesh !== undefined) rows.push({ id: 'mesh:put', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await CacheStore.put (sync write: peer applied it)', async: put(mesh), read: false } });
    for (const b of redisBackends) {
      const [raw, rawIds] = rawRows(b, 'set', 'SET … PX', (kind) => rawSet(b, kind), false);
      rows.push(...raw);
      if (inflight && b.name === 'cluster') rows.push({ id: 'cluster:raw-set-spread', backend: b.label, server: b.serverCpuUs, path: { name: `${SPREAD}: SET … PX`, async: rawSet(b, 'pipelined', SPREAD_PUT_KEYS), read: false }, anchor: rawIds });
      rows.push({ id: `${b.name}:put`, backend: b.label, server: b.serverCpuUs, path: { name: 'await CacheStore.put (one Lua write script)', async: put(b), read: false }, anchor: rawIds });
    }
    return rows;
  };

  const results: Partial<Record<SectionName, Map<string, Measured>>> = {};
  const seq = (path: Path, offset: number) => sequential(path, DRIVER, offset);
  const par = (path: Path, offset: number) => inFlight(path, DRIVER, offset);
  for (const section of SECTIONS) {
    if (section === 'get') results.get = await measure('get, sequential', getRows(false), seq);
    if (section === 'get100') results.get100 = await measure(`get, ${DRIVER.concurrency} in flight`, getRows(true), par);
    if (section === 'put') results.put = await measure('put, sequential', putRows(false), seq);
    if (section === 'put100') results.put100 = await measure(`put, ${DRIVER.concurrency} in flight`, putRows(true), par);
  }
  noteLoad('end');

  // ---------- report ----------
  const out: string[] = [];
  out.push(`## Backends: mesh vs Redis vs Redis Cluster (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`, '');
  out.push(`- commit ${gitHead()}; node ${process.version}; ${redisVersion()}; ioredis ${ioredisVersion()}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}`);
  out.push(`- load average (1/5/15 min): ${loadByStage.map(([stage, l]) => `${stage} ${l.join(' / ')}`).join('; ')}`);
  out.push(
    `- sizes: ${RUNS} rounds (+${WARMUP} warm-up), sequential ${DRIVER.seqN} ops per run (in-memory paths ${DRIVER.seqLocalN}), ` +
      `${DRIVER.concurrency} in flight for ${DRIVER.durationMs} ms per run, ${KEYS} keys read / written, ${SESSIONS} sessions per backend; ` +
      `value ${Math.round(median(PACKED.map((p) => p.length)))} B as MessagePack (≈203 B as JSON)`,
  );
  out.push(
    `- backends: ${backends.map((b) => b.label).join(', ')}; ` +
      `mesh = this process's node + a peer node in a child process over loopback TCP, writes sync`,
  );
  out.push(`- run took ${((Date.now() - started) / 1000).toFixed(0)} s`, '');

  const compared = 'Each row: median over the rounds of the per-run p50, p99 and ops/s. "compared with" is the anchor of the same run; ratios are this row ÷ the anchor (p50 ÷ > 1: slower; ops/s ÷ < 1: fewer ops/s).';
  if (results.get) out.push(report('get, sequential (one operation at a time)', `${compared} The clock row is the cost of timing one operation, included in every p50/p99 (not in ops/s, which come from an untimed pass).`, results.get), '');
  if (results.get100) out.push(report(`get, ${DRIVER.concurrency} in flight`, `${compared} In-memory paths: every 16th operation timed.`, results.get100), '');
  if (results.put) out.push(report('put, sequential', compared, results.put), '');
  if (results.put100) out.push(report(`put, ${DRIVER.concurrency} in flight`, compared, results.put100), '');
  out.push(targetTable(results, redisBackends), '');
  out.push(summaryTable(results, backends), '');
  process.stdout.write(`${out.join('\n')}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s (sink ${sinkValue() > 0 ? 'ok' : 'empty'})`);
}

/** Target of issue 15: the library at ≥ 0.9× the better raw ioredis client, in every cell. */
const TARGET = 0.9;

/** The median over the rounds of this round's ratio: paired runs share the machine's load of their moment. */
function pairedRatio(library: Measured, anchors: Measured[]): number {
  const ratios = library.runs.map((run, round) => run.opsPerSec / Math.max(...anchors.map((a) => a.runs[round]?.opsPerSec ?? NaN)));
  return median(ratios.filter(Number.isFinite));
}

/**
 * The library against both raw clients on the same bytes and keys, cell by
 * cell: SessionStore.get against GET of the session's key, CacheStore.put
 * against SET … PX of the entry's bytes; sequential and N in flight. Ratios
 * are medians over the rounds of the round's own ratio (library ÷ raw run
 * next to it), which a busy machine disturbs far less than a ratio of medians.
 */
function targetTable(results: Partial<Record<SectionName, Map<string, Measured>>>, backends: Backend[]): string {
  const cells: Array<{ label: string; section: SectionName; library: string; raw: string }> = [
    { label: 'SessionStore.get, sequential', section: 'get', library: 'session', raw: 'session' },
    { label: `SessionStore.get, ${DRIVER.concurrency} in flight`, section: 'get100', library: 'session', raw: 'session' },
    { label: 'CacheStore.get, sequential', section: 'get', library: 'get', raw: 'get' },
    { label: `CacheStore.get, ${DRIVER.concurrency} in flight`, section: 'get100', library: 'get', raw: 'get' },
    { label: 'CacheStore.put, sequential', section: 'put', library: 'put', raw: 'set' },
    { label: `CacheStore.put, ${DRIVER.concurrency} in flight`, section: 'put100', library: 'put', raw: 'set' },
  ];
  const rows: string[][] = [];
  for (const b of backends) {
    for (const cell of cells) {
      const section = results[cell.section];
      const library = section?.get(`${b.name}:${cell.library}`);
      const plain = section?.get(`${b.name}:raw-${cell.raw}-plain`);
      const pipelined = section?.get(`${b.name}:raw-${cell.raw}-pipelined`);
      if (library === undefined || plain === undefined || pipelined === undefined) continue;
      const best = pairedRatio(library, [plain, pipelined]);
      rows.push([
        b.label,
        cell.label,
        fmtOps(library.ops),
        fmtOps(plain.ops),
        fmtOps(pipelined.ops),
        fmtRatio(pairedRatio(library, [plain])),
        fmtRatio(pairedRatio(library, [pipelined])),
        `${fmtRatio(best)} ${best >= TARGET ? '✓' : '✗'}`,
        `${fmtCpu(plain.appCpu)} · ${fmtCpu(pipelined.appCpu)} → ${fmtCpu(library.appCpu)}`,
      ]);
    }
  }
  return [
    `### The library against raw ioredis (target ≥ ${TARGET}× the better raw client)`,
    '',
    'ops/s: medians over the rounds (sequential ops/s come from the untimed pass). Ratios: median over the rounds of library ÷ raw in the same round (÷ the better raw: of the two raw runs of that round, the faster). Raw: the same bytes under the same keys, GET for reads and SET … PX for writes. CPU/op: this process, raw without · with auto-pipelining → library.',
    '',
    table(['backend', 'cell', 'library ops/s', 'raw, no auto-pipelining', 'raw, auto-pipelining', '÷ no auto-pipelining', '÷ auto-pipelining', '÷ the better raw', 'CPU/op here'], rows),
  ].join('\n');
}

/** Mesh vs each Redis, measure by measure, from the tables above. */
function summaryTable(results: Partial<Record<SectionName, Map<string, Measured>>>, backends: Backend[]): string {
  const names = backends.map((b) => b.name);
  const measures: Array<{ label: string; section: SectionName; path: string; what: 'p50' | 'p99' | 'ops' }> = [
    { label: 'get, sequential: p50', section: 'get', path: 'get', what: 'p50' },
    { label: 'get, sequential: ops/s', section: 'get', path: 'get', what: 'ops' },
    { label: `get, ${DRIVER.concurrency} in flight: ops/s`, section: 'get100', path: 'get', what: 'ops' },
    { label: `get, ${DRIVER.concurrency} in flight: p99`, section: 'get100', path: 'get', what: 'p99' },
    { label: 'SessionStore.get, sequential: p50', section: 'get', path: 'session', what: 'p50' },
    { label: `SessionStore.get, ${DRIVER.concurrency} in flight: ops/s`, section: 'get100', path: 'session', what: 'ops' },
    { label: 'put, sequential: p50', section: 'put', path: 'put', what: 'p50' },
    { label: 'put, sequential: p99', section: 'put', path: 'put', what: 'p99' },
    { label: 'put, sequential: ops/s', section: 'put', path: 'put', what: 'ops' },
    { label: `put, ${DRIVER.concurrency} in flight: ops/s`, section: 'put100', path: 'put', what: 'ops' },
    { label: `put, ${DRIVER.concurrency} in flight: p99`, section: 'put100', path: 'put', what: 'p99' },
  ];
  const others = names.filter((n) => n !== 'mesh');
  const label = (n: BackendName) => backends.find((b) => b.name === n)!.label;
  const header = ['measure (await CacheStore / SessionStore)', ...names.map(label), ...(names.includes('mesh') ? others.map((n) => `mesh advantage vs ${label(n)}`) : [])];
  const rows: string[][] = [];
  for (const m of measures) {
    const section = results[m.section];
    if (section === undefined) continue;
    const value = (n: BackendName) => section.get(`${n}:${m.path}`)?.[m.what] ?? NaN;
    const fmt = (x: number) => (m.what === 'ops' ? fmtOps(x) : fmtUs(x));
    const advantage = (n: BackendName) => (m.what === 'ops' ? value('mesh') / value(n) : value(n) / value('mesh'));
    rows.push([m.label, ...names.map((n) => fmt(value(n))), ...(names.includes('mesh') ? others.map((n) => fmtRatio(advantage(n))) : [])]);
  }
  return [
    '### Mesh vs Redis, through the contract',
    '',
    '"mesh advantage" = how many times better the mesh does: Redis latency ÷ mesh latency, or mesh ops/s ÷ Redis ops/s (below 1×: Redis does better).',
    '',
    table(header, rows),
  ].join('\n');
}

function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'libs/cluster-cache/src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean).length;
    return dirty > 0 ? `${head} (+ ${dirty} uncommitted changes under libs/cluster-cache/src)` : head;
  } catch {
    return '?';
  }
}

function redisVersion(): string {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  } catch {
    return 'redis-server ?';
  }
}

function ioredisVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('ioredis/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

// ---------- process lifetime: nothing started here outlives the run ----------

const cleanup = new Cleanup();
let ending = false;
async function end(code: number): Promise<void> {
  if (ending) return;
  ending = true;
  log('stopping apps and servers');
  await cleanup.run();
  process.exitCode = code;
  // Anything still holding the event loop (a client that did not close) must not keep the run alive.
  setTimeout(() => process.exit(code), 5_000).unref();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void end(130).then(() => process.exit(130));
  });
}
main(cleanup).then(
  () => end(0),
  (error) => {
    // After a signal, the run fails because its servers are gone: not worth a stack trace.
    if (!ending) process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    return end(1);
  },
);
