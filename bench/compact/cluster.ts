/**
 * The issue table's rows that need a cluster (join copy, async writes applied,
 * 100 sync puts in flight), measured by the replication bench's own figures in
 * a child run of bench/replication/run.ts (its default figures 1–6: Redis and
 * Mnesia anchors in the same run, and a complete replication results file; `--quick` sizes when BENCH_N < 1M, a trial), so that one `npm run bench:compact` shows
 * every row. That child also writes its replication and join results files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from '../util/results';
import { log } from '../util/harness';
import { joinFigures, replicationFigures } from '../replication/figures';
import { N, type Row } from './setup';

/** The figure ids taken from the child run, with the targets for them. */
const TAKEN: Array<{ id: string; figure: string; target: string; met: (f: Figure) => boolean }> = [
  { id: 'join-same-data', figure: 'join copy of the session table (1M; 100k in a trial) vs Mnesia `add_table_copy` of the same sessions as maps', target: '≤ 1.0×', met: (f) => f.ours <= f.anchor!.value },
  { id: 'async-applied', figure: 'async writes applied on the peer (median)', target: '≥ 400k/s', met: (f) => f.ours >= 400_000 },
  { id: 'sync-put-100-in-flight', figure: '100 sync puts in flight vs Redis SET (median)', target: '≥ 2.5×', met: (f) => f.ours >= 2.5 * f.anchor!.value },
];

export function clusterRows(): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'compact-cluster-'));
  const json = join(dir, 'raw.json');
  try {
    log('cluster: bench/replication/run.ts (its progress follows)');
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../replication/run.ts'), `--json=${json}`, ...(N < 1_000_000 ? ['--quick'] : [])], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`the replication bench failed (status ${run.status}, signal ${run.signal})`);
    const raw = JSON.parse(readFileSync(json, 'utf8'));
    const figures = [...replicationFigures(raw.pair, raw.asyncRuns, undefined, raw.mnesia), ...joinFigures(raw.join, raw.mnesia)];
    return TAKEN.map(({ id, figure, target, met }) => {
      const f = figures.find((x) => x.id === id);
      if (f === undefined || f.anchor === undefined) throw new Error(`the replication bench gave no ${id} figure with its anchor`);
      return { id, figure, measured: `${fmt(f.ours)} ${f.unit}`, anchor: `${f.anchor.label}: ${fmt(f.anchor.value)} ${f.unit}`, ratio: f.ours / f.anchor.value, target, met: met(f), ours: f.ours, unit: f.unit, anchorValue: { label: f.anchor.label, value: f.anchor.value } };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
