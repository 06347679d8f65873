/**
 * Summarises V8 CPU profiles (Profiler.stop output, as `node --cpu-prof`
 * writes them) over a time window: self time per function and per module of
 * the samples taken inside [fromNs, toNs]. Profile timestamps are µs of
 * CLOCK_MONOTONIC, the clock of `process.hrtime`, so a window measured with
 * hrtime in any process of the machine selects the same moments.
 *
 * Each sample counts as the profile's median sampling interval, not as its
 * own time delta: when other processes take the CPU away, the delta of the
 * next sample holds the time the thread was descheduled, and that time would
 * land on whatever the thread resumed in (a syscall such as a socket write
 * or cpuUsage). Counting samples approximates the thread's CPU time instead.
 *
 * Used by heal.bench.ts --prof; also runnable on its own:
 *   node -r @swc-node/register bench/unsplit/prof-window.ts FILE.cpuprofile [FROM_NS TO_NS] [TOP]
 */
import { readFileSync } from 'node:fs';
import { moduleOf, type Profile } from '../util/cpu-profile';

export type { Profile };


export interface WindowSummary {
  /** Sampled busy time (not idle) in the window, ms (samples × median interval). */
  busyMs: number;
  /** The median sampling interval, µs. */
  intervalUs: number;
  windowMs: number;
  functions: Array<[string, number]>;
  modules: Array<[string, number]>;
}


export function loadProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** Self time per function and module of the samples inside [fromNs, toNs] (whole profile if omitted). */
export function summariseWindow(profile: Profile, fromNs = -Infinity, toNs = Infinity): WindowSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let busy = 0;
  const deltas = profile.timeDeltas.filter((d) => d > 0).sort((x, y) => x - y);
  const interval = deltas[deltas.length >> 1] ?? 1000;
  let t = profile.startTime; // µs
  const from = fromNs / 1e3;
  const to = toNs / 1e3;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const us = interval;
    const { functionName, url, lineNumber } = byId.get(profile.samples[i])!.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const key = `${functionName || '(anonymous)'} ${moduleOf(url)}${url ? `:${lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = url === '' ? (functionName.startsWith('(') ? functionName : '(native)') : moduleOf(url);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const windowMs = (Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) / 1e3;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, us / 1e3] as [string, number]);
  return { busyMs: busy / 1e3, intervalUs: interval, windowMs, functions: sorted(fn), modules: sorted(mod) };
}

/** A markdown rendering: top functions, then modules. */
export function renderSummary(title: string, s: WindowSummary, top = 15): string {
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1)} %`;
  const lines = [`#### ${title}`, '', `busy ≈ ${s.busyMs.toFixed(0)} ms of a ${s.windowMs.toFixed(0)} ms window (samples × the median interval, ${s.intervalUs.toFixed(0)} µs)`, '', '| self time | share | function |', '|---:|---:|---|'];
  for (const [k, ms] of s.functions.slice(0, top)) lines.push(`| ${ms.toFixed(0)} ms | ${pct(ms)} | \`${k}\` |`);
  lines.push('', '| self time | share | module |', '|---:|---:|---|');
  for (const [k, ms] of s.modules.slice(0, 10)) lines.push(`| ${ms.toFixed(0)} ms | ${pct(ms)} | ${k} |`);
  return lines.join('\n');
}

if (require.main === module) {
  const [file, from, to, top] = process.argv.slice(2);
  const s = summariseWindow(loadProfile(file), from ? Number(from) : undefined, to ? Number(to) : undefined);
  process.stdout.write(`${renderSummary(file, s, Number(top ?? 25))}\n`);
}
