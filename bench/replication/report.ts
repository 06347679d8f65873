/** The markdown report of the replication bench: figures against their anchors, per-run notes, CPU noise. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fmtOps, fmtRatio, fmtS, fmtUs, mdTable, median, pct, ROOT } from './common';
import { version } from './procs';
import { fmtWatch, unexpectedDowns } from '../util/link-watch';
import { fmtCpu, list, noiseBySection, PROF, QUICK, SIZES, yes } from './setup';
import { PairResults } from './figure-sync';
import { AsyncResults } from './figure-async';
import { JoinCopy } from './figure-join';
import { MnesiaCopy, MnesiaResults } from './figure-mnesia';

// ---------- report ----------

export function lagStats(runs: number[][]): { p50: number; p99: number; max: number; lost: number; perRun: Array<{ p50: number; p99: number; max: number }> } {
  const perRun = runs.map((lags) => {
    const s = Float64Array.from(lags.filter(Number.isFinite)).sort();
    return { p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
  });
  return {
    p50: median(perRun.map((r) => r.p50)),
    p99: median(perRun.map((r) => r.p99)),
    max: Math.max(...perRun.map((r) => r.max)),
    lost: runs.reduce((n, lags) => n + lags.filter((x) => !Number.isFinite(x)).length, 0),
    perRun,
  };
}

function machineFacts(): string {
  const cpu = cpus();
  const facts = [
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? '?'}; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${release()}`,
    `- Node ${process.version}; redis-server ${version('redis-server', ['--version'])?.match(/v=(\S+)/)?.[1] ?? 'not installed'}; ioredis ${pkgVersion('ioredis')}; msgpackr ${pkgVersion('msgpackr')}; @nestjs/core ${pkgVersion('@nestjs/core')}`,
    `- Library under test: commit ${gitFact(['rev-parse', '--short', 'HEAD'])}, ${gitFact(['status', '--porcelain', '--', 'libs/cluster-cache']).split('\n').filter(Boolean).length} uncommitted file change(s) in libs/cluster-cache at run time`,
    `- Sizes: ${JSON.stringify(SIZES)}${QUICK ? ' (QUICK: not comparable)' : ''}${PROF !== undefined ? ' (PROFILED: slower)' : ''}`,
  ];
  return facts.join('\n');
}

/** Read-only git facts (which library code ran). */
function gitFact(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

function pkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

export function buildReport(pair: PairResults, asyncResults: AsyncResults | undefined, lag1: number[][] | undefined, copied: JoinCopy[], mn: MnesiaResults | undefined): string {
  const head = ['figure', 'ours', 'anchor (same run)', 'ratio ours/anchor', 'target', 'met?'];
  const rows: string[][] = [];
  const notes: string[] = [];
  if (pair.seq) {
    const ours50 = median(pair.seq.ours.map((s) => s.p50));
    const ours99 = median(pair.seq.ours.map((s) => s.p99));
    const ping50 = median(pair.seq.ping.map((s) => s.p50));
    const ping99 = median(pair.seq.ping.map((s) => s.p99));
    rows.push(['1. sync put p50, a→b (two processes)', fmtUs(ours50), `TCP ping-pong RTT p50 ${fmtUs(ping50)}`, fmtRatio(ours50 / ping50), '≤ 1.5×', yes(ours50 <= 1.5 * ping50)]);
    rows.push(['1. sync put p99', fmtUs(ours99), `ping-pong p99 ${fmtUs(ping99)}`, fmtRatio(ours99 / ping99), '—', '—']);
    const m = mn?.writes;
    if (m && m.length > 0) {
      const m50 = median(m.map((w) => w.p50_us));
      const m99 = median(m.map((w) => w.p99_us));
      rows.push(['1. (context) sync put p50 / p99 vs Mnesia sync_transaction', `${fmtUs(ours50)} / ${fmtUs(ours99)}`, `${fmtUs(m50)} / ${fmtUs(m99)}`, `${fmtRatio(ours50 / m50)} / ${fmtRatio(ours99 / m99)}`, '—', '—']);
    }
    notes.push(`1. per run — sync put p50: ${list(pair.seq.ours.map((s) => s.p50), fmtUs)}; p99: ${list(pair.seq.ours.map((s) => s.p99), fmtUs)}; sequential rate ${list(pair.seq.ours.map((s) => s.opsPerSec), fmtOps)}. Ping-pong p50: ${list(pair.seq.ping.map((s) => s.p50), fmtUs)}; p99: ${list(pair.seq.ping.map((s) => s.p99), fmtUs)}.`);
    notes.push(`1. CPU per operation (median of runs) — sync put: ${fmtCpu(['writer a', 'peer b'], pair.seq.cpuOurs)}; ping-pong: ${fmtCpu(['pinger', 'echo server'], pair.seq.cpuPing)}.`);
  }
  if (pair.seqPinned) {
    for (const [mode, label] of [['cross', 'pinned across vCPUs (a, pinger: 0; b, echo: 1)'], ['same', 'all pinned on one vCPU']] as const) {
      const r = pair.seqPinned[mode];
      const o50 = median(r.ours.map((s) => s.p50));
      const o99 = median(r.ours.map((s) => s.p99));
      const p50 = median(r.ping.map((s) => s.p50));
      const p99 = median(r.ping.map((s) => s.p99));
      rows.push([`1. (context) sync put p50 / p99, ${label}`, `${fmtUs(o50)} / ${fmtUs(o99)}`, `ping-pong ${fmtUs(p50)} / ${fmtUs(p99)}`, `${fmtRatio(o50 / p50)} / ${fmtRatio(o99 / p99)}`, '≤ 1.5× (p50)', yes(o50 <= 1.5 * p50)]);
      notes.push(`1. ${label}, per run — sync put p50: ${list(r.ours.map((s) => s.p50), fmtUs)}; p99: ${list(r.ours.map((s) => s.p99), fmtUs)}. Ping-pong p50: ${list(r.ping.map((s) => s.p50), fmtUs)}; p99: ${list(r.ping.map((s) => s.p99), fmtUs)}. CPU per op — ${fmtCpu(['a', 'b'], r.cpuOurs)}; ${fmtCpu(['pinger', 'echo'], r.cpuPing)}.`);
    }
  }
  if (pair.inflight) {
    const ours = median(pair.inflight.ours);
    const red = median(pair.inflight.redis);
    rows.push(['2. sync puts, 100 in flight', fmtOps(ours), `Redis SET, 100 in flight (ioredis) ${fmtOps(red)}`, fmtRatio(ours / red), '≥ 2×', yes(ours >= 2 * red)]);
    notes.push(`2. per run — ours: ${list(pair.inflight.ours, fmtOps)}; Redis: ${list(pair.inflight.redis, fmtOps)}.`);
    notes.push(`2. CPU per operation (median of runs) — ours: ${fmtCpu(['writer a', 'peer b'], pair.inflight.cpuOurs)}; Redis: ${fmtCpu(['ioredis client', 'redis-server'], pair.inflight.cpuRedis)}.`);
  }
  const asyncRuns = asyncResults?.runs;
  if (asyncRuns) {
    const applied = median(asyncRuns.map((r) => r.appliedPerSec));
    rows.push(['3. async writes applied on the peer', fmtOps(applied), '300k ops/s (absolute target)', fmtRatio(applied / 300_000), '≥ 300k ops/s', yes(applied >= 300_000)]);
    notes.push(`3. per run — applied on the peer (a's first put → peer's last apply): ${list(asyncRuns.map((r) => r.appliedPerSec), fmtOps)}; a's put loop alone: ${list(asyncRuns.map((r) => r.localPerSec), fmtOps)}; peer's first→last apply window: ${list(asyncRuns.map((r) => r.peerWindowPerSec), fmtOps)}.`);
    notes.push(`3. CPU per write (median of runs) — ${fmtCpu(['writer a', 'peer b'], asyncRuns.map((r) => r.cpu))}.`);
    const mt = mn?.asyncTput ?? [];
    if (mt.length > 0) {
      const m = median(mt.map((r) => r.visible_on_b_per_s));
      rows.push(['3. (context) vs Mnesia async_dirty, 1 process, until all visible on b', fmtOps(applied), fmtOps(m), fmtRatio(applied / m), '—', '—']);
    }
  }
  if (asyncResults) {
    const downs = unexpectedDowns(asyncResults.watch);
    rows.push(['3. (failure detection) nodedown events in either process during figure 3', String(downs), 'none: a peer busy applying bursts is not dead', '—', '0', yes(downs === 0)]);
    notes.push(`3. failure detection (default timing; every round, warm-up included) — ${fmtWatch(asyncResults.watch)}.`);
  }
  const mLag = mn?.lag && mn.lag.length > 0 ? { p50: median(mn.lag.map((l) => l.p50_us)), p99: median(mn.lag.map((l) => l.p99_us)) } : undefined;
  const mLagText = mLag ? `Mnesia async_dirty lag p99 ${fmtUs(mLag.p99)} (p50 ${fmtUs(mLag.p50)})` : '—';
  if (pair.lag2) {
    const s = lagStats(pair.lag2);
    rows.push(['4. idle lag p99, two processes (shared CLOCK_MONOTONIC)', `${fmtUs(s.p99)} (p50 ${fmtUs(s.p50)})`, mLagText, mLag ? fmtRatio(s.p99 / mLag.p99) : '—', '≤ 200 µs', yes(s.p99 <= 200)]);
    notes.push(`4b. per run (two processes) — p50: ${list(s.perRun.map((r) => r.p50), fmtUs)}; p99: ${list(s.perRun.map((r) => r.p99), fmtUs)}; max ${fmtUs(s.max)}; writes never seen: ${s.lost}.`);
  }
  if (lag1) {
    const s = lagStats(lag1);
    rows.push(['4. idle lag p99, both nodes in one process (real TCP)', `${fmtUs(s.p99)} (p50 ${fmtUs(s.p50)})`, mLagText, mLag ? fmtRatio(s.p99 / mLag.p99) : '—', '≤ 200 µs', yes(s.p99 <= 200)]);
    notes.push(`4a. per run (one process) — p50: ${list(s.perRun.map((r) => r.p50), fmtUs)}; p99: ${list(s.perRun.map((r) => r.p99), fmtUs)}; max ${fmtUs(s.max)}; writes never seen: ${s.lost}.`);
  }
  if (mn?.lag && mn.lag.length > 0) notes.push(`4. Mnesia async_dirty lag per run — p50: ${list(mn.lag.map((l) => l.p50_us), fmtUs)}; p99: ${list(mn.lag.map((l) => l.p99_us), fmtUs)}; max ${fmtUs(Math.max(...mn.lag.map((l) => l.max_us)))}.`);
  const mnesiaCopy = (copies: MnesiaCopy[] | undefined, what: string) =>
    copies !== undefined && copies.length > 0
      ? { seconds: median(copies.map((c) => c.seconds)), text: `Mnesia add_table_copy(ram_copies), ${what}: ${fmtS(median(copies.map((c) => c.seconds)))}` }
      : { seconds: NaN, text: `Mnesia not measured (${mn?.why ?? 'figure 6 not run'})` };
  for (const join of copied) {
    const ours = median(join.runs.map((r) => r.initToReady));
    const spawn = median(join.runs.map((r) => r.spawnToReady));
    const anchor = mnesiaCopy(mn?.copies, '200-byte binary values');
    if (join.values === 'objects') {
      rows.push([`5. join: fresh node copies ${SIZES.copyN / 1e6}M sessions (init → ready)`, fmtS(ours), anchor.text, fmtRatio(ours / anchor.seconds), '≤ 1× Mnesia', Number.isFinite(anchor.seconds) ? yes(ours <= anchor.seconds) : 'n/a']);
      rows.push(['5. (context) same, from process spawn (adds Node + swc + Nest boot)', fmtS(spawn), anchor.text, fmtRatio(spawn / anchor.seconds), '—', '—']);
      const same = mnesiaCopy(mn?.mapCopies, 'the same sessions as maps');
      rows.push(['5. (context) the same data on both sides: Mnesia copies the 8-field sessions as maps', fmtS(ours), same.text, fmtRatio(ours / same.seconds), '—', '—']);
    } else {
      rows.push(['5. (context) opaque values on both sides: ours copies each session as its JSON text', fmtS(ours), anchor.text, fmtRatio(ours / anchor.seconds), '—', '—']);
    }
    const downs = unexpectedDowns(join.watch);
    rows.push([`5. (failure detection) nodedown events during the ${join.values} joins (seed and joiners)`, String(downs), 'a seed busy copying is not dead', '—', '0', yes(downs === 0)]);
    notes.push(`5. failure detection during the ${join.values} joins (spawn → ready of each joiner, warm-up included) — ${fmtWatch(join.watch)}.`);
    notes.push(`5. per joiner (${join.values}) — init→ready: ${list(join.runs.map((r) => r.initToReady), fmtS)}; spawn→ready: ${list(join.runs.map((r) => r.spawnToReady), fmtS)}; entries on the joiner: ${join.runs.map((r) => r.size).join(', ')}; CPU of the joiner from init to ready: ${list(join.runs.map((r) => r.joinerCpu), fmtS)}; CPU of the seed while it served the copy: ${list(join.runs.map((r) => r.seedCpu), fmtS)}. Seed load: ${join.fill.size} entries in ${fmtS(join.fill.seconds)}, heap ${join.fill.heapMiB.toFixed(0)} MiB.`);
  }
  if (mn?.available && mn.writes) {
    notes.push(`6. Mnesia sync_transaction (1 process, ram_copies [a,b]) per run — p50: ${list(mn.writes.map((w) => w.p50_us), fmtUs)}; p99: ${list(mn.writes.map((w) => w.p99_us), fmtUs)}; ${list(mn.writes.map((w) => w.ops_per_s), fmtOps)}. Erlang/OTP ${mn.otp}.`);
    const mt = mn.asyncTput ?? [];
    if (mt.length > 0) notes.push(`6. Mnesia async_dirty per run — visible on b: ${list(mt.map((r) => r.visible_on_b_per_s), fmtOps)}; a's write loop alone: ${list(mt.map((r) => r.local_per_s), fmtOps)}; CPU per write (median) — a ${median(mt.map((r) => r.cpu_a_us_per_op)).toFixed(1)} µs, b ${median(mt.map((r) => r.cpu_b_us_per_op)).toFixed(1)} µs (VM runtime, all threads).`);
    for (const [copies, what] of [[mn.copies, '200-byte binary values'], [mn.mapCopies, 'sessions as maps']] as const) {
      if (copies !== undefined && copies.length > 0) notes.push(`6. Mnesia add_table_copy(ram_copies) of ${SIZES.copyN} records (${what}) per run: ${list(copies.map((c) => c.seconds), fmtS)} (records on b: ${copies.map((c) => c.size_on_b).join(', ')}); CPU per copy: a ${list(copies.map((c) => c.cpu_a_s), fmtS)}, b ${list(copies.map((c) => c.cpu_b_s), fmtS)}.`);
    }
    notes.push(`6. Loading the 200-byte-binary table on a took ${fmtS(mn.fill?.seconds ?? NaN)}.`);
  } else if (mn && !mn.available) {
    notes.push(`6. Mnesia not measured: ${mn.why}.`);
  }
  const noiseRows = Object.entries(noiseBySection).map(([name, n]) => [name, `${n.seconds.toFixed(1)} s`, `${n.oursPct.toFixed(0)} %`, `${n.othersPct.toFixed(0)} %`, `${n.stealPct.toFixed(1)} %`]);
  return [
    machineFacts(),
    '',
    mdTable(head, rows),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    'CPU use while each section ran (2 vCPUs = 200 %; "others" = every process not started by this run):',
    '',
    mdTable(['section', 'wall', 'this run', 'others', 'steal'], noiseRows),
  ].join('\n');
}
