/** Section 1 of the store bench: get hit in random order, Map / lru-cache / ClusterCache on both clocks. */
import { LRUCache } from 'lru-cache';
import { ClusterCache } from '../../libs/cluster-cache/src/cache/cluster-cache';
import { localCache } from '../../libs/cluster-cache/src/cache/testing/local-cache';
import { ManualClock, systemClock } from '../../libs/cluster-cache/src/store/clock';
import { fmtOps, fmtRatio, fullGc, interleaved, log, median, shuffle, table, timeIt } from '../util/harness';
import { sessionKeys, sessionValues, SessionValue } from '../util/session-data';
import { versus } from '../util/results';
import { figures, N, out, RUNS, runsCol, summaries, TTL } from './setup';

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

export interface GetRow {
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
export async function sectionGet(mode: 'manual' | 'system'): Promise<void> {
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

export function renderGet(rows: GetRow[]): void {
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
    figures.push(
      versus(
        {
          id: `get:${r.name}`,
          label: `${r.name}, ${N.toLocaleString('en')} entries, random order`,
          ours: median(r.runs),
          unit: 'ops/s',
          anchor: { label: b.name, value: median(b.runs), unit: 'ops/s' },
          target: '≥ 0.8× Map.get',
          rounds: { ours: r.runs, anchor: b.runs },
          cpuUsPerOp: { ours: 1e6 / median(r.cpuRuns), anchor: 1e6 / median(b.cpuRuns) },
        },
        { atLeast: 0.8 },
      ),
    );
  }
}
