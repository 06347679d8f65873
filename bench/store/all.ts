/** Section 3 of the store bench: all(['user', id, ANY]) through the trie, against a hand-made index and a full scan. */
import { ANY, PatternPart } from '../../libs/cluster-cache/src/store/key';
import { flat, fmtRatio, fmtUs, fullGc, interleaved, log, median, nowNs, percentileSorted, prng, table } from '../util/harness';
import { token } from '../util/session-data';
import { figures, out, PER_USER, PUT_OPTS, QUERIES, RUNS, SCAN_QUERIES, summaries, systemCache, USERS } from './setup';

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

export async function sectionAll(): Promise<void> {
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
  const index = contenders[1].name;
  for (const [p, f] of [['p50', (l: Latency) => l.median], ['p99', (l: Latency) => l.p99]] as const) {
    const ours = med(contenders[0].name, f);
    figures.push({
      id: `all:${p}`,
      label: `all(['user', id, ANY]) ${p}, ${total.toLocaleString('en')} entries, ${PER_USER} per user`,
      ours,
      unit: 'µs',
      anchor: { label: `${index}, ${p}`, value: med(index, f), unit: 'µs' },
      ratio: ours / med(index, f),
      target: '< 100 µs',
      met: ours < 100,
      rounds: { ours: res.get(contenders[0].name)!.map(f), anchor: res.get(index)!.map(f) },
    });
  }
  summaries.push({ target: 'all([user, id, ANY]) under 0.1 ms (median)', value: fmtUs(p50), met: p50 < 100 });
  summaries.push({ target: 'all([user, id, ANY]) under 0.1 ms (p99)', value: fmtUs(p99), met: p99 < 100 });
}
