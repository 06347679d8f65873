/**
 * Benchmarks of the compact form of entries at rest (values held as bytes
 * until read; not part of `npm test`).
 *
 *   npm run bench:compact                 (= node --expose-gc -r @swc-node/register bench/compact/compact.bench.ts)
 *   npm run bench:compact -- mem reads    (some sections only)
 *
 * Sections: mem (heap per session at rest by every path, against a raw Map),
 * reads (get vs Map.get, a field read, the first get of an entry at rest),
 * restart (a load of N persisted sessions, against Mnesia loading the same
 * sessions from disc_copies when `erl` is installed), compaction (the
 * longest pause of a compaction slice), cluster (join copy,
 * async writes applied and 100 sync puts in flight, by a run of the
 * replication bench with its Redis and Mnesia anchors). Each
 * section runs in its own child process; every figure is measured beside its
 * anchor in the same process or run. Sizes: BENCH_N (default 1M), BENCH_RUNS (3). Markdown to stdout,
 * progress to stderr.
 */
import { spawnSync } from 'node:child_process';
import { fmtRatio, log, table } from '../util/harness';
import { writeResults } from '../util/results';
import { sectionMem } from './mem';
import { sectionReads } from './reads';
import { sectionRestart } from './restart';
import { clusterRows } from './cluster';
import { sectionCompaction } from './compaction';
import { out, Row, rows } from './setup';

const SECTIONS: Record<string, () => Promise<void>> = { mem: () => sectionMem(process.env.BENCH_ONLY), reads: sectionReads, restart: sectionRestart, compaction: sectionCompaction };
/** Sections that start processes of their own: run from the parent. */
const PARENT_SECTIONS: Record<string, () => Row[]> = { cluster: clusterRows };

async function child(name: string): Promise<void> {
  await SECTIONS[name]();
  out(`@@ROWS ${JSON.stringify(rows)}`);
}

function parent(names: string[]): void {
  const all: Row[] = [];
  out(`## Compact entries at rest — ${new Date().toISOString()}`);
  out();
  out(`Node ${process.version}, ${require('node:os').cpus().length} CPUs, load avg at start ${(require('node:os').loadavg()[0] as number).toFixed(2)}`);
  out();
  for (const name of names) {
    log(`section ${name}`);
    if (name in PARENT_SECTIONS) {
      all.push(...PARENT_SECTIONS[name]());
      continue;
    }
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', name], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`section ${name} failed (status ${r.status}, signal ${r.signal})`);
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('@@ROWS ')) all.push(...(JSON.parse(line.slice(7)) as Row[]));
      else process.stdout.write(line + '\n');
    }
  }
  out('### Targets (issue table rows measured here)');
  out();
  out(table(['figure', 'measured', 'anchor (same run)', 'ratio', 'target', 'met?'], all.map((r) => [r.figure, r.measured, r.anchor, r.ratio === undefined ? '–' : fmtRatio(r.ratio), r.target, r.met === undefined ? '(see note)' : r.met ? 'yes' : '**no**'])));
  out();
  writeResults(
    'compact',
    all.map((r) => ({
      id: r.id,
      label: r.figure,
      ours: r.ours,
      unit: r.unit,
      ...(r.anchorValue !== undefined ? { anchor: { ...r.anchorValue, unit: r.unit } } : {}),
      ...(r.ratio !== undefined ? { ratio: r.ratio } : {}),
      target: r.target,
      ...(r.met !== undefined ? { met: r.met } : {}),
    })),
  );
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  child(args[1]).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  parent(args.length > 0 ? args : [...Object.keys(SECTIONS), ...Object.keys(PARENT_SECTIONS)]);
}
