/** get on each prototype layout and clock, against Map.get. */
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { frozenCopy } from '../../libs/cluster-cache/src/util/frozen-copy';
import { flat, fmtOps, fmtRatio, fullGc, interleaved, log, median, shuffle, table, timeIt } from '../util/harness';
import { sessionKeys, SessionValue, sessionValues } from '../util/session-data';
import { N, NODE, out, RUNS, TTL } from './setup';
import { currentState, dateNowClock, exactCopy, LeanEntry, LeanMeta, nextVersion, SoaStore, SplitStore, TurnClock } from './pieces';

// 1. get

// One loop function per layout and clock, on purpose: a shared loop would see several
// map, entry and clock types, turn polymorphic in V8 and measure that instead.
function gMap(m: Map<string, unknown>, ks: readonly string[]): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) if (m.get(ks[i]) !== undefined) h++;
  return h;
}
function gCurrentFixed(m: Map<string, EntryState>, ks: readonly string[], now: number): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > now && s.value !== undefined) h++;
  }
  return h;
}
function gCurrentDateNow(m: Map<string, EntryState>, ks: readonly string[], clock: { now(): number }): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > clock.now() && s.value !== undefined) h++;
  }
  return h;
}
function gCurrentCoarse(m: Map<string, EntryState>, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > clock.now() && s.value !== undefined) h++;
  }
  return h;
}
function gLeanCoarse(m: Map<string, LeanEntry>, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const e = m.get(ks[i]);
    if (e !== undefined && e.value !== undefined && e.exp * 1000 > clock.now()) h++;
  }
  return h;
}
function gSoaCoarse(s: SoaStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  const values = s.values;
  const exp = s.exp;
  for (let i = 0; i < ks.length; i++) {
    const slot = s.slots.get(ks[i]);
    if (slot !== undefined && exp[slot] * 1000 > clock.now() && values[slot] !== undefined) h++;
  }
  return h;
}
function gSplitCoarse(s: SplitStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) if (s.get(ks[i], clock.now()) !== undefined) h++;
  return h;
}
function gSoaJson(s: SoaStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  const values = s.values;
  const exp = s.exp;
  for (let i = 0; i < ks.length; i++) {
    const slot = s.slots.get(ks[i]);
    if (slot !== undefined && exp[slot] * 1000 > clock.now()) {
      const v = values[slot];
      if (v !== undefined && JSON.parse(v as string) !== undefined) h++;
    }
  }
  return h;
}

export async function sectionGet(): Promise<void> {
  log(`get: ${N} keys/values`);
  const keys = sessionKeys(N);
  const values = sessionValues(N);
  const lookups = shuffle([...keys], 42);
  const now = Date.now();
  const expiresAt = now + TTL;
  const map = new Map<string, SessionValue>();
  for (let i = 0; i < N; i++) map.set(keys[i], values[i]);
  // Per-entry allocation order as in ClusterCache.put: copy the value, then make the state.
  const current = new Map<string, EntryState>();
  for (let i = 0; i < N; i++) current.set(keys[i], currentState(keys[i], frozenCopy(values[i]), expiresAt, nextVersion(now)));
  const lean = new Map<string, LeanEntry>();
  for (let i = 0; i < N; i++) lean.set(keys[i], new LeanEntry(exactCopy(values[i]), Math.ceil(expiresAt / 1000), nextVersion(now), 0, NODE));
  const soa = new SoaStore();
  for (let i = 0; i < N; i++) soa.set(keys[i], exactCopy(values[i]), expiresAt, nextVersion(now));
  soa.trim();
  const soaJson = new SoaStore();
  for (let i = 0; i < N; i++) soaJson.set(keys[i], flat(JSON.stringify(values[i])), expiresAt, nextVersion(now));
  soaJson.trim();
  const split = new SplitStore();
  for (let i = 0; i < N; i++) {
    split.live.set(keys[i], exactCopy(values[i]));
    split.meta.set(keys[i], new LeanMeta(Math.ceil(expiresAt / 1000), nextVersion(now), 0, NODE));
  }
  // Steady state of 1M sessions with a 30-min TTL: ~555 expire per second, so the
  // 2-s window holds ~1,100 keys; use 2,000 random ones.
  for (const k of shuffle([...keys], 7).slice(0, 2000)) split.soon.add(k);
  fullGc();
  const coarse = systemClock;
  const timed = (fn: () => number) => () => {
    const { result: h, timing } = timeIt(fn);
    if (h !== N) throw new Error(`hits ${h}`);
    return { wall: N / (timing.wallNs / 1e9), cpu: N / (timing.cpuNs / 1e9) };
  };
  const contenders = [
    { name: 'Map.get (baseline)', run: timed(() => gMap(map, lookups)) },
    { name: 'current EntryState, now fixed (≈ ClusterCache.get, ManualClock)', run: timed(() => gCurrentFixed(current, lookups, now)) },
    { name: 'current EntryState, Date.now() per get (systemClock before fe3c63c)', run: timed(() => gCurrentDateNow(current, lookups, dateNowClock)) },
    { name: 'P1: current EntryState + systemClock read once per turn (fe3c63c)', run: timed(() => gCurrentCoarse(current, lookups, coarse)) },
    { name: 'P2: lean entry (Smi expiry seconds) + per-turn clock', run: timed(() => gLeanCoarse(lean, lookups, coarse)) },
    { name: 'P3: struct-of-arrays (Map → slot, Int32Array expiry) + per-turn clock', run: timed(() => gSoaCoarse(soa, lookups, coarse)) },
    { name: 'P4: struct-of-arrays, value kept as JSON string, JSON.parse per get', run: timed(() => gSoaJson(soaJson, lookups, coarse)) },
    { name: "P5: live Map<key, value> + 'expiring soon' Set (2k keys) + per-turn clock", run: timed(() => gSplitCoarse(split, lookups, coarse)) },
  ];
  const res = await interleaved<{ wall: number; cpu: number }>(contenders, RUNS);
  const baseRuns = res.get(contenders[0].name)!;
  const base = median(baseRuns.map((r) => r.wall));
  const baseCpu = median(baseRuns.map((r) => r.cpu));
  out(`### Prototype get paths, ${N.toLocaleString('en')} entries, random order (same keys as store.bench.ts), one process`);
  out();
  out(
    table(
      ['layout', 'median ops/s', 'ns/op', 'ratio vs Map.get (wall)', 'ratio (CPU time)', 'paired ratio (median of per-round ratios)', 'runs (wall)'],
      [...res].map(([name, rs]) => {
        const w = median(rs.map((r) => r.wall));
        return [
          name,
          fmtOps(w),
          (1e9 / w).toFixed(0),
          fmtRatio(w / base),
          fmtRatio(median(rs.map((r) => r.cpu)) / baseCpu),
          fmtRatio(median(rs.map((r, i) => r.wall / baseRuns[i].wall))),
          rs.map((r) => fmtOps(r.wall)).join(' · '),
        ];
      }),
    ),
  );
  out();
}
