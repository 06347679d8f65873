/** Reads of a 1M-session table: get of a read entry vs Map.get, a field read too, and the first get of an entry at rest. */
import { fmtRatio, fmtUs, fullGc, log, median, nowNs, percentileSorted, prng, table } from '../util/harness';
import { sessionKey, sessionValue } from '../util/session-data';
import { bytesState, FIRST_READS, N, node, nextTurn, out, rows, RUNS, TTL, YIELD_EVERY } from './setup';

/** CPU ns per op of `loop` (no allocation in the loops timed this way). */
function cpuNsPerOp(ops: number, loop: () => unknown): number {
  const c0 = process.cpuUsage();
  const sink = loop();
  const c = process.cpuUsage(c0);
  if (sink === undefined) throw new Error('the loop returns what it read');
  return ((c.user + c.system) * 1000) / ops;
}

export async function sectionReads(): Promise<void> {
  const rand = prng(21);
  const keyRand = prng(22);
  const keys: string[] = [];
  const map = new Map<string, { userId: string }>();
  const { engine, cache } = node();
  const table_ = engine.store.table('sessions')!;
  const expiresAt = Date.now() + TTL;
  for (let i = 0; i < N; i += YIELD_EVERY) {
    const chunk = [];
    for (let j = i; j < Math.min(N, i + YIELD_EVERY); j++) {
      const key = sessionKey(keyRand);
      const value = sessionValue(j, rand);
      keys.push(key);
      map.set(key, value);
      chunk.push(bytesState('cache', key, value, expiresAt + j, 1e15 + j));
    }
    engine.merge(table_, chunk);
    await nextTurn();
  }
  // Equal copies of the keys in a random order: a request's key is a new string.
  const order = keys.map((k) => Buffer.from(k, 'latin1').toString('latin1'));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  engine.sweep(); // opens the fast path of reads (LiveValues)

  // First gets of entries at rest, one by one: right after the build, then (context) after a full GC.
  const reads = Math.min(FIRST_READS, Math.floor(order.length / 3));
  const overhead = (() => {
    const t: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const t0 = nowNs();
      t.push(nowNs() - t0);
    }
    return median(t);
  })();
  /** Wall ns of each first get of `order[from, from + reads)`, sorted. */
  const timeFirsts = (from: number): Float64Array => {
    const firsts = new Float64Array(reads);
    for (let i = 0; i < reads; i++) {
      const key = order[from + i];
      const t0 = nowNs();
      const v = cache.get(key);
      firsts[i] = nowNs() - t0 - overhead;
      if (v === undefined) throw new Error('missing');
    }
    return firsts.sort();
  };
  const firsts = timeFirsts(0);
  const firstP50 = percentileSorted(firsts, 50) / 1000;
  const firstP99 = percentileSorted(firsts, 99) / 1000;
  log(`reads: first get p50 ${fmtUs(firstP50)} p99 ${fmtUs(firstP99)} (timer overhead ${overhead} ns subtracted)`);
  // First gets in one batch, by CPU time (steadier than wall time on a shared machine): the next FIRST_READS keys.
  const batch = order.slice(firsts.length, 2 * firsts.length);
  const firstCpuNs = cpuNsPerOp(batch.length, () => {
    let n = 0;
    for (const key of batch) if (cache.get(key) !== undefined) n++;
    return n;
  });
  log(`reads: first get, mean CPU per op over ${batch.length} ${fmtUs(firstCpuNs / 1000)}`);
  // Context: the same reads once a full GC has run (the build's garbage gone; the anchor's Map stays).
  fullGc();
  const afterGc = timeFirsts(2 * reads);
  const gcP50 = percentileSorted(afterGc, 50) / 1000;
  log(`reads: first get after a full GC, p50 ${fmtUs(gcP50)} p99 ${fmtUs(percentileSorted(afterGc, 99) / 1000)}`);
  // Read every entry once, then compare warm reads, in another random order (the first reads allocated the values in the first one).
  for (const key of order) cache.get(key);
  engine.sweep();
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const getMap = () => {
    let n = 0;
    for (const key of order) if (map.get(key) !== undefined) n++;
    return n;
  };
  const getCache = () => {
    let n = 0;
    for (const key of order) if (cache.get(key) !== undefined) n++;
    return n;
  };
  const fieldMap = () => {
    let n = 0;
    for (const key of order) n += map.get(key)!.userId.length;
    return n;
  };
  const fieldCache = () => {
    let n = 0;
    for (const key of order) n += (cache.get(key) as { userId: string }).userId.length;
    return n;
  };
  const res: Record<string, number[]> = { getMap: [], getCache: [], fieldMap: [], fieldCache: [] };
  for (let round = 0; round <= RUNS + 2; round++) {
    const r = { getMap: cpuNsPerOp(order.length, getMap), getCache: cpuNsPerOp(order.length, getCache), fieldMap: cpuNsPerOp(order.length, fieldMap), fieldCache: cpuNsPerOp(order.length, fieldCache) };
    log(`reads: round ${round} ${JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toFixed(0)])))} ns/op`);
    if (round > 0) for (const [k, v] of Object.entries(r)) res[k].push(v);
  }
  const m = (k: string) => median(res[k]);
  // Speed ratio: Map's ns per op over the cache's (≥ 1 means as fast as Map).
  const getRatio = m('getMap') / m('getCache');
  const fieldRatio = m('fieldMap') / m('fieldCache');
  out(`### Reads of ${N.toLocaleString('en')} sessions (random order, equal copies of the keys; CPU ns per op, median of ${RUNS + 2})`);
  out();
  out(
    table(
      ['read', 'cache', 'Map', 'speed vs Map'],
      [
        ['get of a read entry', `${m('getCache').toFixed(0)} ns`, `${m('getMap').toFixed(0)} ns`, fmtRatio(getRatio)],
        ['get + one field', `${m('fieldCache').toFixed(0)} ns`, `${m('fieldMap').toFixed(0)} ns`, fmtRatio(fieldRatio)],
        [`first get of an entry at rest (p50 / p99 of ${firsts.length.toLocaleString('en')}, wall)`, `${fmtUs(firstP50)} / ${fmtUs(firstP99)}`, '–', '–'],
        [`first get of an entry at rest (mean CPU of ${batch.length.toLocaleString('en')} in a row)`, fmtUs(firstCpuNs / 1000), '–', '–'],
        [`first get of an entry at rest after a full GC (p50 / p99 of ${reads.toLocaleString('en')}, wall)`, `${fmtUs(gcP50)} / ${fmtUs(percentileSorted(afterGc, 99) / 1000)}`, '–', '–'],
      ],
    ),
  );
  out();
  rows.push({ id: 'get-read', figure: '`get` of a read entry vs `Map.get` (speed)', measured: `${m('getCache').toFixed(0)} ns`, anchor: `Map.get ${m('getMap').toFixed(0)} ns`, ratio: getRatio, target: '≥ 0.9×', met: getRatio >= 0.9, ours: m('getCache'), unit: 'ns CPU/op', anchorValue: { label: 'Map.get', value: m('getMap') } });
  rows.push({ id: 'get-read-field', figure: '`get` + one field vs `Map.get` + field (speed)', measured: `${m('fieldCache').toFixed(0)} ns`, anchor: `${m('fieldMap').toFixed(0)} ns`, ratio: fieldRatio, target: '≥ 0.85×', met: fieldRatio >= 0.85, ours: m('fieldCache'), unit: 'ns CPU/op', anchorValue: { label: 'Map.get + field', value: m('fieldMap') } });
  rows.push({ id: 'first-get-p50', figure: 'first `get` of an entry at rest, p50 (wall; mean CPU in a row)', measured: `${fmtUs(firstP50)} (${fmtUs(firstCpuNs / 1000)})`, anchor: '–', target: '≤ 2 µs', met: firstP50 <= 2, ours: firstP50, unit: 'µs' });
  rows.push({ id: 'first-get-after-gc-p50', figure: 'first `get` of an entry at rest after a full GC, p50 (wall; context)', measured: fmtUs(gcP50), anchor: '–', target: '–', met: undefined, ours: gcP50, unit: 'µs' });
}
