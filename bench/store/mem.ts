/** Section 4 of the store bench: heap bytes per session of a Map, ClusterCache.put and SessionCache.create. */
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { LocalSessionLock } from '../../libs/cluster-cache/src/sessions/session-lock.interface';
import { SessionCache } from '../../libs/cluster-cache/src/sessions/session-cache';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import { Store } from '../../libs/cluster-cache/src/store/store';
import { flat, fmtBytes, fmtRatio, heapAfterGc, log, median, nowNs, prng, table } from '../util/harness';
import { meanJsonBytes, sessionKey, sessionMetadata, sessionValue, SessionValue } from '../util/session-data';
import { ENTRIES_PER_SESSION, figures, MEM_RUNS, MEM_WARMUP_N, N, NODE_OPTS, nextTurn, out, PUT_OPTS, SESSIONS_PER_USER, summaries, systemCache, TTL, YIELD_EVERY } from './setup';

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

export async function sectionMem(): Promise<void> {
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
    if (l === layouts[0]) continue; // the anchor of the others
    figures.push({
      id: `mem:${l.name.slice(0, l.name.indexOf(')') + 1)}`,
      label: `heap per session: ${l.name}`,
      ours: h,
      unit: 'B',
      anchor: { label: layouts[0].name, value: base, unit: 'B' },
      ratio: h / base,
      target: '≤ 350 B',
      met: h <= 350,
      rounds: { ours: res.get(l.name)!.map((r) => r.heap), anchor: res.get(layouts[0].name)!.map((r) => r.heap) },
    });
  }
}
