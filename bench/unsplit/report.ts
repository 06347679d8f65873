/** The markdown report of the heal bench: heal time per shape against the 1 s target, steps, failure detection. */
import { fmtRatio, mdTable, median } from '../replication/common';
import { fmtWatch } from '../util/link-watch';
import { MANUAL, RUNS, SHAPES, TARGET_MS } from './setup';
import { RunResult } from './run-once';

// ---------- report ----------

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
export const fmtCount = (x: number): string => (Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x))) : '—');
const med = (rs: RunResult[], f: (r: RunResult) => number): number => median(rs.map(f));

export function report(results: RunResult[], machine: string[]): string {
  const out: string[] = [];
  out.push(`# Unsplit merge heal benchmark (${new Date().toISOString()})`, '');
  out.push(...machine.map((l) => `* ${l}`), '');
  out.push(
    `Timed: \`inconsistent_database\` on a${MANUAL ? ' (here: the `UnsplitService.heal()` call, --manual)' : ''} → both nodes emitted \`healed\`. ` +
      `"verified" adds both \`ClusterService.digest()\` computed right after (in parallel; they were equal in every run). ` +
      `"quiet" adds the acknowledgement of the echo (healed states re-sent by \`spread()\` as replicated writes). ` +
      `Median of ${RUNS} runs after 1 discarded warm-up; min–max in brackets. Target: ≤ ${TARGET_MS} ms.`,
    '',
  );
  const byShape = new Map<string, RunResult[]>();
  for (const r of results.filter((x) => !x.warmup)) byShape.set(r.shape, [...(byShape.get(r.shape) ?? []), r]);
  const range = (rs: RunResult[], f: (r: RunResult) => number) => `${f0(med(rs, f))} (${f0(Math.min(...rs.map(f)))}–${f0(Math.max(...rs.map(f)))})`;
  const rows: string[][] = [];
  for (const [name, rs] of byShape) {
    const shape = SHAPES[name];
    rows.push([
      `${shape.label}`,
      `${range(rs, (r) => r.healMs)} ms`,
      fmtRatio(med(rs, (r) => r.healMs) / TARGET_MS),
      `${range(rs, (r) => r.verifiedMs)} ms`,
      `${range(rs, (r) => r.quietMs)} ms`,
      med(rs, (r) => r.healMs) <= TARGET_MS ? 'met' : 'missed',
    ]);
  }
  out.push('## Heal time', '', mdTable(['divergent writes (100k common base)', 'heal (median, min–max)', 'ratio to 1 s target', 'verified (+digests)', 'quiet (+echo acked)', 'target'], rows), '');

  const rows2: string[][] = [];
  for (const [name, rs] of byShape) {
    const r = rs[0];
    const union = r.sizeAfter;
    const pulled = med(rs, (x) => x.pulledBA + x.pulledAB);
    rows2.push([
      name,
      `${fmtCount(r.sizeA)} / ${fmtCount(r.sizeB)} → ${fmtCount(union)}`,
      `${f0(med(rs, (x) => x.differing))} / ${f0(r.buckets)}`,
      `${fmtCount(med(rs, (x) => x.pulledBA))} + ${fmtCount(med(rs, (x) => x.pulledAB))} = ${fmtCount(pulled)}`,
      `${((100 * pulled) / (r.sizeA + r.sizeB)).toFixed(0)} %`,
      fmtCount(med(rs, (x) => x.changed)),
      fmtCount(med(rs, (x) => x.echo)),
    ]);
  }
  out.push(
    '## What moved (medians)',
    '',
    mdTable(['shape', 'table size a / b → after', 'buckets differing / total', 'states pulled b→a + a→b', 'pulled / (size a + size b)', 'states that won (changed)', 'echo: states re-sent by spread()'], rows2),
    '',
  );

  const rows3: string[][] = [];
  for (const [name, rs] of byShape) {
    rows3.push([
      name,
      f0(med(rs, (r) => r.reconnectMs)),
      `${f0(med(rs, (r) => r.healedAMs))} / ${f0(med(rs, (r) => r.healedBMs))}`,
      `${f0(med(rs, (r) => r.cpuA))} / ${f0(med(rs, (r) => r.cpuB))}`,
      `${f0(med(rs, (r) => r.cpuQuietA))} / ${f0(med(rs, (r) => r.cpuQuietB))}`,
      `${med(rs, (r) => r.digestMs[0]).toFixed(0)} / ${med(rs, (r) => r.digestMs[1]).toFixed(0)}`,
      String(rs.reduce((n, r) => n + r.healFailed, 0)),
      `${f0(med(rs, (r) => r.othersPct))} %`,
    ]);
  }
  out.push(
    '## Context (medians, ms)',
    '',
    mdTable(['shape', 'partition removed → event (untimed)', 'healed on a / on b', 'CPU a / b until healed', 'CPU a / b until quiet', 'digest() a / b', 'heal_failed (all runs)', 'other processes\' CPU (of 200 %)'], rows3),
    '',
  );

  for (const [name, rs] of byShape) {
    const names = rs[0].phases.map((p) => p.name);
    const rows4 = names.map((phase) => {
      const of = (f: (p: RunResult['phases'][number]) => number) => med(rs, (r) => f(r.phases.find((p) => p.name === phase) ?? { name: phase, wallMs: NaN, cpuA: NaN, cpuB: NaN }));
      return [phase, f0(of((p) => p.wallMs)), f0(of((p) => p.cpuA)), f0(of((p) => p.cpuB)), f0(of((p) => Math.max(p.cpuA, p.cpuB)))];
    });
    const bound = med(rs, (r) => r.phases.reduce((n, p) => n + Math.max(p.cpuA, p.cpuB), 0));
    rows4.push(['**whole heal**', f0(med(rs, (r) => r.healMs)), f0(med(rs, (r) => r.phases.reduce((n, p) => n + p.cpuA, 0))), f0(med(rs, (r) => r.phases.reduce((n, p) => n + p.cpuB, 0))), `**${f0(bound)}**`]);
    out.push(
      `### Where the time goes, ${name} (medians per step; CPU from each process's own cpuUsage, sampled every 5 ms)`,
      '',
      mdTable(['step (as run by a)', 'wall ms', 'CPU a ms', 'CPU b ms', 'max(CPU a, CPU b)'], rows4),
      '',
      `Σ max(CPU a, CPU b) over the steps — ${f0(bound)} ms — estimates the heal time on an otherwise idle 2-vCPU machine: the steps run one after the other, and within a step the two sides at best overlap fully, so each step takes at least its busier side's CPU (GC helper threads make CPU slightly overstate the main thread).`,
      '',
    );
  }

  // Steps on a of the median run of each shape.
  for (const [name, rs] of byShape) {
    const sorted = [...rs].sort((x, y) => x.healMs - y.healMs);
    const r = sorted[sorted.length >> 1];
    out.push(
      `### Steps on a, median run of ${name} (heal ${f0(r.healMs)} ms)`,
      '',
      mdTable(
        ['step', 'starts at (ms after T0)', 'takes (ms)', 'states'],
        [...r.steps.map((s) => ({ ...s, what: `a: ${s.what}` })), ...r.stepsB.map((s) => ({ ...s, what: `b: ${s.what}` }))]
          .sort((x, y) => x.startMs - y.startMs)
          .map((s) => [s.what, f0(s.startMs), f0(s.ms), s.n === undefined ? '' : fmtCount(s.n)]),
      ),
      '',
    );
  }
  out.push('## Every run', '', mdTable(['shape', 'round', 'heal ms', 'verified ms', 'quiet ms', 'reconnect ms', 'differing buckets', 'pulled', 'others %', 'false nodedowns', 'longest stall a / b ms'], results.map((r) => [r.shape, r.warmup ? `${r.round} (warm-up)` : String(r.round), f0(r.healMs), f0(r.verifiedMs), f0(r.quietMs), f0(r.reconnectMs), `${r.differing}/${r.buckets}`, fmtCount(r.pulledBA + r.pulledAB), f0(r.othersPct), String(r.falseDowns), `${f0(Math.max(r.watch[0][1].loopMaxMs, r.watch[2][1].loopMaxMs))} / ${f0(Math.max(r.watch[1][1].loopMaxMs, r.watch[3][1].loopMaxMs))}`])), '');
  const falseDowns = results.reduce((n, r) => n + r.falseDowns, 0);
  const detail = results.filter((r) => r.falseDowns > 0).map((r) => `${r.shape} round ${r.round}: ${fmtWatch(r.watch)}`);
  out.push(
    '## Failure detection',
    '',
    `nodedown events outside the splits (base writes, and partition removed → quiet), every run and warm-up included: **${falseDowns}**` + (detail.length > 0 ? `\n\n${detail.map((d) => `- ${d}`).join('\n')}` : '') + '.',
    '',
  );
  return out.join('\n');
}
