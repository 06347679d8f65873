/**
 * Benchmark of issue 5: "merge heal of 100k divergent keys between two nodes;
 * target ≤ 1 s" (method: shared/notes/perf-anchors.md — one discarded warm-up
 * run, then the median of several runs).
 *
 *   node -r @swc-node/register bench/unsplit/heal.bench.ts      # suggested script: "bench:unsplit"
 *
 * Options:
 *   --runs=N         timed runs per shape after the warm-up (default 5)
 *   --shapes=a,b     any of disjoint, conflict, control (default all three)
 *   --manual         nodes without the `unsplit` option; the bench calls UnsplitService.heal() itself
 *   --ack-timeout=MS the nodes' timing.ackTimeout (default: the library's, 5000)
 *   --base=N         entries of the common base written before each split (default 100000); e.g.
 *                    1000000 for a heal whose full-table scans (digests, key summaries) cover 1M entries
 *   --prof=DIR       one extra profiled heal per shape (after the timed runs, not in the tables): V8 CPU
 *                    profiles of both nodes (node:inspector, the sampler behind --cpu-prof) saved in DIR
 *                    and summarised over the heal window and over each step of the heal
 *   --json=FILE      every raw result as JSON
 *   --no-wait        do not wait for other processes on the machine to go quiet first
 *
 * Env BENCH_CHILD_FLAGS: extra Node flags for both nodes (e.g. `--trace-gc`); BENCH_VERBOSE=1 shows their output.
 *
 * Setup: two nodes, each the library in its own Node process (heal-node.ts),
 * on 127.0.81.1 (a) and 127.0.81.2 (b), `unsplit: { strategy: 'merge' }`,
 * the default timing (heartbeatInterval 250 ms, deadPeerTimeout 1 s), sync writes, RAM only.
 * Two processes rather than TestCluster's one: each side of a heal (digests,
 * streaming out, decoding and merging in) runs on its own core, as it does in
 * production, instead of both sides sharing one event loop.
 *
 * One run: empty both tables; a writes a 100k-entry base (replicated to b);
 * a real partition (nftables drops the packets between the two addresses);
 * both sides see the other go down; the divergent writes; the partition is
 * removed; b (which seeds a) reconnects; both detect the split
 * (`inconsistent_database`) and a — the node whose name sorts first — heals.
 *
 * Timed: from the `inconsistent_database` event on a (the heal starts in that
 * same tick: UnsplitService's subscriber calls heal()) until both a and b have
 * emitted `healed`. Right after, both `ClusterService.digest()` are computed
 * (in parallel, one per process) and must be equal; that check's own time is
 * reported as a separate column ("verified"). "quiet" is when the replicated
 * echo of healed states (see the report) has been acknowledged too.
 *
 * Failure detection: every run also counts the `nodedown` events either node
 * emits outside the split itself — while the base is written, and from the
 * partition's removal until the echo is acknowledged — with the link close
 * reasons and the longest event-loop stall of each process. Those are false
 * alarms (a busy peer taken for a dead one); the report shows their number.
 * Not counted: the bench's own forced full GCs (global.gc in `reset` between
 * runs, and in `arm` while split), which with a 1M-entry base block a node for
 * one to three seconds (logged when `reset`'s drops the link; the nodes relink
 * before the run goes on).
 *
 * The partition uses its own nftables table (not the library's
 * NftablesPartition table, which TestCluster deletes whole: specs running on
 * the machine at the same time would remove our cuts and we theirs); the
 * mechanism is the same: `drop` rules on the output hook between two 127.x
 * addresses.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { childNodeFlags, Fixture, fmtRatio, log, mdTable, median, nowNs, portFree, ROOT, sleep } from '../replication/common';
import { fmtWatch, LinkWatchReport, unexpectedDowns } from '../util/link-watch';
import { NoiseMeter } from '../replication/procs';
import type { Step } from './heal-node';
import { loadProfile, renderSummary, summariseWindow } from './prof-window';

// ---------- options ----------

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
};
const RUNS = Number(opt('runs') ?? 5);
const MANUAL = opt('manual') !== undefined;
const ACK_TIMEOUT = opt('ack-timeout') ? Number(opt('ack-timeout')) : undefined;
const PROF = opt('prof') || undefined;
const JSON_OUT = opt('json') || undefined;
const NO_WAIT = opt('no-wait') !== undefined;
const TARGET_MS = 1000;
const BASE = Number(opt('base') ?? 100_000);

/** The divergent writes of a run, made on each side while split. */
interface Shape {
  name: string;
  label: string;
  a: { seed: number; n: number };
  b: { seed: number; n: number };
  /** Divergent keys (the spec's 100k). */
  divergent: number;
}
const SHAPES: Record<string, Shape> = {
  disjoint: { name: 'disjoint', label: '50k new keys on each side', a: { seed: 11, n: 50_000 }, b: { seed: 12, n: 50_000 }, divergent: 100_000 },
  conflict: { name: 'conflict', label: 'the same 100k new keys on both sides, different values', a: { seed: 13, n: 100_000 }, b: { seed: 13, n: 100_000 }, divergent: 100_000 },
  control: { name: 'control', label: 'control: 500 new keys on each side (1k divergent)', a: { seed: 14, n: 500 }, b: { seed: 15, n: 500 }, divergent: 1_000 },
};
const shapes = (opt('shapes') ?? 'disjoint,conflict,control').split(',').map((s) => {
  const shape = SHAPES[s];
  if (shape === undefined) throw new Error(`unknown shape ${s} (disjoint, conflict, control)`);
  return shape;
});

const HOSTS = { a: '127.0.81.1', b: '127.0.81.2' };
const PORTS = { a: 47281, b: 47282 };
const NAMES = { a: `a@${HOSTS.a}`, b: `b@${HOSTS.b}` };

// ---------- a real partition (bench-owned nftables table) ----------

const NFT_TABLE = 'ncc_bench_unsplit';
const nft = (...args: string[]): void => void execFileSync('nft', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const partition = {
  cut(x: string, y: string): void {
    nft('add', 'table', 'inet', NFT_TABLE);
    nft('add', 'chain', 'inet', NFT_TABLE, 'out', '{ type filter hook output priority 0 ; policy accept ; }');
    nft('add', 'rule', 'inet', NFT_TABLE, 'out', 'ip', 'saddr', x, 'ip', 'daddr', y, 'drop');
    nft('add', 'rule', 'inet', NFT_TABLE, 'out', 'ip', 'saddr', y, 'ip', 'daddr', x, 'drop');
  },
  heal(): void {
    try {
      nft('delete', 'table', 'inet', NFT_TABLE);
    } catch {
      // nothing was cut
    }
  },
};

// ---------- fixtures ----------

const fixtures: Fixture[] = [];

async function startNode(label: 'a' | 'b', profileFlags: string[] = []): Promise<Fixture> {
  const spec = {
    name: NAMES[label],
    host: HOSTS[label],
    port: PORTS[label],
    // As TestCluster: the second node seeds the first (one side reconnects; no duplicate-link race).
    extraNodes: label === 'b' ? [`${HOSTS.a}:${PORTS.a}`] : [],
    unsplit: !MANUAL,
    ackTimeout: ACK_TIMEOUT,
  };
  const child = spawn(process.execPath, ['--expose-gc', ...childNodeFlags, ...profileFlags, '-r', '@swc-node/register', join(__dirname, 'heal-node.ts')], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', HEAL_NODE: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const fixture = new Fixture(label, child, nowNs());
  fixtures.push(fixture);
  await fixture.hello;
  return fixture;
}

function killFixtures(): void {
  for (const f of fixtures) {
    try {
      if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// ---------- one run ----------

interface HealSide {
  events: Array<{ t: number; event: { type: string; [k: string]: unknown } }>;
  steps: Step[];
  pulled: number;
  spreadStates: number;
  mergedInstalled: number;
  mergeCalls: number;
  cpuMs: number;
  size: number;
}
interface Quiet {
  t: number;
  cpuTimeline: number[];
  cpuMs: number;
  spreadStates: number;
  mergedInstalled: number;
  mergeCalls: number;
}
interface Digest {
  digest: Record<string, string>;
  ms: number;
  end: number;
  size: number;
}

export interface RunResult {
  shape: string;
  round: number;
  warmup: boolean;
  /** Table sizes before the heal (a, b) and after (both). */
  sizeA: number;
  sizeB: number;
  sizeAfter: number;
  /** ms: partition removed → inconsistent_database on a (reconnection + detection; not timed). */
  reconnectMs: number;
  /** ms: inconsistent_database on a (or the heal() call, --manual) → both healed. */
  healMs: number;
  healedAMs: number;
  healedBMs: number;
  /** ms: ... → both digests computed (equal). */
  verifiedMs: number;
  digestMs: [number, number];
  digestsEqual: boolean;
  /** ms: ... → the echo of healed states acknowledged on both sides. */
  quietMs: number;
  healFailed: number;
  buckets: number;
  differing: number;
  /** States streamed b→a (a's pull) and a→b (b's pull during unsplit.push). */
  pulledBA: number;
  pulledAB: number;
  /** States that won a merge (HealResult.entries). */
  changed: number;
  /** States re-sent by spread() as replicated writes (a + b). */
  echo: number;
  cpuA: number;
  cpuB: number;
  cpuQuietA: number;
  cpuQuietB: number;
  /** Steps of the heal on a, ms from T0. */
  steps: Array<{ what: string; startMs: number; ms: number; n?: number }>;
  /** Wall time and CPU time of each process per step of the heal (see phasesOf), ms. */
  phases: Array<{ name: string; wallMs: number; cpuA: number; cpuB: number }>;
  /** Steps of the heal on b (its pull during unsplit.push), ms from T0. */
  stepsB: Array<{ what: string; startMs: number; ms: number; n?: number }>;
  /** CPU of other processes on the machine during the run (% of 2 vCPUs = 200 %). */
  othersPct: number;
  /** Profile summary (markdown), profiled runs only. */
  prof?: string;
  /** nodedown events outside the split (base written; partition removed → quiet): false alarms. */
  falseDowns: number;
  /** What each node saw of failure detection in those two windows. */
  watch: Array<[string, LinkWatchReport]>;
}

async function runOnce(a: Fixture, b: Fixture, shape: Shape, round: number, warmup: boolean, noise: NoiseMeter, profile = false): Promise<RunResult> {
  const watched = () => Promise.all([a.call<LinkWatchReport>('watch'), b.call<LinkWatchReport>('watch')]);
  await watched();
  await Promise.all([a.call('reset'), b.call('reset')]);
  // reset forces a full GC (global.gc, not V8's incremental marking): with a 1M-entry heap it blocks
  // for a second or more, which may drop the link — the bench's doing, not counted; the nodes relink first.
  const [resetA, resetB] = await watched();
  if (unexpectedDowns([['a', resetA], ['b', resetB]]) > 0) log(`  reset (forced GC) dropped the link, not counted: ${fmtWatch([['a', resetA], ['b', resetB]])}`);
  await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
  await watched();
  const base = await a.call<{ seconds: number; size: number }>('put', { seed: 1, n: BASE, valueOffset: 0 });
  const bStatus = await b.call<{ size: number }>('status');
  if (bStatus.size !== BASE) throw new Error(`base not replicated: b holds ${bStatus.size}`);
  const [baseA, baseB] = await watched();
  log(`  base ${BASE} written on a in ${base.seconds.toFixed(2)} s (replicated to b); ${fmtWatch([['a', baseA], ['b', baseB]])}; splitting`);

  partition.cut(HOSTS.a, HOSTS.b);
  await Promise.all([a.call('waitPeers', { n: 0 }), b.call('waitPeers', { n: 0 })]);
  const [wa, wb] = await Promise.all([
    a.call<{ seconds: number; size: number }>('put', { seed: shape.a.seed, n: shape.a.n, valueOffset: 100 }),
    b.call<{ seconds: number; size: number }>('put', { seed: shape.b.seed, n: shape.b.n, valueOffset: 900 }),
  ]);
  log(`  split seen; divergent writes: a ${shape.a.n} (${wa.seconds.toFixed(2)} s), b ${shape.b.n} (${wb.seconds.toFixed(2)} s); removing the partition`);

  noise.section();
  await Promise.all([a.call('arm', { profile }), b.call('arm', { profile })]);
  await watched(); // not counted: the split's own nodedowns, and arm's forced full GC
  const unsplitAt = nowNs();
  partition.heal();

  let t0: number;
  let healA: HealSide;
  let healB: HealSide;
  if (MANUAL) {
    await Promise.all([a.call('waitInconsistent'), b.call('waitInconsistent'), a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    const manual = a.call<{ start: number; end: number }>('heal', { peer: NAMES.b });
    [healA, healB] = await Promise.all([a.call<HealSide>('waitHealed'), b.call<HealSide>('waitHealed')]);
    t0 = (await manual).start;
  } else {
    [healA, healB] = await Promise.all([a.call<HealSide>('waitHealed'), b.call<HealSide>('waitHealed')]);
    const inconsistent = healA.events.find((e) => e.event.type === 'inconsistent_database');
    if (inconsistent === undefined) throw new Error('a healed without an inconsistent_database event');
    t0 = inconsistent.t;
  }
  const [da, db] = await Promise.all([a.call<Digest>('digest'), b.call<Digest>('digest')]);
  let digestsEqual = JSON.stringify(da.digest) === JSON.stringify(db.digest);
  let verifiedEnd = Math.max(da.end, db.end);
  for (let i = 0; !digestsEqual && i < 50; i++) {
    await sleep(100);
    const [xa, xb] = await Promise.all([a.call<Digest>('digest'), b.call<Digest>('digest')]);
    digestsEqual = JSON.stringify(xa.digest) === JSON.stringify(xb.digest);
    verifiedEnd = Math.max(xa.end, xb.end);
  }
  const [qa, qb] = await Promise.all([a.call<Quiet>('waitQuiet'), b.call<Quiet>('waitQuiet')]);
  const { othersPct } = noise.section();
  const [healWatchA, healWatchB] = await watched();
  const watch: Array<[string, LinkWatchReport]> = [['a (base)', baseA], ['b (base)', baseB], ['a (heal)', healWatchA], ['b (heal)', healWatchB]];
  const tHealed = (side: HealSide) => side.events.find((e) => e.event.type === 'healed')!.t;
  let prof: string | undefined;
  if (profile && PROF) {
    const files = {
      a: join(PROF, `heal.a-${shape.name}.${a.child.pid}.cpuprofile`),
      b: join(PROF, `heal.b-${shape.name}.${b.child.pid}.cpuprofile`),
    };
    await Promise.all([a.call('profStop', { file: files.a }), b.call('profStop', { file: files.b })]);
    prof = profileReport(shape, loadProfile(files.a), loadProfile(files.b), t0, Math.max(tHealed(healA), tHealed(healB)), healA.steps);
  }

  const diff = healA.steps.find((s) => s.what === 'call sync.digests');
  const healedEvent = healA.events.find((e) => e.event.type === 'healed')!.event as { entries?: number };
  const ms = (ns: number) => ns / 1e6;
  const result: RunResult = {
    shape: shape.name,
    round,
    warmup,
    sizeA: wa.size,
    sizeB: wb.size,
    sizeAfter: da.size,
    reconnectMs: ms(t0 - unsplitAt),
    healMs: ms(Math.max(tHealed(healA), tHealed(healB)) - t0),
    healedAMs: ms(tHealed(healA) - t0),
    healedBMs: ms(tHealed(healB) - t0),
    verifiedMs: ms(verifiedEnd - t0),
    digestMs: [da.ms, db.ms],
    digestsEqual,
    quietMs: ms(Math.max(qa.t, qb.t) - t0),
    healFailed: healA.events.filter((e) => e.event.type === 'heal_failed').length,
    buckets: diff?.detail?.buckets ?? NaN,
    differing: diff?.detail?.differing ?? NaN,
    pulledBA: healA.pulled,
    pulledAB: healB.pulled,
    changed: healedEvent.entries ?? NaN,
    echo: qa.spreadStates + qb.spreadStates,
    cpuA: healA.cpuMs,
    cpuB: healB.cpuMs,
    cpuQuietA: qa.cpuMs,
    cpuQuietB: qb.cpuMs,
    steps: healA.steps.map((s) => ({ what: s.what, startMs: ms(s.start - t0), ms: s.end === undefined ? NaN : ms(s.end - s.start), n: s.n })),
    phases: phasesOf(healA.steps, t0, Math.max(tHealed(healA), tHealed(healB))).map(([name, from, to]) => ({
      name,
      wallMs: ms(to - from),
      cpuA: cpuIn(qa.cpuTimeline, from, to),
      cpuB: cpuIn(qb.cpuTimeline, from, to),
    })),
    stepsB: healB.steps.map((s) => ({ what: s.what, startMs: ms(s.start - t0), ms: s.end === undefined ? NaN : ms(s.end - s.start), n: s.n })),
    othersPct,
    prof,
    falseDowns: unexpectedDowns(watch),
    watch,
  };
  if (!digestsEqual) throw new Error(`digests differ after the heal (${shape.name}, round ${round})`);
  log(
    `  ${warmup ? 'warm-up' : `run ${round}`}: heal ${result.healMs.toFixed(0)} ms (a ${result.healedAMs.toFixed(0)}, b ${result.healedBMs.toFixed(0)}), verified ${result.verifiedMs.toFixed(0)} ms, quiet ${result.quietMs.toFixed(0)} ms; ` +
      `reconnect ${result.reconnectMs.toFixed(0)} ms; ${result.differing}/${result.buckets} buckets differ; pulled b→a ${result.pulledBA}, a→b ${result.pulledAB}; changed ${result.changed}; echo ${result.echo}; ` +
      `cpu a ${result.cpuA.toFixed(0)} ms b ${result.cpuB.toFixed(0)} ms; others ${othersPct.toFixed(0)} %` +
      (result.healFailed > 0 ? `; ${result.healFailed} heal_failed` : '') +
      `; heal window: ${fmtWatch([['a', healWatchA], ['b', healWatchB]])}`,
  );
  return result;
}

// ---------- steps of a heal ----------

/**
 * The steps of a heal as seen on a (the node running it), contiguous: [name, from ns, to ns].
 * AntiEntropy.sync: bucket digests (both sides at once), per-key summaries of the
 * differing buckets (both sides at once), then the states exchanged both ways at once.
 */
function phasesOf(steps: Step[], t0: number, tEnd: number): Array<[string, number, number]> {
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
function cpuIn(timeline: number[], from: number, to: number): number {
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

function profileReport(shape: Shape, pa: ReturnType<typeof loadProfile>, pb: ReturnType<typeof loadProfile>, t0: number, tEnd: number, steps: Step[]): string {
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

// ---------- report ----------

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
const k = (x: number): string => (Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x))) : '—');
const med = (rs: RunResult[], f: (r: RunResult) => number): number => median(rs.map(f));

function report(results: RunResult[], machine: string[]): string {
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
      `${k(r.sizeA)} / ${k(r.sizeB)} → ${k(union)}`,
      `${f0(med(rs, (x) => x.differing))} / ${f0(r.buckets)}`,
      `${k(med(rs, (x) => x.pulledBA))} + ${k(med(rs, (x) => x.pulledAB))} = ${k(pulled)}`,
      `${((100 * pulled) / (r.sizeA + r.sizeB)).toFixed(0)} %`,
      k(med(rs, (x) => x.changed)),
      k(med(rs, (x) => x.echo)),
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
          .map((s) => [s.what, f0(s.startMs), f0(s.ms), s.n === undefined ? '' : k(s.n)]),
      ),
      '',
    );
  }
  out.push('## Every run', '', mdTable(['shape', 'round', 'heal ms', 'verified ms', 'quiet ms', 'reconnect ms', 'differing buckets', 'pulled', 'others %', 'false nodedowns', 'longest stall a / b ms'], results.map((r) => [r.shape, r.warmup ? `${r.round} (warm-up)` : String(r.round), f0(r.healMs), f0(r.verifiedMs), f0(r.quietMs), f0(r.reconnectMs), `${r.differing}/${r.buckets}`, k(r.pulledBA + r.pulledAB), f0(r.othersPct), String(r.falseDowns), `${f0(Math.max(r.watch[0][1].loopMaxMs, r.watch[2][1].loopMaxMs))} / ${f0(Math.max(r.watch[1][1].loopMaxMs, r.watch[3][1].loopMaxMs))}`])), '');
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

// ---------- main ----------

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (nftables partitions)');
  try {
    nft('list', 'tables');
  } catch {
    throw new Error('needs the nft command (Debian: apt-get install nftables)');
  }
  for (const l of ['a', 'b'] as const) if (!(await portFree(HOSTS[l], PORTS[l]))) throw new Error(`${HOSTS[l]}:${PORTS[l]} is in use`);
  partition.heal();
  if (PROF) mkdirSync(PROF, { recursive: true });

  const noise = new NoiseMeter();
  noise.start();
  if (!NO_WAIT) {
    const { waitedMs, othersPct } = await noise.waitQuiet(20, 60_000);
    log(`machine quiet enough after ${(waitedMs / 1000).toFixed(0)} s (others ${othersPct.toFixed(0)} %)`);
  }
  // The code the nodes load (they compile the library when they start).
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  const libChanges = git('--no-optional-locks', 'status', '--porcelain', '--', 'libs').split('\n').filter(Boolean).length;
  const codeVersion = `library at commit ${git('rev-parse', '--short', 'HEAD')}${libChanges > 0 ? ` plus ${libChanges} uncommitted change(s) under libs/` : ' (libs/ clean)'} when the nodes started`;
  const started = Date.now();
  log(`starting nodes a (${NAMES.a}) and b (${NAMES.b}); mode ${MANUAL ? 'manual heal()' : "unsplit: { strategy: 'merge' }"}`);
  const a = await startNode('a');
  const b = await startNode('b');
  await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);

  const results: RunResult[] = [];
  for (let round = 0; round <= RUNS; round++) {
    for (const shape of shapes) {
      log(`${shape.name}, ${round === 0 ? 'warm-up' : `run ${round}/${RUNS}`}`);
      results.push(await runOnce(a, b, shape, round, round === 0, noise));
      await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    }
  }
  const profiles: string[] = [];
  if (PROF) {
    for (const shape of shapes) {
      log(`${shape.name}, profiled run (not in the tables)`);
      const r = await runOnce(a, b, shape, RUNS + 1, true, noise, true);
      profiles.push(r.prof ?? '');
      await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    }
    log(`profiles in ${PROF}`);
  }
  await Promise.all([a.stop(), b.stop()]);
  noise.stop();

  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();

  const machine = [
    `${cpus().length} vCPU ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`,
    `two node processes (a ${NAMES.a}, b ${NAMES.b}), common base ${BASE} entries, default heartbeatInterval (250 ms) and deadPeerTimeout (1 s), ackTimeout ${ACK_TIMEOUT ?? 'default (5000)'} ms, sync writes, RAM only, ${MANUAL ? 'no unsplit option: heal() called by the bench' : "unsplit: { strategy: 'merge' }"}`,
    `session values ~203 B JSON (bench/util/session-data.ts), keys "session:"+uuid (44 B), TTL 30 min`,
    codeVersion,
    `wall time of the whole run ${((Date.now() - started) / 1000).toFixed(0)} s; /proc/loadavg at the end: ${load}`,
  ];
  process.stdout.write(`${report(results, machine)}\n`);
  if (profiles.length > 0) process.stdout.write(`## Profiles (one extra heal per shape with the V8 sampler on; samples inside the timed window only)\n\n${profiles.join('\n\n')}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ machine, results }, null, 2));
}

process.on('exit', () => {
  partition.heal();
  killFixtures();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    partition.heal();
    killFixtures();
    process.exit(130);
  });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  for (const f of fixtures) process.stderr.write(`--- ${f.label} output (tail) ---\n${f.tail(40)}\n`);
  partition.heal();
  killFixtures();
  process.exit(1);
});
