/** The heal bench's figures for its results file: heal time per shape against the 1 s target, CPU of both nodes, false nodedowns. */
import { median } from '../replication/common';
import type { Figure } from '../util/results';
import type { RunResult } from './run-once';
import { BASE, SHAPES, TARGET_MS } from './setup';

export function healFigures(results: RunResult[]): Figure[] {
  const figures: Figure[] = [];
  const byShape = new Map<string, RunResult[]>();
  for (const r of results.filter((x) => !x.warmup)) byShape.set(r.shape, [...(byShape.get(r.shape) ?? []), r]);
  for (const [name, rs] of byShape) {
    const heal = rs.map((r) => r.healMs);
    figures.push({
      id: `heal:${name}`,
      label: `merge heal, ${SHAPES[name].label} (${BASE.toLocaleString('en')} common base)`,
      ours: median(heal),
      unit: 'ms',
      ratio: median(heal) / TARGET_MS,
      target: `≤ ${TARGET_MS} ms (ratio: to the target)`,
      met: median(heal) <= TARGET_MS,
      rounds: { ours: heal },
    });
    figures.push({
      id: `heal-cpu:${name}`,
      label: `CPU of both nodes during the heal, ${SHAPES[name].label}`,
      ours: median(rs.map((r) => r.cpuA + r.cpuB)),
      unit: 'ms',
      rounds: { ours: rs.map((r) => r.cpuA + r.cpuB) },
    });
    figures.push({
      id: `heal-false-nodedowns:${name}`,
      label: `false nodedowns around the heal, ${SHAPES[name].label} (all runs)`,
      ours: rs.reduce((n, r) => n + r.falseDowns, 0),
      unit: 'events',
      target: '0',
      met: rs.every((r) => r.falseDowns === 0),
    });
  }
  return figures;
}
