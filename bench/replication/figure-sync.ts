/** Figures 1, 2 and 4b (two processes, the sync pair): sync put latency vs TCP ping-pong, 100 puts in flight vs Redis SET, idle lag. */
import { ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, cpuOf, cpuPerOp, Fixture, fmtOps, fmtUs, HOSTS, LatencySummary, log, pct, PORTS, sleep } from './common';
import { procCpu, startProcess, stopProcess, version } from './procs';
import { fixture, kept, nodeEnv, ONLY, rounds, section, SIZES, stopAll } from './setup';

// ---------- figures 1, 2 and 4 (two processes): the sync pair ----------

interface SeqResults {
  ours: LatencySummary[];
  ping: LatencySummary[];
  /** CPU per operation (µs) of [writer, peer] and of [pinger, echo server], per round. */
  cpuOurs: Cpu[][];
  cpuPing: Cpu[][];
}

export interface PairResults {
  seq?: SeqResults;
  /** Figure 1 again with the processes pinned: writer and pinger on vCPU 0, peer and echo server on vCPU 1 ('cross'), or all on vCPU 1 ('same'). */
  seqPinned?: { cross: SeqResults; same: SeqResults };
  inflight?: { ours: number[]; redis: number[]; cpuOurs: Cpu[][]; cpuRedis: Cpu[][] };
  lag2?: number[][];
}

export async function syncPair(): Promise<PairResults> {
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
