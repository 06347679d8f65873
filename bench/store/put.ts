/** Section 2 of the store bench: put / putMany of new keys into an empty structure, against Map.set and lru-cache. */
import { LRUCache } from 'lru-cache';
import { frozenCopy } from '../../libs/cluster-cache/src/util/frozen-copy';
import { fmtOps, fmtRatio, fullGc, interleaved, log, median, nowNs, table } from '../util/harness';
import { sessionKeys, sessionValues, SessionValue } from '../util/session-data';
import { versus } from '../util/results';
import { figures, N_PUT, out, PUT_OPTS, RUNS, runsCol, summaries, systemCache, TTL } from './setup';

export async function sectionPut(): Promise<void> {
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
  for (const c of contenders.slice(3)) {
    const xs = res.get(c.name)!;
    figures.push(versus({ id: `put:${c.name}`, label: `${c.name}, ${N_PUT.toLocaleString('en')} new keys`, ours: median(xs), unit: 'entries/s', anchor: { label: contenders[0].name, value: base, unit: 'entries/s' }, rounds: { ours: xs, anchor: res.get(contenders[0].name)! } }));
  }
  for (const c of contenders.slice(3)) summaries.push({ target: `${c.name} (no target)`, value: `${fmtOps(median(res.get(c.name)!))}/s`, met: undefined });
}
