/** Options, sizes and bookkeeping of the replication bench: fixtures started, raw results, CPU noise per section. */
import { argv, option } from '../util/cli-options';
import { Cpu, Fixture, log, median, nowNs, spawnFixture } from './common';
import { NoiseMeter, track } from './procs';

// ---------- options ----------

export const QUICK = option('quick') !== undefined;
export const ONLY = new Set((option('only') ?? '1,2,3,4,5,6').split(',').map(Number));
export const PROF = option('prof');
export const JSON_OUT = option('json');
export const WAIT = option('no-wait') === undefined;

export const SIZES = {
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

export const fixtures = new Set<Fixture>();
export const raw: Record<string, unknown> = { sizes: SIZES, argv };
export const noise = new NoiseMeter();
export const noiseBySection: Record<string, { oursPct: number; othersPct: number; stealPct: number; seconds: number }> = {};
export let profIndex: Array<{ label: string; pid: number }> = [];

export async function fixture(label: string, file: string, env: Record<string, string>): Promise<Fixture> {
  const f = await spawnFixture(label, file, env);
  fixtures.add(f);
  track(f.child);
  if (PROF !== undefined) profIndex.push({ label, pid: f.child.pid! });
  void f.exited.then(() => fixtures.delete(f));
  return f;
}

export function nodeEnv(name: string, host: string, port: number, writes: 'sync' | 'async', extraNodes?: string[]): Record<string, string> {
  return { BENCH_NODE: JSON.stringify({ name: `${name}@${host}`, host, port, writes, extraNodes }) };
}

export async function stopAll(...list: Array<Fixture | undefined>): Promise<void> {
  await Promise.all(list.filter((f): f is Fixture => f !== undefined).map((f) => f.stop()));
}

export async function section<T>(name: string, body: () => Promise<T>): Promise<T> {
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
export function fmtCpu(names: readonly string[], perRound: Cpu[][]): string {
  return names
    .map((name, i) => {
      const user = median(perRound.map((r) => r[i].user));
      const sys = median(perRound.map((r) => r[i].system));
      return `${name} ${(user + sys).toFixed(1)} µs (${user.toFixed(1)} user + ${sys.toFixed(1)} sys)`;
    })
    .join(', ');
}

export const yes = (ok: boolean) => (ok ? '**met**' : '**not met**');
export const rounds = (runs = SIZES.runs) => Array.from({ length: SIZES.warmup + runs }, (_, i) => i);
export const kept = <T>(xs: T[]) => xs.slice(SIZES.warmup);
export const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ');
