/** Figure 6: the Mnesia anchors (sync_transaction, async_dirty lag and throughput, add_table_copy) on two Erlang nodes. */
import { ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HERE, log, portFree, sleep } from './common';
import { startProcess, stopProcess, version } from './procs';
import { section, SIZES } from './setup';

// ---------- figure 6: Mnesia anchors ----------

export interface MnesiaResults {
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
  /** The tables copied, as loaded on a: records and ETS memory (words), per kind of value. */
  fills?: Array<{ value: 'binary' | 'session_map'; n: number; size: number; words: number; seconds: number }>;
}

export interface MnesiaCopy {
  seconds: number;
  size_on_b: number;
  cpu_a_s: number;
  cpu_b_s: number;
}

export async function mnesia(): Promise<MnesiaResults> {
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
        fills: results.filter((r) => r.kind === 'copy_fill') as MnesiaResults['fills'],
      };
    });
  } finally {
    for (const p of [a, b]) if (p !== undefined) await stopProcess(p);
    if (epmd !== undefined) await stopProcess(epmd);
    rmSync(dir, { recursive: true, force: true });
  }
}
