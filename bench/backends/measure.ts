/** The rows of a section (a path and its anchors) and how a section is measured: interleaved rounds, full GC before each run. */
import { loadavg } from 'node:os';
import { Contender, fmtUs, fullGc, interleaved, log, median } from '../util/harness';
import { Path, Run } from './loops';
import { RUNS, WARMUP } from './options';
import { fmtOps } from './report';

// ---------- rows ----------

export interface Row {
  /** Unique id, e.g. `redis:get`. */
  id: string;
  backend: string;
  path: Path;
  /**
   * The row this one is compared with, if any; with several, the one with the
   * most ops/s in this run (the library against the better raw client).
   */
  anchor?: string | string[];
  anchorLabel?: string;
  /** CPU time so far of the other side (mesh peer, redis-servers), µs. */
  server?: () => Promise<number>;
}

export interface Measured {
  row: Row;
  runs: Run[];
  p50: number;
  p99: number;
  ops: number;
  appCpu: number;
  serverCpu: number;
}

export const loadByStage: Array<[string, number[]]> = [];
export const noteLoad = (stage: string) => loadByStage.push([stage, loadavg().map((x) => Math.round(x * 100) / 100)]);

export async function measure(section: string, rows: Row[], driver: (path: Path, offset: number) => Promise<Run>): Promise<Map<string, Measured>> {
  log(`— ${section} (${rows.length} paths × ${WARMUP} + ${RUNS} rounds)`);
  noteLoad(`before ${section}`);
  const contenders: Contender<Run>[] = rows.map((row) => ({
    name: row.id,
    run: async (round) => {
      const app0 = process.cpuUsage();
      const server0 = row.server === undefined ? 0 : await row.server();
      const r = await driver(row.path, round * 7919);
      const app = process.cpuUsage(app0);
      r.appCpuUs = (app.user + app.system) / r.allOps;
      if (row.server !== undefined) r.serverCpuUs = ((await row.server()) - server0) / r.allOps;
      const bad = r.misses + r.errors > 0 ? ` MISSES ${r.misses} ERRORS ${r.errors}` : '';
      log(`  ${round < WARMUP ? 'warm-up' : `round ${round - WARMUP + 1}`} ${row.id}: p50 ${fmtUs(r.p50)} p99 ${fmtUs(r.p99)} ${fmtOps(r.opsPerSec)}/s${bad}`);
      return r;
    },
  }));
  const results = await interleaved(contenders, RUNS, WARMUP, fullGc);
  const out = new Map<string, Measured>();
  for (const row of rows) {
    const runs = results.get(row.id)!;
    out.set(row.id, {
      row,
      runs,
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      ops: median(runs.map((r) => r.opsPerSec)),
      appCpu: median(runs.map((r) => r.appCpuUs ?? NaN)),
      serverCpu: median(runs.map((r) => r.serverCpuUs ?? NaN)),
    });
  }
  return out;
}
