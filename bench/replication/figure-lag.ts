/** Figure 4a: idle replication lag with both nodes in one process. */
import { fmtUs, log, pct } from './common';
import { fixture, kept, rounds, section, SIZES } from './setup';

// ---------- figure 4a: idle lag, one process ----------

export async function lagOneProcess(): Promise<number[][]> {
  const f = await fixture('lag(one process)', 'lag-one-process.ts', {});
  try {
    return await section('4a. idle lag, one process', async () => {
      const runs: number[][] = [];
      for (const r of rounds(SIZES.lagRuns)) {
        const lags = (await f.call<Array<number | null>>('lag', { n: SIZES.lagN, seed: 4100 + r, pauseMs: SIZES.pauseMs })).map((x) => (x === null ? NaN : x));
        runs.push(lags);
        const s = Float64Array.from(lags.filter(Number.isFinite)).sort();
        log(`  round ${r}: p50 ${fmtUs(pct(s, 50))} p99 ${fmtUs(pct(s, 99))} max ${fmtUs(s[s.length - 1])} (${s.length}/${lags.length} seen)`);
      }
      return kept(runs);
    });
  } finally {
    await f.stop();
  }
}
