/**
 * Replication benchmarks of nest-cluster-cache, with their anchors measured in
 * the same run (issue 3, "Benchmarks"; method: shared/notes/perf-anchors.md).
 *
 *   npm run bench:replication      # = node -r @swc-node/register bench/replication/run.ts
 *
 * Options:
 *   --only=1,2,…   figures to run (1 sync latency, 2 100-in-flight, 3 async throughput,
 *                  4 idle lag, 5 join copy, 6 Mnesia anchors; 5 needs 6 for its anchor).
 *                  5 copies the sessions as objects (the figure), then as their JSON
 *                  text; 6 copies 200-byte binaries (the anchor), then the same
 *                  sessions as Erlang maps: context rows with the same data on both sides
 *   --quick        small sizes, for trying the harness (figures are meaningless)
 *   --prof=DIR     run every Node fixture with --cpu-prof into DIR (slower figures)
 *   --json=FILE    also write every raw result as JSON
 *   --no-wait      do not wait (up to 1 minute) for other processes on the machine to go quiet first
 *
 * Every figure: one discarded warm-up run, then the median of several runs
 * (5, or 3 for the lag runs and the 1M copies, as the anchors). Our figure and
 * its anchor run interleaved (anchor run, our run, anchor run, …) so machine
 * drift hits both alike. Markdown report on stdout, progress on stderr.
 *
 * Figures 3 and 5 also report failure detection under their load (issue 13:
 * no false nodedown while a peer is merely busy): the `nodedown` events either
 * process emitted, its link closes by reason, and its longest event-loop stall
 * (bench/util/link-watch.ts), on the library's default timing; a nodedown
 * there is a row marked **not met**.
 *
 * Every node is the library booted with ClusterCacheModule.forRoot in its own
 * child process (node-fixture.ts), RAM only, on its own 127.0.0.x address and
 * fixed port. redis-server, epmd and the Erlang nodes are started here and
 * ended by pid at the end.
 */
import { ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  childNodeFlags,
  Cpu,
  cpuOf,
  cpuPerOp,
  fmtOps,
  fmtRatio,
  fmtS,
  fmtUs,
  Fixture,
  HERE,
  HOSTS,
  LatencySummary,
  log,
  mdTable,
  median,
  nowNs,
  pct,
  PORTS,
  portFree,
  ROOT,
  sleep,
  spawnFixture,
} from './common';
import { killAll, NoiseMeter, procCpu, startProcess, stopProcess, track, version } from './procs';
import { fmtWatch, LinkWatchReport, unexpectedDowns } from '../util/link-watch';

// ---------- options ----------

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=').slice(1).join('=') ?? (argv.includes(`--${name}`) ? '' : undefined);
const QUICK = opt('quick') !== undefined;
const ONLY = new Set((opt('only') ?? '1,2,3,4,5,6').split(',').map(Number));
const PROF = opt('prof');
const JSON_OUT = opt('json');
const WAIT = opt('no-wait') === undefined;

const SIZES = {
  warmup: 1,
  runs: 5,
  /** Figure 1: sequential puts and ping-pongs per run. */
  seqN: QUICK ? 500 : 5000,
  /** Figure 2: length of one timed run, keys loaded / cycled. */
  inflightMs: QUICK ? 300 : 1000,
  concurrency: 100,
  keyPool: QUICK ? 10_000 : 100_000,
  /** Figure 3: writes per run, puts per event-loop turn. */
  asyncN: QUICK ? 20_000 : 200_000,
  asyncBatch: 1000,
  /** Figure 4: writes per run, pause, runs. */
  lagN: QUICK ? 200 : 2000,
  lagRuns: 3,
  pauseMs: 1,
  /** Figure 5 / 6: entries copied, fresh joiners (and Mnesia copies) after one warm-up. */
  copyN: QUICK ? 100_000 : 1_000_000,
  copyRuns: 3,
  /** Figure 6: sync_transaction writes per run. */
  mnesiaWrites: QUICK ? 300 : 2000,
  /** Figure 6 (context of figure 3): Mnesia async_dirty writes per run, runs after one warm-up. */
  mnesiaAsyncN: QUICK ? 20_000 : 200_000,
  mnesiaAsyncRuns: 3,
};

// ---------- bookkeeping ----------

const fixtures = new Set<Fixture>();
const raw: Record<string, unknown> = { sizes: SIZES, argv };
const noise = new NoiseMeter();
const noiseBySection: Record<string, { oursPct: number; othersPct: number; stealPct: number; seconds: number }> = {};
let profIndex: Array<{ label: string; pid: number }> = [];

async function fixture(label: string, file: string, env: Record<string, string>): Promise<Fixture> {
  const f = await spawnFixture(label, file, env);
  fixtures.add(f);
  track(f.child);
  if (PROF !== undefined) profIndex.push({ label, pid: f.child.pid! });
  void f.exited.then(() => fixtures.delete(f));
  return f;
}

function nodeEnv(name: string, host: string, port: number, writes: 'sync' | 'async', extraNodes?: string[]): Record<string, string> {
  return { BENCH_NODE: JSON.stringify({ name: `${name}@${host}`, host, port, writes, extraNodes }) };
}

async function stopAll(...list: Array<Fixture | undefined>): Promise<void> {
  await Promise.all(list.filter((f): f is Fixture => f !== undefined).map((f) => f.stop()));
}

async function section<T>(name: string, body: () => Promise<T>): Promise<T> {
  log(`— ${name}`);
  noise.section();
  const start = nowNs();
  try {
    return await body();
  } finally {
    noiseBySection[name] = { ...noise.section(), seconds: (nowNs() - start) / 1e9 };
  }
}

/** Median CPU per op of each process over the rounds: "name 12.3 µs (9.1 user + 3.2 sys)". */
function fmtCpu(names: readonly string[], perRound: Cpu[][]): string {
  return names
    .map((name, i) => {
      const user = median(perRound.map((r) => r[i].user));
      const sys = median(perRound.map((r) => r[i].system));
      return `${name} ${(user + sys).toFixed(1)} µs (${user.toFixed(1)} user + ${sys.toFixed(1)} sys)`;
    })
    .join(', ');
}

const yes = (ok: boolean) => (ok ? '**met**' : '**not met**');
const rounds = (runs = SIZES.runs) => Array.from({ length: SIZES.warmup + runs }, (_, i) => i);
const kept = <T>(xs: T[]) => xs.slice(SIZES.warmup);
const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ');

// ---------- figures 1, 2 and 4 (two processes): the sync pair ----------

interface SeqResults {
  ours: LatencySummary[];
  ping: LatencySummary[];
  /** CPU per operation (µs) of [writer, peer] and of [pinger, echo server], per round. */
  cpuOurs: Cpu[][];
  cpuPing: Cpu[][];
}

interface PairResults {
  seq?: SeqResults;
  /** Figure 1 again with the processes pinned: writer and pinger on vCPU 0, peer and echo server on vCPU 1 ('cross'), or all on vCPU 1 ('same'). */
  seqPinned?: { cross: SeqResults; same: SeqResults };
  inflight?: { ours: number[]; redis: number[]; cpuOurs: Cpu[][]; cpuRedis: Cpu[][] };
  lag2?: number[][];
}

async function syncPair(): Promise<PairResults> {
  const out: PairResults = {};
  const a = await fixture('a(sync)', 'node-fixture.ts', nodeEnv('a', HOSTS.syncA, PORTS.syncA, 'sync'));
  const b = await fixture('b', 'node-fixture.ts', nodeEnv('b', HOSTS.syncB, PORTS.syncB, 'sync', [`${HOSTS.syncA}:${PORTS.syncA}`]));
  await a.call('waitPeers', { n: 1 });
  await b.call('waitPeers', { n: 1 });
  let echo: Fixture | undefined;
  let pinger: Fixture | undefined;
  let redis: ChildProcess | undefined;
  let redisClient: Fixture | undefined;
  const redisDir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  try {
    if (ONLY.has(1)) {
      echo = await fixture('echo', 'pingpong.ts', { BENCH_ROLE: 'server', BENCH_HOST: HOSTS.echo, BENCH_PORT: String(PORTS.echo) });
      pinger = await fixture('pinger', 'pingpong.ts', { BENCH_ROLE: 'client', BENCH_HOST: HOSTS.echo, BENCH_PORT: String(PORTS.echo) });
      const seqRounds = async (seedBase: number): Promise<SeqResults> => {
        const ours: LatencySummary[] = [];
        const ping: LatencySummary[] = [];
        const cpuOurs: Cpu[][] = [];
        const cpuPing: Cpu[][] = [];
        for (const r of rounds()) {
          let before = await cpuOf([pinger!, echo!]);
          ping.push(await pinger!.call<LatencySummary>('run', { n: SIZES.seqN }));
          cpuPing.push(cpuPerOp(before, await cpuOf([pinger!, echo!]), SIZES.seqN));
          before = await cpuOf([a, b]);
          ours.push(await a.call<LatencySummary>('seqPut', { n: SIZES.seqN, seed: seedBase + r }));
          cpuOurs.push(cpuPerOp(before, await cpuOf([a, b]), SIZES.seqN));
          log(`  round ${r}: ping-pong p50 ${fmtUs(ping.at(-1)!.p50)} p99 ${fmtUs(ping.at(-1)!.p99)} | sync put p50 ${fmtUs(ours.at(-1)!.p50)} p99 ${fmtUs(ours.at(-1)!.p99)}`);
        }
        return { ours: kept(ours), ping: kept(ping), cpuOurs: kept(cpuOurs), cpuPing: kept(cpuPing) };
      };
      out.seq = await section('1. sync put latency vs TCP ping-pong', () => seqRounds(1000));
      if (version('taskset', ['--version']) !== undefined) {
        // The same rounds with both pairs placed alike by hand (the scheduler may place them differently).
        const pin = (f: Fixture, cpus: string) => execFileSync('taskset', ['-a', '-p', '-c', cpus, String(f.child.pid)], { stdio: 'ignore' });
        try {
          const cross = await section('1p. same, pinned across vCPUs (a, pinger: 0; b, echo: 1)', async () => {
            for (const f of [a, pinger!]) pin(f, '0');
            for (const f of [b, echo!]) pin(f, '1');
            return seqRounds(1100);
          });
          const same = await section('1p. same, all pinned on vCPU 1', async () => {
            for (const f of [a, b, pinger!, echo!]) pin(f, '1');
            return seqRounds(1200);
          });
          out.seqPinned = { cross, same };
        } finally {
          for (const f of [a, b, pinger!, echo!]) pin(f, '0,1');
        }
      }
    }
    if (ONLY.has(2)) {
      const redisLines: string[] = [];
      redis = startProcess('redis-server', ['--bind', HOSTS.redis, '--port', String(PORTS.redis), '--save', '', '--appendonly', 'no', '--dir', redisDir], redisLines);
      const deadline = Date.now() + 10_000;
      while (!redisLines.some((l) => l.includes('Ready to accept connections'))) {
        if (Date.now() > deadline || redis.exitCode !== null) throw new Error(`redis-server did not start:\n${redisLines.join('\n')}`);
        await sleep(20);
      }
      redisClient = await fixture('ioredis', 'redis-client.ts', { BENCH_PORT: String(PORTS.redis) });
      out.inflight = await section('2. 100 sync puts in flight vs Redis SET', async () => {
        const loaded = await redisClient!.call<{ dbsize: number }>('load', { n: SIZES.keyPool, seed: 2000 });
        await a.call('fill', { n: SIZES.keyPool, seed: 2000, batch: 1000 });
        log(`  loaded ${SIZES.keyPool} keys (redis dbsize ${loaded.dbsize})`);
        const ours: number[] = [];
        const red: number[] = [];
        const cpuOurs: Cpu[][] = [];
        const cpuRedis: Cpu[][] = [];
        const args = { concurrency: SIZES.concurrency, durationMs: SIZES.inflightMs, seed: 2000, pool: SIZES.keyPool };
        for (const r of rounds()) {
          let before = [...(await cpuOf([redisClient!])), procCpu(redis!.pid!)];
          const rr = await redisClient!.call<{ opsPerSec: number; ops: number }>('inflightSet', args);
          red.push(rr.opsPerSec);
          cpuRedis.push(cpuPerOp(before, [...(await cpuOf([redisClient!])), procCpu(redis!.pid!)], rr.ops));
          before = await cpuOf([a, b]);
          const ro = await a.call<{ opsPerSec: number; ops: number }>('inflightPut', args);
          ours.push(ro.opsPerSec);
          cpuOurs.push(cpuPerOp(before, await cpuOf([a, b]), ro.ops));
          log(`  round ${r}: redis ${fmtOps(red.at(-1)!)} | ours ${fmtOps(ours.at(-1)!)}`);
          await sleep(100);
        }
        return { ours: kept(ours), redis: kept(red), cpuOurs: kept(cpuOurs), cpuRedis: kept(cpuRedis) };
      });
    }
    if (ONLY.has(4)) {
      out.lag2 = await section('4b. idle lag, two processes', async () => {
        const runs: number[][] = [];
        for (const r of rounds(SIZES.lagRuns)) {
          const seed = 4000 + r;
          await b.call('lagArm', { n: SIZES.lagN, seed });
          const starts = await a.call<number[]>('lagWrite', { n: SIZES.lagN, seed, pauseMs: SIZES.pauseMs });
          await sleep(50);
          const arrivals = await b.call<Array<number | null>>('lagCollect');
          const lags = starts.map((t, i) => (arrivals[i] === null ? NaN : (arrivals[i]! - t) / 1e3));
          runs.push(lags);
          const s = Float64Array.from(lags.filter(Number.isFinite)).sort();
          log(`  round ${r}: p50 ${fmtUs(pct(s, 50))} p99 ${fmtUs(pct(s, 99))} max ${fmtUs(s[s.length - 1])} (${s.length}/${lags.length} seen)`);
        }
        return kept(runs);
      });
    }
  } finally {
    await stopAll(a, b, echo, pinger, redisClient);
    if (redis !== undefined) await stopProcess(redis);
    rmSync(redisDir, { recursive: true, force: true });
  }
  return out;
}

// ---------- figure 3: async throughput applied on the peer ----------

interface AsyncRun {
  /** CPU per write (µs) of [writer, peer]. */
  cpu: Cpu[];
  appliedPerSec: number;
  localPerSec: number;
  peerWindowPerSec: number;
}

/** What each process of a figure saw of failure detection: [process, report]. */
type Watched = Array<[string, LinkWatchReport]>;

interface AsyncResults {
  runs: AsyncRun[];
  /** Over every round of the figure, warm-up included. */
  watch: Watched;
}

async function asyncPair(): Promise<AsyncResults> {
  const a = await fixture('a(async)', 'node-fixture.ts', nodeEnv('aa', HOSTS.asyncA, PORTS.asyncA, 'async'));
  const b = await fixture('b(async peer)', 'node-fixture.ts', nodeEnv('ab', HOSTS.asyncB, PORTS.asyncB, 'sync', [`${HOSTS.asyncA}:${PORTS.asyncA}`]));
  try {
    await a.call('waitPeers', { n: 1 });
    await b.call('waitPeers', { n: 1 });
    return await section('3. async replication throughput', async () => {
      const runs: AsyncRun[] = [];
      await Promise.all([a.call('watch'), b.call('watch')]);
      for (const r of rounds()) {
        const n = SIZES.asyncN;
        const before = await cpuOf([a, b]);
        const applied = b.call<{ first: number; last: number; count: number }>('expectApplied', { n });
        const burst = await a.call<{ start: number; localDone: number; failed: number }>('burst', { n, seed: 3000 + r, batch: SIZES.asyncBatch });
        const got = await Promise.race([applied, sleep(120_000).then(() => undefined)]);
        if (got === undefined) throw new Error(`peer applied fewer than ${n} entries in 120 s: ${JSON.stringify(await b.call('status'))}`);
        const run = {
          cpu: cpuPerOp(before, await cpuOf([a, b]), n),
          appliedPerSec: n / ((got.last - burst.start) / 1e9),
          localPerSec: n / ((burst.localDone - burst.start) / 1e9),
          peerWindowPerSec: got.count / ((got.last - got.first) / 1e9),
        };
        runs.push(run);
        log(`  round ${r}: applied on peer ${fmtOps(run.appliedPerSec)} (a's puts ${fmtOps(run.localPerSec)}, peer's apply window ${fmtOps(run.peerWindowPerSec)})`);
        await sleep(200);
      }
      const watch: Watched = [['a', await a.call<LinkWatchReport>('watch')], ['b', await b.call<LinkWatchReport>('watch')]];
      log(`  failure detection during the figure: ${fmtWatch(watch)}`);
      return { runs: kept(runs), watch };
    });
  } finally {
    await stopAll(a, b);
  }
}

// ---------- figure 4a: idle lag, one process ----------

async function lagOneProcess(): Promise<number[][]> {
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

// ---------- figure 5: 1M sessions copied to a joining node ----------

interface JoinRun {
  /** CPU (s) of the joiner from init to ready, and of the seed during the round. */
  joinerCpu: number;
  seedCpu: number;
  /** From the start of module init on the joiner to ready with every entry. */
  initToReady: number;
  /** From spawning the joiner process to ready (includes Node, swc and Nest boot). */
  spawnToReady: number;
  size: number;
}

/** What figure 5's sessions are: the 8-field objects (the figure), or their JSON text (context: an opaque value, like the Mnesia anchor's binary). */
type JoinValues = 'objects' | 'json';

interface JoinCopy {
  values: JoinValues;
  fill: { seconds: number; size: number; heapMiB: number };
  runs: JoinRun[];
  /** The seed and each joiner, from the joiner's spawn to its ready (warm-up included; its leave afterwards is not counted). */
  watch: Watched;
}

async function joinCopy(values: JoinValues): Promise<JoinCopy> {
  const valueEnv = { BENCH_VALUES: values };
  const seed = await fixture(`seed(1M ${values})`, 'node-fixture.ts', { ...nodeEnv('seed', HOSTS.seed, PORTS.seed, 'sync'), ...valueEnv });
  try {
    log(`  loading ${SIZES.copyN} sessions into the seed node`);
    const fill = await seed.call<{ seconds: number; size: number; heapMiB: number }>('fill', { n: SIZES.copyN, seed: 5000, batch: 1000 });
    log(`  loaded in ${fmtS(fill.seconds)} (${fill.size} entries, heap ${fill.heapMiB.toFixed(0)} MiB)`);
    const runs = await section(`5. join copy of 1M sessions (${values})`, async () => {
      const runs: JoinRun[] = [];
      const watch: Watched = [];
      for (const r of rounds(SIZES.copyRuns)) {
        await seed.call('watch');
        const seedBefore = (await cpuOf([seed]))[0];
        const joiner = await fixture(`joiner ${r}`, 'node-fixture.ts', {
          ...nodeEnv(`j${r}`, HOSTS.joiner, PORTS.joiner, 'sync', [`${HOSTS.seed}:${PORTS.seed}`]),
          BENCH_ROLE: 'joiner',
          ...valueEnv,
        });
        const hello = (await joiner.hello) as { initStart: number; readyAt: number; size: number; cpuInit: Cpu; cpuReady: Cpu };
        const seedAfter = (await cpuOf([seed]))[0];
        const seen: Watched = [[`seed (joiner ${r})`, await seed.call<LinkWatchReport>('watch')], [`joiner ${r}`, await joiner.call<LinkWatchReport>('watch')]];
        watch.push(...seen);
        const run = {
          joinerCpu: (hello.cpuReady.user + hello.cpuReady.system - hello.cpuInit.user - hello.cpuInit.system) / 1e6,
          seedCpu: (seedAfter.user + seedAfter.system - seedBefore.user - seedBefore.system) / 1e6,
          initToReady: (hello.readyAt - hello.initStart) / 1e9, spawnToReady: (hello.readyAt - joiner.spawnedAt) / 1e9, size: hello.size };
        runs.push(run);
        log(`  round ${r}: init→ready ${fmtS(run.initToReady)}, spawn→ready ${fmtS(run.spawnToReady)}, ${run.size} entries; ${fmtWatch(seen)}`);
        await joiner.stop();
        // The seed must see the joiner leave before the next one (same address) comes.
        while ((await seed.call<{ peers: string[] }>('status')).peers.length > 0) await sleep(20);
      }
      return { runs: kept(runs), watch };
    });
    return { values, fill, ...runs };
  } finally {
    await seed.stop(30_000);
  }
}

// ---------- figure 6: Mnesia anchors ----------

interface MnesiaResults {
  available: boolean;
  why?: string;
  otp?: string;
  writes?: Array<{ p50_us: number; p99_us: number; ops_per_s: number }>;
  lag?: Array<{ p50_us: number; p99_us: number; max_us: number; seen: number; n: number }>;
  asyncTput?: Array<{ visible_on_b_per_s: number; local_per_s: number; cpu_a_us_per_op: number; cpu_b_us_per_op: number }>;
  fill?: { seconds: number };
  /** add_table_copy of the anchor's records (200-byte binary values). */
  copies?: MnesiaCopy[];
  /** add_table_copy of the same sessions as ours, as Erlang maps. */
  mapCopies?: MnesiaCopy[];
}

interface MnesiaCopy {
  seconds: number;
  size_on_b: number;
  cpu_a_s: number;
  cpu_b_s: number;
}

async function mnesia(): Promise<MnesiaResults> {
  const erl = version('erl', ['-noshell', '-eval', 'io:format("~s~n",[erlang:system_info(otp_release)]), halt().']);
  if (erl === undefined) return { available: false, why: '`erl` is not installed (apt-get install -y erlang-nox)' };
  const dir = mkdtempSync(join(tmpdir(), 'bench-mnesia-'));
  const cookie = `bench${process.pid}${Date.now()}`;
  let epmd: ChildProcess | undefined;
  let b: ChildProcess | undefined;
  let a: ChildProcess | undefined;
  const bLines: string[] = [];
  try {
    execFileSync('erlc', ['-o', dir, join(HERE, 'mnesia_bench.erl')], { stdio: 'pipe' });
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    if (await portFree('0.0.0.0', 4369)) {
      epmd = startProcess('epmd', []); // foreground: ended by pid below
      while (await portFree('0.0.0.0', 4369)) await sleep(20);
    } else {
      log('  an epmd already runs on port 4369: using it, leaving it running');
    }
    const common = ['-noshell', '-setcookie', cookie, '-pa', dir];
    b = startProcess('erl', ['-name', 'b@127.0.0.1', ...common, '-mnesia', 'dir', `"${join(dir, 'b')}"`], bLines);
    const aLines: string[] = [];
    return await section('6. Mnesia anchors', async () => {
      const args = [SIZES.warmup, SIZES.runs, SIZES.mnesiaWrites, SIZES.copyN, SIZES.warmup, SIZES.copyRuns, SIZES.lagN, SIZES.lagRuns, SIZES.mnesiaAsyncN, SIZES.mnesiaAsyncRuns].map(String);
      a = startProcess('erl', ['-name', 'a@127.0.0.1', ...common, '-mnesia', 'dir', `"${join(dir, 'a')}"`, '-run', 'mnesia_bench', 'main', 'b@127.0.0.1', ...args], aLines);
      const results: Array<Record<string, any>> = [];
      let seen = 0;
      const code = await new Promise<number | null>((resolve) => {
        const poll = setInterval(() => {
          for (; seen < aLines.length; seen++) {
            const line = aLines[seen];
            if (!line.startsWith('RESULT ')) continue;
            const r = JSON.parse(line.slice(7));
            results.push(r);
            if (r.kind === 'setup') log(`  Erlang/OTP ${r.otp}, nodes ${r.nodes.join(', ')}`);
            else log(`  ${r.kind}${r.warmup ? ' (warm-up)' : ''}: ${JSON.stringify({ ...r, kind: undefined, warmup: undefined })}`);
          }
        }, 100);
        a!.once('exit', (c) => setTimeout(() => (clearInterval(poll), resolve(c)), 150));
      });
      if (code !== 0) throw new Error(`the Mnesia bench failed (exit ${code}):\n${aLines.join('\n')}\n--- b:\n${bLines.join('\n')}`);
      const timed = (kind: string) => results.filter((r) => r.kind === kind && !r.warmup);
      return {
        available: true,
        otp: results.find((r) => r.kind === 'setup')?.otp,
        writes: timed('sync_transaction') as MnesiaResults['writes'],
        lag: timed('async_dirty_lag') as MnesiaResults['lag'],
        asyncTput: timed('async_dirty_throughput') as MnesiaResults['asyncTput'],
        fill: results.find((r) => r.kind === 'copy_fill' && r.value === 'binary') as MnesiaResults['fill'],
        copies: timed('add_table_copy').filter((r) => r.value === 'binary') as MnesiaCopy[],
        mapCopies: timed('add_table_copy').filter((r) => r.value === 'session_map') as MnesiaCopy[],
      };
    });
  } finally {
    for (const p of [a, b]) if (p !== undefined) await stopProcess(p);
    if (epmd !== undefined) await stopProcess(epmd);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- report ----------

function lagStats(runs: number[][]): { p50: number; p99: number; max: number; lost: number; perRun: Array<{ p50: number; p99: number; max: number }> } {
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

function buildReport(pair: PairResults, asyncResults: AsyncResults | undefined, lag1: number[][] | undefined, copied: JoinCopy[], mn: MnesiaResults | undefined): string {
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

// ---------- main ----------

async function checkPorts(): Promise<void> {
  const wanted: Array<[string, number]> = [];
  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(4)) wanted.push([HOSTS.syncA, PORTS.syncA], [HOSTS.syncB, PORTS.syncB]);
  if (ONLY.has(1)) wanted.push([HOSTS.echo, PORTS.echo]);
  if (ONLY.has(2)) wanted.push([HOSTS.redis, PORTS.redis]);
  if (ONLY.has(3)) wanted.push([HOSTS.asyncA, PORTS.asyncA], [HOSTS.asyncB, PORTS.asyncB]);
  if (ONLY.has(4)) wanted.push([HOSTS.lagA, PORTS.lagA], [HOSTS.lagB, PORTS.lagB]);
  if (ONLY.has(5)) wanted.push([HOSTS.seed, PORTS.seed], [HOSTS.joiner, PORTS.joiner]);
  for (const [host, port] of wanted) {
    if (!(await portFree(host, port))) throw new Error(`${host}:${port} is in use; set BENCH_PORT_BASE to another base (now ${PORTS.syncA - 1})`);
  }
}

async function main(): Promise<void> {
  if (PROF !== undefined) {
    const dir = PROF === '' ? mkdtempSync(join(tmpdir(), 'bench-prof-')) : PROF;
    mkdirSync(dir, { recursive: true });
    childNodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    raw.profDir = dir;
    log(`CPU profiles go to ${dir}`);
  }
  await checkPorts();
  noise.start();
  if (WAIT) {
    const quiet = await noise.waitQuiet(20, 60_000); // keeps the whole run within ~5 minutes
    raw.waitedForQuietMs = quiet.waitedMs;
  }
  const started = Date.now();
  let pair: PairResults = {};
  let asyncRuns: AsyncResults | undefined;
  let lag1: number[][] | undefined;
  const copied: JoinCopy[] = [];
  let mn: MnesiaResults | undefined;
  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(4)) pair = await syncPair();
  if (ONLY.has(3)) asyncRuns = await asyncPair();
  if (ONLY.has(4)) lag1 = await lagOneProcess();
  if (ONLY.has(6)) mn = await mnesia();
  if (ONLY.has(5)) for (const values of ['objects', 'json'] as const) copied.push(await joinCopy(values));
  Object.assign(raw, { pair, asyncRuns, lag1, join: copied, mnesia: mn, noise: noiseBySection, seconds: (Date.now() - started) / 1000 });
  if (PROF !== undefined) {
    writeFileSync(join(raw.profDir as string, 'index.json'), JSON.stringify(profIndex, null, 2));
  }
  const text = buildReport(pair, asyncRuns, lag1, copied, mn);
  process.stdout.write(`${text}\n\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(raw, null, 2));
}

let exiting = false;
async function cleanup(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    noise.stop();
    await Promise.race([Promise.all([...fixtures].map((f) => f.stop(3000))), sleep(4000)]);
    killAll();
  }
  process.exit(code);
}

process.on('SIGINT', () => void cleanup(130));
process.on('SIGTERM', () => void cleanup(143));
main().then(
  () => cleanup(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    void cleanup(1);
  },
);
