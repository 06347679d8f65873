/**
 * Store benchmarks of nest-cluster-cache (not part of `npm test`).
 *
 *   npm run bench:store            (= node --expose-gc -r @swc-node/register bench/store.bench.ts; ~3 min)
 *   node --expose-gc -r @swc-node/register bench/store.bench.ts get get-sys   # some sections only
 *
 * Sections: get, get-sys, put, all, mem. Sizes can be overridden with BENCH_* env
 * variables (see below) for quick trials. Each section runs in its own child process (same
 * Node flags), so one section's 1M-entry heap neither slows the next one's GC nor
 * pollutes its JIT feedback. Within a section, contenders run interleaved
 * (A B C, A B C, ...): round 0 is a discarded warm-up, then the median of 5 rounds
 * (3 for the 1M-entry memory builds) is reported. Markdown goes to stdout,
 * progress to stderr.
 */
import { spawnSync } from 'node:child_process';
import { LRUCache } from 'lru-cache';
import { ClusterCache } from '../libs/cluster-cache/src/cache/cluster-cache';
import { CacheEngine } from '../libs/cluster-cache/src/engine/cache-engine';
import { LocalSessionLock } from '../libs/cluster-cache/src/sessions/session-lock.interface';
import { SessionCache } from '../libs/cluster-cache/src/sessions/session-cache';
import { ManualClock, systemClock } from '../libs/cluster-cache/src/store/clock';
import { ANY, PatternPart } from '../libs/cluster-cache/src/store/key';
import { Store } from '../libs/cluster-cache/src/store/store';
import { localCache } from '../libs/cluster-cache/src/cache/testing/local-cache';
import { frozenCopy } from '../libs/cluster-cache/src/util/frozen-copy';
import {
  flat,
  fmtBytes,
  fmtOps,
  fmtRatio,
  fmtUs,
  fullGc,
  heapAfterGc,
  interleaved,
  log,
  median,
  nowNs,
  percentileSorted,
  prng,
  shuffle,
  table,
  timeIt,
} from './util/harness';
import { meanJsonBytes, sessionKeys, sessionMetadata, sessionValue, sessionValues, SessionValue, sessionKey, token } from './util/session-data';

const env = (name: string, fallback: number) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);

/** Entries of the get / all / memory tables. */
const N = env('BENCH_N', 1_000_000);
/** Inserts per timed put run (into an empty structure). */
const N_PUT = env('BENCH_N_PUT', 100_000);
/** Users × sessions of the all() table. */
const USERS = env('BENCH_USERS', 100_000);
const PER_USER = env('BENCH_PER_USER', 10);
/** all() queries per run, and full-scan queries per run. */
const QUERIES = env('BENCH_QUERIES', 10_000);
const SCAN_QUERIES = env('BENCH_SCAN_QUERIES', 5);
/** Sessions per user in the SessionCache memory build (N / this many users). */
const SESSIONS_PER_USER = env('BENCH_MEM_PER_USER', 2);
/** Entries of the (discarded) warm-up build of the memory section: it only warms the JIT. */
const MEM_WARMUP_N = env('BENCH_MEM_WARMUP_N', 100_000);
/** Memory builds yield to the event loop this often (see sectionMem). */
const YIELD_EVERY = 1000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** SessionCache.create stores one record; the per-user index is derived locally, not stored as entries. */
const ENTRIES_PER_SESSION = 1;
const RUNS = env('BENCH_RUNS', 5);
const MEM_RUNS = env('BENCH_MEM_RUNS', 3);
const TTL = 30 * 60_000;
const PUT_OPTS = { ttl: TTL } as const;

const NODE_OPTS = { writes: 'sync' as const, sweepInterval: 1000, logger: { log() {}, error() {}, warn() {} } };

/** A ClusterCache on its own Store, with the real clock and no default TTL. */
function systemCache<V>(engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS)): ClusterCache<V> {
  const table = engine.store.table('sessions') ?? engine.store.addTable('sessions', 'replicated');
  return new ClusterCache<V>(engine, table, 'cache', undefined);
}

interface Summary {
  target: string;
  value: string;
  met: boolean | undefined;
}
const summaries: Summary[] = [];
const out = (s = '') => process.stdout.write(s + '\n');
const runsCol = (xs: number[], f: (x: number) => string) => xs.map(f).join(' · ');

// =====================================================================================
// 1. get hit, random order
// =====================================================================================

// One loop per contender (not one generic loop taking a callback), so that each
// call site is monomorphic and the callee can be inlined, as in real code.
function loopMap(m: Map<string, SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) if (m.get(ks[i]) !== undefined) hits++;
  return hits;
}
function loopLru(c: LRUCache<string, SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) if (c.get(ks[i]) !== undefined) hits++;
  return hits;
}
function loopCacheManual(c: ClusterCache<SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) if (c.get(ks[i]) !== undefined) hits++;
  return hits;
}
function loopCacheSystem(c: ClusterCache<SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) if (c.get(ks[i]) !== undefined) hits++;
  return hits;
}

interface GetRow {
  name: string;
  process: string;
  /** The row (same process) this one is compared with. */
  base: string;
  /** ops/s by the wall clock, one per kept round. */
  runs: number[];
  /** ops/s by process CPU time, one per kept round. */
  cpuRuns: number[];
}

interface Rate {
  wall: number;
  cpu: number;
}

// Same as the loops above, but the caller also reads one field of the value
// (what a guard does with a session), so both sides pay the miss on the value.
function loopMapRead(m: Map<string, SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) {
    const v = m.get(ks[i]);
    if (v !== undefined && v.userId.length > 0) hits++;
  }
  return hits;
}
function loopCacheRead(c: ClusterCache<SessionValue>, ks: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < ks.length; i++) {
    const v = c.get(ks[i]);
    if (v !== undefined && v.userId.length > 0) hits++;
  }
  return hits;
}

/**
 * `manual`: Map, lru-cache and ClusterCache with a ManualClock (set to the real
 * time) in one process. `system`: Map and ClusterCache on the system clock
 * (`localCache({ clock: systemClock })`) in another process — kept apart because
 * one ClusterCache.get that sees both clock types gets polymorphic feedback, which
 * measurably slowed the ManualClock variant when both shared a process.
 */
async function sectionGet(mode: 'manual' | 'system'): Promise<void> {
  log(`get (${mode} clock): building ${N} keys and values`);
  const keys = sessionKeys(N);
  const values = sessionValues(N);
  const lookups = shuffle([...keys], 42); // same string objects, random order, built before timing

  const map = new Map<string, SessionValue>();
  for (let i = 0; i < N; i++) map.set(keys[i], values[i]);
  const lru = mode === 'manual' ? new LRUCache<string, SessionValue>({ max: N }) : undefined;
  if (lru !== undefined) for (let i = 0; i < N; i++) lru.set(keys[i], values[i]);

  log(`get (${mode} clock): filling ClusterCache through put()`);
  const { cache, engine } = localCache<SessionValue>({ ttl: TTL, clock: mode === 'manual' ? new ManualClock(Date.now()) : (systemClock as ManualClock) });
  let last: Promise<void> = Promise.resolve();
  for (let i = 0; i < N; i++) last = cache.put(keys[i], values[i]);
  await last;
  // A server's engine sweeps every second, which keeps the fast read path open
  // (LiveValues); the timed loops never yield to timers, so sweep between runs
  // instead (untimed). With nothing due, a sweep is a few bucket checks.
  const sweep = () => void engine.sweep();
  sweep();
  fullGc();

  const timed = (fn: () => number) => (): Rate => {
    const { result: hits, timing } = timeIt(fn);
    if (hits !== N) throw new Error(`expected ${N} hits, got ${hits}`);
    return { wall: N / (timing.wallNs / 1e9), cpu: N / (timing.cpuNs / 1e9) };
  };
  const contenders: Array<{ name: string; base: string; run: () => Rate }> = [{ name: 'Map.get', base: 'Map.get', run: timed(() => loopMap(map, lookups)) }];
  if (lru !== undefined) contenders.push({ name: 'lru-cache get (max 1M)', base: 'Map.get', run: timed(() => loopLru(lru, lookups)) });
  if (mode === 'manual') {
    contenders.push({ name: 'ClusterCache.get (ManualClock)', base: 'Map.get', run: timed(() => loopCacheManual(cache, lookups)) });
    contenders.push({ name: 'Map.get + read value.userId', base: 'Map.get + read value.userId', run: timed(() => loopMapRead(map, lookups)) });
    contenders.push({ name: 'ClusterCache.get (ManualClock) + read value.userId', base: 'Map.get + read value.userId', run: timed(() => loopCacheRead(cache, lookups)) });
  } else {
    contenders.push({ name: 'ClusterCache.get (system clock)', base: 'Map.get', run: timed(() => loopCacheSystem(cache, lookups)) });
  }
  const res = await interleaved<Rate>(contenders, RUNS, 1, sweep);
  const proc = mode === 'manual' ? 'A' : 'B';
  const rows: GetRow[] = contenders.map((c) => ({
    name: c.name,
    process: proc,
    base: c.base,
    runs: res.get(c.name)!.map((r) => r.wall),
    cpuRuns: res.get(c.name)!.map((r) => r.cpu),
  }));
  out(`@@GETROWS ${JSON.stringify(rows)}`);
}

function renderGet(rows: GetRow[]): void {
  out(`### 1. get hit, random order, ${N.toLocaleString('en')} entries (44 B key, ~204 B-JSON value)`);
  out();
  const baseOf = (r: GetRow) => rows.find((x) => x.process === r.process && x.name === r.base)!;
  out(
    table(
      ['contender', 'process', 'median ops/s', 'ns/op', 'ratio vs base (wall)', 'ratio vs base (CPU time)', 'runs (ops/s, wall)'],
      rows.map((r) => {
        const b = baseOf(r);
        return [
          r.name === r.base ? `**${r.name}** (base)` : r.name,
          r.process,
          fmtOps(median(r.runs)),
          (1e9 / median(r.runs)).toFixed(0),
          fmtRatio(median(r.runs) / median(b.runs)),
          fmtRatio(median(r.cpuRuns) / median(b.cpuRuns)),
          runsCol(r.runs, fmtOps),
        ];
      }),
    ),
  );
  out();
  out(
    'Process A holds Map, lru-cache and a ClusterCache on a ManualClock; process B holds Map and a ClusterCache on the system clock. ' +
      'Each ratio is against the base row of its own process, measured in the same interleaved rounds: "wall" compares medians of wall-clock ops/s, ' +
      '"CPU time" compares medians of ops per CPU-second of the process (immune to being descheduled by other load; these loops allocate nothing, so no GC thread runs). ' +
      'The plain get loops only count hits (`!== undefined`); the "+ read" rows also read one field of the value.',
  );
  out();
  for (const r of rows.filter((x) => x.name.startsWith('ClusterCache'))) {
    const b = baseOf(r);
    const ratio = median(r.runs) / median(b.runs);
    const cpu = median(r.cpuRuns) / median(b.cpuRuns);
    summaries.push({ target: `${r.name} ≥ 0.8× ${b.name}`, value: `${fmtRatio(ratio)} (CPU time: ${fmtRatio(cpu)})`, met: ratio >= 0.8 });
  }
}

// =====================================================================================
// 2. put / putMany
// =====================================================================================

async function sectionPut(): Promise<void> {
  log(`put: building ${N_PUT} keys and values`);
  const keys = sessionKeys(N_PUT, 11);
  const values = sessionValues(N_PUT, 12);
  const BATCH = 100;
  const batches: Array<Array<[string, SessionValue]>> = [];
  for (let i = 0; i < N_PUT; i += BATCH) {
    const b: Array<[string, SessionValue]> = [];
    for (let j = i; j < Math.min(N_PUT, i + BATCH); j++) b.push([keys[j], values[j]]);
    batches.push(b);
  }
  let keep: unknown; // the structure of the current run, dropped before the next
  const rate = (dtNs: number) => N_PUT / (dtNs / 1e9);

  const contenders = [
    {
      name: 'Map.set (insert, no copy)',
      run: () => {
        const m = new Map<string, SessionValue>();
        const t0 = nowNs();
        for (let i = 0; i < N_PUT; i++) m.set(keys[i], values[i]);
        const dt = nowNs() - t0;
        keep = m;
        return rate(dt);
      },
    },
    {
      name: 'Map.set(frozenCopy(v)) — the copy a put makes',
      run: () => {
        const m = new Map<string, SessionValue>();
        const t0 = nowNs();
        for (let i = 0; i < N_PUT; i++) m.set(keys[i], frozenCopy(values[i]));
        const dt = nowNs() - t0;
        keep = m;
        return rate(dt);
      },
    },
    {
      name: 'lru-cache set (max N, ttl 30 min)',
      run: () => {
        const c = new LRUCache<string, SessionValue>({ max: N_PUT, ttl: TTL });
        const t0 = nowNs();
        for (let i = 0; i < N_PUT; i++) c.set(keys[i], values[i]);
        const dt = nowNs() - t0;
        keep = c;
        return rate(dt);
      },
    },
    {
      name: 'ClusterCache.put(k, v, {ttl}) — fire all, await the last',
      run: async () => {
        const c = systemCache<SessionValue>();
        const t0 = nowNs();
        let p: Promise<void> = Promise.resolve();
        for (let i = 0; i < N_PUT; i++) p = c.put(keys[i], values[i], PUT_OPTS);
        await p;
        const dt = nowNs() - t0;
        keep = c;
        return rate(dt);
      },
    },
    {
      name: 'ClusterCache.put(k, v, {ttl}) — await each',
      run: async () => {
        const c = systemCache<SessionValue>();
        const t0 = nowNs();
        for (let i = 0; i < N_PUT; i++) await c.put(keys[i], values[i], PUT_OPTS);
        const dt = nowNs() - t0;
        keep = c;
        return rate(dt);
      },
    },
    {
      name: `ClusterCache.putMany(${BATCH}, {ttl}) — fire all, await the last`,
      run: async () => {
        const c = systemCache<SessionValue>();
        const t0 = nowNs();
        let p: Promise<void> = Promise.resolve();
        for (let i = 0; i < batches.length; i++) p = c.putMany(batches[i], PUT_OPTS);
        await p;
        const dt = nowNs() - t0;
        keep = c;
        return rate(dt);
      },
    },
    {
      name: `ClusterCache.putMany(${BATCH}, {ttl}) — await each batch`,
      run: async () => {
        const c = systemCache<SessionValue>();
        const t0 = nowNs();
        for (let i = 0; i < batches.length; i++) await c.putMany(batches[i], PUT_OPTS);
        const dt = nowNs() - t0;
        keep = c;
        return rate(dt);
      },
    },
  ];
  const res = await interleaved<number>(contenders, RUNS, 1, () => {
    keep = undefined;
    fullGc();
  });
  void keep;
  const base = median(res.get(contenders[0].name)!);
  out(`### 2. put: insert ${N_PUT.toLocaleString('en')} new keys into an empty structure (entries/s)`);
  out();
  out(
    table(
      ['contender', 'median entries/s', 'µs/entry', 'ratio vs Map.set', 'runs (entries/s)'],
      [...res].map(([name, xs]) => [name, fmtOps(median(xs)), (1e6 / median(xs)).toFixed(2), fmtRatio(median(xs) / base), runsCol(xs, fmtOps)]),
    ),
  );
  out();
  for (const c of contenders.slice(3)) summaries.push({ target: `${c.name} (no target)`, value: `${fmtOps(median(res.get(c.name)!))}/s`, met: undefined });
}

// =====================================================================================
// 3. all(['user', id, ANY])
// =====================================================================================

interface Latency {
  median: number;
  p99: number;
  mean: number;
  max: number;
}
function latencies(samplesNs: Float64Array): Latency {
  const s = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return { median: percentileSorted(s, 50) / 1e3, p99: percentileSorted(s, 99) / 1e3, mean: sum / s.length / 1e3, max: s[s.length - 1] / 1e3 };
}

async function sectionAll(): Promise<void> {
  const total = USERS * PER_USER;
  log(`all: building ${USERS} users × ${PER_USER} sessions = ${total} entries`);
  const rand = prng(7);
  const userIds: string[] = [];
  for (let u = 0; u < USERS; u++) userIds.push(flat(`user-${String(u).padStart(10, '0')}`));
  const cache = systemCache<number>();
  const scanMap = new Map<string, number>(); // what a namespace holds without the trie: encoded key -> value
  const byUser = new Map<string, Map<string, number>>(); // a hand-made secondary index (lower bound)
  const createdAt = Date.now();
  let last: Promise<void> = Promise.resolve();
  for (let u = 0; u < USERS; u++) {
    const uid = userIds[u];
    const batch: Array<[readonly (string | number)[], number]> = [];
    const own = new Map<string, number>();
    for (let s = 0; s < PER_USER; s++) {
      const handle = token(rand, 43);
      batch.push([['user', uid, handle], createdAt]);
      scanMap.set(JSON.stringify(['user', uid, handle]), createdAt);
      own.set(handle, createdAt);
    }
    byUser.set(uid, own);
    last = cache.putMany(batch, PUT_OPTS);
  }
  await last;
  fullGc();

  const patternsFor = (round: number, n: number) => {
    const r = prng(1000 + round);
    const ps: Array<{ pattern: PatternPart[]; uid: string; prefix: string }> = [];
    for (let q = 0; q < n; q++) {
      const uid = userIds[Math.floor(r() * USERS)];
      ps.push({ pattern: ['user', uid, ANY], uid, prefix: JSON.stringify(['user', uid]).slice(0, -1) + ',' });
    }
    return ps;
  };

  const contenders = [
    {
      name: `ClusterCache.all(['user', id, ANY]) (trie index)`,
      run: (round: number) => {
        const ps = patternsFor(round, QUERIES);
        const samples = new Float64Array(QUERIES);
        for (let q = 0; q < QUERIES; q++) {
          const t0 = nowNs();
          const found = cache.all(ps[q].pattern);
          samples[q] = nowNs() - t0;
          if (found.length !== PER_USER) throw new Error(`all() found ${found.length}`);
        }
        return latencies(samples);
      },
    },
    {
      name: `hand-made Map<userId, Map<handle, v>> (lower bound, no sort)`,
      run: (round: number) => {
        const ps = patternsFor(round, QUERIES);
        const samples = new Float64Array(QUERIES);
        for (let q = 0; q < QUERIES; q++) {
          const t0 = nowNs();
          const found: Array<[string, number]> = [];
          const own = byUser.get(ps[q].uid);
          if (own !== undefined) for (const e of own) found.push(e);
          samples[q] = nowNs() - t0;
          if (found.length !== PER_USER) throw new Error(`index found ${found.length}`);
        }
        return latencies(samples);
      },
    },
    {
      name: `full scan of a ${(total / 1e6).toFixed(0)}M-entry Map + startsWith filter (${SCAN_QUERIES} queries/run)`,
      run: (round: number) => {
        const ps = patternsFor(round, SCAN_QUERIES);
        const samples = new Float64Array(SCAN_QUERIES);
        for (let q = 0; q < SCAN_QUERIES; q++) {
          const t0 = nowNs();
          const found: Array<[string, number]> = [];
          const prefix = ps[q].prefix;
          for (const e of scanMap) if (e[0].startsWith(prefix)) found.push(e);
          samples[q] = nowNs() - t0;
          if (found.length !== PER_USER) throw new Error(`scan found ${found.length}`);
        }
        return latencies(samples);
      },
    },
  ];
  const res = await interleaved<Latency>(contenders, RUNS);
  const med = (name: string, f: (l: Latency) => number) => median(res.get(name)!.map(f));
  const base = med(contenders[0].name, (l) => l.median);
  out(`### 3. all(['user', id, ANY]) on ${total.toLocaleString('en')} entries (${USERS.toLocaleString('en')} users × ${PER_USER} sessions); ${QUERIES.toLocaleString('en')} random queries per run`);
  out();
  out(
    table(
      ['query', 'median latency', 'p99 latency', 'mean', 'ratio (median) vs all()', 'runs: median / p99'],
      contenders.map((c) => [
        c.name,
        fmtUs(med(c.name, (l) => l.median)),
        fmtUs(med(c.name, (l) => l.p99)),
        fmtUs(med(c.name, (l) => l.mean)),
        fmtRatio(med(c.name, (l) => l.median) / base),
        res.get(c.name)!.map((l) => `${fmtUs(l.median)} / ${fmtUs(l.p99)}`).join(' · '),
      ]),
    ),
  );
  out();
  out('Latency per query includes the pattern check, the trie walk, the live filter, the sort by key and the [key, value] mapping; each row is the median over runs of that run\'s median / p99.');
  out();
  const p99 = med(contenders[0].name, (l) => l.p99);
  const p50 = med(contenders[0].name, (l) => l.median);
  summaries.push({ target: 'all([user, id, ANY]) under 0.1 ms (median)', value: fmtUs(p50), met: p50 < 100 });
  summaries.push({ target: 'all([user, id, ANY]) under 0.1 ms (p99)', value: fmtUs(p99), met: p99 < 100 });
}

// =====================================================================================
// 4. heap bytes per entry
// =====================================================================================

interface MemResult {
  /** heapUsed delta per session. */
  heap: number;
  /** heapUsed + external + arrayBuffers delta per session. */
  total: number;
  buildS: number;
}

/** Builds `sessions` sessions between two after-GC snapshots; returns the deltas per session. */
async function measureBuild(sessions: number, build: (sessions: number) => Promise<unknown> | unknown): Promise<MemResult> {
  const before = heapAfterGc();
  const t0 = nowNs();
  let kept: unknown = await build(sessions);
  const buildS = (nowNs() - t0) / 1e9;
  const after = heapAfterGc();
  if (kept === undefined) throw new Error('build must return what it keeps');
  kept = undefined;
  void kept;
  return { heap: (after.heapUsed - before.heapUsed) / sessions, total: (after.total - before.total) / sessions, buildS };
}

async function sectionMem(): Promise<void> {
  log(`mem: ${N} entries per build, 1 warm-up build (${MEM_WARMUP_N} entries) + ${MEM_RUNS} runs per layout`);
  // Keys and values are made inside the measured window (they are what a store
  // keeps), each from a fresh PRNG so every build sees the same data. Garbage the
  // build makes (JSON texts, the caller's uncloned value, promises, tokens) is
  // collected by the GC before the "after" snapshot.
  // The builds give the event loop a turn every YIELD_EVERY entries, as a server
  // would between requests: the library's systemClock reads Date.now() once per
  // turn, and a build that never yields would give every entry the same clock
  // reading (one shared HeapNumber for every createdAt, one expiry bucket).
  const buildMap = async (n: number) => {
    const rand = prng(21);
    const keyRand = prng(22);
    const m = new Map<string, SessionValue>();
    for (let i = 0; i < n; i++) {
      m.set(sessionKey(keyRand), sessionValue(i, rand));
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
    }
    return m;
  };
  const buildCache = async (n: number) => {
    const rand = prng(21);
    const keyRand = prng(22);
    const c = systemCache<SessionValue>();
    let p: Promise<void> = Promise.resolve();
    for (let i = 0; i < n; i++) {
      p = c.put(sessionKey(keyRand), sessionValue(i, rand), PUT_OPTS);
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
    }
    await p;
    return c;
  };
  // (b), then every session touched once as a server does: put again under an equal
  // copy of its key (a request's cookie is a new string each time), and swept.
  const buildTouched = async (n: number) => {
    const engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS);
    const c = systemCache<SessionValue>(engine);
    for (const pass of [0, 1]) {
      const rand = prng(21);
      const keyRand = prng(22);
      let p: Promise<void> = Promise.resolve();
      for (let i = 0; i < n; i++) {
        p = c.put(sessionKey(keyRand), sessionValue(i + pass, rand), PUT_OPTS);
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
      }
      await p;
    }
    engine.sweep(); // the overwritten states outnumber the table: the expiry index lets them go
    return c;
  };
  const buildSessions = async (n: number) => {
    const rand = prng(21);
    const c = systemCache<unknown>();
    const sessions = new SessionCache(c, new LocalSessionLock(), TTL);
    const users = Math.max(1, Math.round(n / SESSIONS_PER_USER));
    const uids: string[] = [];
    for (let u = 0; u < users; u++) uids.push(flat(`user-${String(u).padStart(10, '0')}`));
    for (let i = 0; i < n; i++) {
      await sessions.create(uids[i % users], sessionMetadata(i, rand));
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
    }
    return sessions;
  };
  const layouts: Array<{ name: string; build: (sessions: number) => unknown; perSession: number }> = [
    { name: '(a) raw Map<key, value>', build: buildMap, perSession: 1 },
    { name: '(b) ClusterCache.put(key, value, {ttl})', build: buildCache, perSession: 1 },
    { name: '(b′) the same, then every entry put again under an equal copy of its key, and swept', build: buildTouched, perSession: 1 },
    { name: `(c) SessionCache.create (record + local per-user index; ${SESSIONS_PER_USER} sessions/user)`, build: buildSessions, perSession: ENTRIES_PER_SESSION },
  ];
  const res = new Map<string, MemResult[]>(layouts.map((l) => [l.name, []]));
  for (let round = 0; round < 1 + MEM_RUNS; round++) {
    for (const l of layouts) {
      const sessions = (round === 0 ? MEM_WARMUP_N : N) / l.perSession; // N entries per build
      const r = await measureBuild(sessions, l.build);
      log(`mem: round ${round} ${l.name}: ${sessions} sessions, ${r.heap.toFixed(1)} B/session heap, ${r.total.toFixed(1)} B total, build ${r.buildS.toFixed(1)} s`);
      if (round > 0) res.get(l.name)!.push(r);
    }
  }
  const base = median(res.get(layouts[0].name)!.map((r) => r.heap));
  out(`### 4. Heap bytes per session, ${N.toLocaleString('en')} entries per build (44 B key, 8-field value of ~${meanJsonBytes().toFixed(0)} B JSON)`);
  out();
  out(
    table(
      ['layout', 'sessions (entries)', 'heapUsed Δ / session', 'heapUsed+external+arrayBuffers Δ / session', 'heapUsed Δ / entry', 'ratio (heap/session) vs Map', 'runs (heap B/session)', 'build time'],
      layouts.map((l) => {
        const rs = res.get(l.name)!;
        const h = median(rs.map((r) => r.heap));
        return [
          l.name,
          `${(N / l.perSession).toLocaleString('en')} (${N.toLocaleString('en')})`,
          fmtBytes(h),
          fmtBytes(median(rs.map((r) => r.total))),
          fmtBytes(h / l.perSession),
          fmtRatio(h / base),
          rs.map((r) => r.heap.toFixed(0)).join(' · '),
          `${median(rs.map((r) => r.buildS)).toFixed(1)} s`,
        ];
      }),
    ),
  );
  out();
  for (const l of layouts) {
    const h = median(res.get(l.name)!.map((r) => r.heap));
    summaries.push({ target: `≤ 350 B heap per session: ${l.name}`, value: fmtBytes(h), met: h <= 350 });
  }
}

// =====================================================================================
// driver
// =====================================================================================

const SECTIONS: Record<string, () => Promise<void>> = {
  get: () => sectionGet('manual'),
  'get-sys': () => sectionGet('system'),
  put: sectionPut,
  all: sectionAll,
  mem: sectionMem,
};

async function child(name: string): Promise<void> {
  await SECTIONS[name]();
  out(`@@SUMMARY ${JSON.stringify(summaries)}`);
}

function parent(names: string[]): void {
  const t0 = Date.now();
  const all: Summary[] = [];
  out(`## Store benchmarks — ${new Date().toISOString()}`);
  out();
  out(`Node ${process.version} (V8 ${process.versions.v8}), ${require('node:os').cpus().length} CPUs (${require('node:os').cpus()[0]?.model ?? '?'}), lru-cache ${lruVersion()}; flags: ${process.execArgv.join(' ')}`);
  out(`Library under test: ${libraryVersion()}.`);
  out(`Sections run in separate child processes; each figure: 1 discarded warm-up round, then the median of ${RUNS} rounds (${MEM_RUNS} for memory), contenders interleaved.`);
  out();
  let getRows: GetRow[] = [];
  const conditions: string[] = [`load avg 1 min at start: ${(require('node:os').loadavg()[0] as number).toFixed(2)}`];
  for (const [i, name] of names.entries()) {
    const s0 = Date.now();
    log(`section ${name}`);
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', name], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`section ${name} failed (status ${r.status}, signal ${r.signal})`);
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('@@SUMMARY ')) all.push(...(JSON.parse(line.slice(10)) as Summary[]));
      else if (line.startsWith('@@GETROWS ')) getRows.push(...(JSON.parse(line.slice(10)) as GetRow[]));
      else if (line !== '' || !r.stdout.startsWith('@@')) process.stdout.write(line + '\n');
    }
    if (getRows.length > 0 && !(names[i + 1] ?? '').startsWith('get')) {
      renderGet(getRows);
      getRows = [];
    }
    const took = (Date.now() - s0) / 1000;
    const load = require('node:os').loadavg()[0] as number;
    conditions.push(`${name} ${took.toFixed(0)} s (load avg 1 min at end: ${load.toFixed(2)})`);
    log(`section ${name} took ${took.toFixed(1)} s`);
  }
  all.unshift(...summaries.splice(0));
  out('### Targets');
  out();
  out(table(['target', 'measured', 'met?'], all.map((s) => [s.target, s.value, s.met === undefined ? '(report only)' : s.met ? 'yes' : '**no**'])));
  out();
  out(`Total bench time: ${((Date.now() - t0) / 1000).toFixed(0)} s. Sections: ${conditions.join('; ')}.`);
  out('(2 vCPUs; the bench itself adds ~1 to the load average, so a 1-minute load above ~2 means other processes competed with it for CPU.)');
}

/** The commit the library was measured at, and whether libs/ had uncommitted changes (read-only git calls). */
function libraryVersion(): string {
  try {
    const git = (args: string[]) => spawnSync('git', args, { cwd: require('node:path').join(__dirname, '..'), encoding: 'utf8' }).stdout.trim();
    const head = git(['log', '-1', '--format=%h %cI']);
    const dirty = git(['status', '--porcelain', '--', 'libs/cluster-cache/src']) !== '';
    return `libs/cluster-cache at commit ${head}${dirty ? ' plus uncommitted changes in libs/cluster-cache/src' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

function lruVersion(): string {
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'lru-cache', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  child(argv[1]).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  for (const n of names) if (!(n in SECTIONS)) throw new Error(`unknown section ${n}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  parent(names);
}
