/** Heap bytes per session at rest, by every path, against a raw Map in the same process. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LmdbPersistenceDirectory } from '../../libs/cluster-cache/src/persistence/lmdb.persistence';
import { LocalSessionLock } from '../../libs/cluster-cache/src/sessions/session-lock.interface';
import { SessionCache } from '../../libs/cluster-cache/src/sessions/session-cache';
import { flat, fmtBytes, fmtRatio, fullGc, log, median, nowNs, prng, table } from '../util/harness';
import { CREATED_AT, sessionKey, sessionMetadata, sessionValue, token } from '../util/session-data';
import { bytesState, N, node, writePersistedSessions, NODE_OPTS, nextTurn, out, rows, RUNS, TTL, WARMUP_N, YIELD_EVERY } from './setup';
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { Store } from '../../libs/cluster-cache/src/store/store';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import { inSlices } from '../../libs/cluster-cache/src/util/slices';

/** heapUsed after a full GC. */
function heapUsed(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** Bytes of the slabs of what a build kept (ArrayBuffers: outside heapUsed, and apart from LMDB's own buffers). */
function slabBytes(kept: unknown): number {
  const engine = (kept as { engine?: CacheEngine }).engine ?? (kept instanceof CacheEngine ? kept : undefined);
  if (engine === undefined) return 0;
  return engine.store.allTables().reduce((n, t) => n + t.slabBytes, 0);
}

interface Result {
  perSession: number;
  buildS: number;
}

async function measure(n: number, build: (n: number) => Promise<unknown>): Promise<Result> {
  const before = heapUsed();
  const t0 = nowNs();
  let kept: unknown = await build(n);
  const buildS = (nowNs() - t0) / 1e9;
  const after = heapUsed() + slabBytes(kept);
  if (kept === undefined) throw new Error('a build returns what it keeps');
  kept = undefined;
  return { perSession: (after - before) / n, buildS };
}

const buildMap = async (n: number) => {
  const rand = prng(21);
  const keyRand = prng(22);
  const m = new Map<string, unknown>();
  for (let i = 0; i < n; i++) {
    m.set(sessionKey(keyRand), sessionValue(i, rand));
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  return m;
};

const buildPut = (readAll: boolean) => async (n: number) => {
  const rand = prng(21);
  const keyRand = prng(22);
  const { engine, cache } = node();
  const keys: string[] = [];
  let p: Promise<void> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    const key = sessionKey(keyRand);
    if (readAll) keys.push(key);
    p = cache.put(key, sessionValue(i, rand), { ttl: TTL });
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  await p;
  if (readAll) {
    for (const key of keys) cache.get(key);
    engine.sweep();
    for (const key of keys) cache.get(key);
  }
  return { engine, cache };
};

/** Merged from a peer with values as bytes, in chunks of 1000 (a join copy's path once chunks carry bytes). */
const buildMerged = (readAll: boolean) => async (n: number) => {
  const rand = prng(21);
  const keyRand = prng(22);
  const { engine, cache } = node();
  const table = engine.store.table('sessions')!;
  const expiresAt = Date.now() + TTL;
  const keys: string[] = [];
  for (let i = 0; i < n; i += YIELD_EVERY) {
    const chunk = [];
    for (let j = i; j < Math.min(n, i + YIELD_EVERY); j++) {
      const key = sessionKey(keyRand);
      if (readAll) keys.push(key);
      chunk.push(bytesState('cache', key, sessionValue(j, rand), expiresAt + j, 1e15 + j));
    }
    engine.merge(table, chunk);
    await nextTurn();
  }
  if (readAll) {
    for (const key of keys) cache.get(key);
    // The engine's sweep without the compaction it would start in the background (which would hold
    // this engine past the measurement): the fast path of reads opens, then the compaction runs here.
    const now = Date.now();
    table.sweep(now, now + 3000);
    await inSlices(table.compaction());
    for (const key of keys) cache.get(key);
  }
  return { engine, cache };
};

/** A persisted table of n sessions, written once per process (outside the measured window). */
let persisted: { dir: string; n: number } | undefined;
async function persistedDir(n: number): Promise<string> {
  if (persisted !== undefined && persisted.n === n) return persisted.dir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compact-bench-'));
  await writePersistedSessions(dir, n);
  persisted = { dir, n };
  return dir;
}

/** A restart: the table loaded from disk (values as bytes). */
const buildLoaded = async (n: number) => {
  const dir = await persistedDir(n);
  const engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS);
  const table = engine.store.addTable('sessions', 'replicated');
  const disk = await LmdbPersistenceDirectory.open(dir, NODE_OPTS.logger);
  engine.persist(table, await disk.table('sessions'));
  await engine.loadPersisted();
  await disk.close();
  return engine;
};

/** SessionCache-shaped records (`{ userId, metadata, createdAt }`, 2 per user) merged as bytes, with the per-user index observing. */
const buildSessionsMerged = async (n: number) => {
  const rand = prng(21);
  const keyRand = prng(23);
  const { engine, cache } = node();
  const sessions = new SessionCache(cache, new LocalSessionLock(), TTL);
  const table = engine.store.table('sessions')!;
  const expiresAt = Date.now() + TTL;
  const users = Math.max(1, n >> 1);
  for (let i = 0; i < n; i += YIELD_EVERY) {
    const chunk = [];
    for (let j = i; j < Math.min(n, i + YIELD_EVERY); j++) {
      const value = { userId: flat(`user-${String(j % users).padStart(10, '0')}`), metadata: sessionMetadata(j, rand), createdAt: CREATED_AT + j };
      chunk.push(bytesState('cache', token(keyRand, 43), value, expiresAt + j, 1e15 + j));
    }
    engine.merge(table, chunk);
    await nextTurn();
  }
  return { engine, sessions };
};

export async function sectionMem(only?: string): Promise<void> {
  const layouts = [
    { name: 'raw Map<key, value> (anchor)', build: buildMap },
    { name: 'ClusterCache.put (values live)', build: buildPut(false) },
    { name: 'ClusterCache.put, then every entry read once', build: buildPut(true) },
    { name: 'at rest: merged from a peer as bytes (join chunk / peer write path)', build: buildMerged(false) },
    { name: 'at rest: loaded from disk at a restart', build: buildLoaded },
    { name: 'merged as bytes, then every entry read once', build: buildMerged(true) },
    { name: 'SessionCache records at rest, merged as bytes (per-user index included)', build: buildSessionsMerged },
  ].filter((l, i) => only === undefined || i === 0 || l.name.includes(only));
  const results = new Map<string, Result[]>(layouts.map((l) => [l.name, []]));
  for (let round = 0; round <= RUNS; round++) {
    for (const l of layouts) {
      const n = round === 0 ? WARMUP_N : N;
      if (l.build === buildLoaded) await persistedDir(n); // written outside the window
      const r = await measure(n, l.build);
      log(`mem: round ${round} ${l.name}: ${r.perSession.toFixed(1)} B/session, build ${r.buildS.toFixed(2)} s`);
      if (round > 0) results.get(l.name)!.push(r);
    }
  }
  const anchor = median(results.get(layouts[0].name)?.map((r) => r.perSession) ?? [NaN]);
  out(`### Heap per session at rest (${N.toLocaleString('en')} sessions; heapUsed Δ after a full GC plus the slab's ArrayBuffers, median of ${RUNS})`);
  out();
  out(
    table(
      ['layout', 'B / session', 'vs raw Map', 'runs', 'build'],
      layouts.map((l) => {
        const rs = results.get(l.name)!;
        const b = median(rs.map((r) => r.perSession));
        return [l.name, fmtBytes(b), fmtRatio(b / anchor), rs.map((r) => r.perSession.toFixed(0)).join(' · '), `${median(rs.map((r) => r.buildS)).toFixed(2)} s`];
      }),
    ),
  );
  out();
  const figure = (prefix: string) => median([...results].find(([name]) => name.startsWith(prefix))?.[1].map((r) => r.perSession) ?? [NaN]);
  const pairs: Array<[string, string, string, number]> = [
    ['heap-at-rest-merged', 'heap per session at rest, merged as bytes (ClusterCache)', 'at rest: merged', 300],
    ['heap-at-rest-loaded', 'heap per session at rest, loaded from disk (ClusterCache)', 'at rest: loaded', 300],
    ['heap-at-rest-sessions', 'heap per session at rest, merged as bytes (SessionCache)', 'SessionCache records', 340],
  ];
  for (const [id, figureName, layout, target] of pairs) {
    const b = figure(layout);
    if (Number.isNaN(b)) continue;
    rows.push({ id, figure: figureName, measured: fmtBytes(b), anchor: `raw Map ${fmtBytes(anchor)}`, ratio: b / anchor, target: `≤ ${target} B`, met: b <= target, ours: b, unit: 'B', anchorValue: { label: 'raw Map<key, value>', value: anchor } });
  }
  const read = figure('merged as bytes, then');
  const put = figure('ClusterCache.put (values live)');
  const putRead = figure('ClusterCache.put, then');
  if (!Number.isNaN(read)) {
    rows.push({ id: 'heap-read-once', figure: 'heap per session after every entry was read once', measured: fmtBytes(read), anchor: `put ${fmtBytes(put)}; put + read once ${fmtBytes(putRead)}`, ratio: read / putRead, target: '≤ today\'s', met: read <= putRead, ours: read, unit: 'B', anchorValue: { label: 'ClusterCache.put, then every entry read once', value: putRead } });
  }
}
