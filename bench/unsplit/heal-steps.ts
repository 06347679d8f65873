/** The steps of a heal (digests, key summaries, exchange) and their CPU, and the profile of one heal. */
import { mdTable } from '../replication/common';
import type { Step } from './heal-node';
import { loadProfile, renderSummary, summariseWindow } from './prof-window';
import { NAMES, Shape } from './setup';

// ---------- steps of a heal ----------

/**
 * The steps of a heal as seen on a (the node running it), contiguous: [name, from ns, to ns].
 * AntiEntropy.sync: bucket digests (both sides at once), per-key summaries of the
 * differing buckets (both sides at once), then the states exchanged both ways at once.
 */
export function phasesOf(steps: Step[], t0: number, tEnd: number): Array<[string, number, number]> {
  const digests = steps.find((s) => s.what.startsWith('call sync.digests'));
  const summaries = steps.find((s) => s.what.startsWith('call sync.summaries'));
  const exchange = steps.filter((s) => s.what.startsWith('pull ') || s.what.startsWith('call sync.fetch'));
  if (digests?.end === undefined) return [['whole heal', t0, tEnd]];
  const phases: Array<[string, number, number]> = [
    ['lock', t0, digests.start],
    ['bucket digests (both sides)', digests.start, digests.end],
  ];
  let at = digests.end;
  if (summaries?.end !== undefined) {
    phases.push(['key summaries of differing buckets (both sides)', at, summaries.end]);
    at = summaries.end;
  }
  const exchangeEnd = Math.max(...exchange.map((s) => s.end ?? NaN));
  if (exchange.length > 0 && Number.isFinite(exchangeEnd)) {
    phases.push(['compare + states exchanged both ways (merge, spread)', at, exchangeEnd]);
    at = exchangeEnd;
  }
  phases.push(['healed notice', at, tEnd]);
  return phases;
}

/** CPU ms a process used in [from, to] (ns), interpolated from its [t, cpu µs] timeline. */
export function cpuIn(timeline: number[], from: number, to: number): number {
  const at = (t: number): number => {
    if (t <= timeline[0]) return timeline[1];
    for (let i = 2; i < timeline.length; i += 2) {
      if (timeline[i] >= t) {
        const [t0, c0, t1, c1] = [timeline[i - 2], timeline[i - 1], timeline[i], timeline[i + 1]];
        return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
      }
    }
    return timeline[timeline.length - 1];
  };
  return (at(to) - at(from)) / 1e3;
}

// ---------- profile of one heal ----------

export function profileReport(shape: Shape, pa: ReturnType<typeof loadProfile>, pb: ReturnType<typeof loadProfile>, t0: number, tEnd: number, steps: Step[]): string {
  const out: string[] = [`### Profile of one heal, ${shape.name} (${((tEnd - t0) / 1e6).toFixed(0)} ms, profiler on)`, ''];
  const phases = phasesOf(steps, t0, tEnd);
  const top = (fns: Array<[string, number]>) => fns.slice(0, 4).map(([k, v]) => `${k.replace(/ lib\//, ' ').replace(/:\d+$/, '')} ${v.toFixed(0)}`).join('; ');
  const rows: string[][] = [];
  for (const [name, from, to] of phases) {
    const sa = summariseWindow(pa, from, to);
    const sb = summariseWindow(pb, from, to);
    rows.push([name, ((to - from) / 1e6).toFixed(0), sa.busyMs.toFixed(0), sb.busyMs.toFixed(0), top(sa.functions), top(sb.functions)]);
  }
  out.push(mdTable(['step (on a)', 'wall ms', 'a busy ms', 'b busy ms', 'a: top self time (ms)', 'b: top self time (ms)'], rows), '');
  out.push(renderSummary(`a (${NAMES.a}), whole heal`, summariseWindow(pa, t0, tEnd), 15), '');
  out.push(renderSummary(`b (${NAMES.b}), whole heal`, summariseWindow(pb, t0, tEnd), 15), '');
  return out.join('\n');
}
