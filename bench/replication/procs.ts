/**
 * External processes of the replication benchmarks (redis-server, epmd, the
 * two Erlang nodes) and the machine-noise meter.
 *
 * Every process started here is remembered by its pid and ended by that pid
 * (never by name), whatever way run.ts exits.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { log, sleep } from './common';

const started = new Set<ChildProcess>();

/** Spawns `cmd args` and remembers it for {@link killAll}. Its output lines go to `lines`. */
export function startProcess(cmd: string, args: string[], lines: string[] = [], options: { cwd?: string } = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
  started.add(child);
  child.on('exit', () => started.delete(child));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${cmd}] ${line}\n`);
    });
  }
  return child;
}

/** Remembers a child spawned elsewhere (fixtures) so that it is ended on exit too. */
export function track(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  started.add(child);
  child.on('exit', () => started.delete(child));
}

/** Sends SIGTERM to `child` (by pid) and waits for it; SIGKILL after `timeout` ms. */
export async function stopProcess(child: ChildProcess, timeout = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  await exited;
  clearTimeout(timer);
}

/** Ends every process this run started that is still alive (SIGKILL, by pid). */
export function killAll(): void {
  for (const child of started) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** A command's first output line, or undefined if it cannot run. */
export function version(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

/** CPU time (µs of user and system time) of any process, from /proc (10 ms resolution). */
export function procCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  return { user: Number(rest[11]) * tick, system: Number(rest[12]) * tick };
}

// ---------- machine noise ----------

function cpuTotals(): { busy: number; total: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  // Process time (utime + stime) is part of user + nice + system; interrupts are left out.
  return { busy: user + nice + system, total, steal };
}

/** pid → [ppid, utime + stime] of every process. */
function processTable(): Map<number, [number, number]> {
  const table = new Map<number, [number, number]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
      table.set(Number(entry), [Number(rest[1]), Number(rest[11]) + Number(rest[12])]);
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

/**
 * Samples the CPU time of this run's process tree and of everything else on
 * the machine, twice a second. Other users' processes on the same 2 vCPUs
 * (another benchmark, a test suite) skew every figure: each section reports
 * how much CPU others took while it ran.
 */
export class NoiseMeter {
  private timer: NodeJS.Timeout | undefined;
  private lastTicks = new Map<number, number>();
  private lastCpu = cpuTotals();
  private sampled = false;
  /** Accumulated clock ticks (USER_HZ) since the last `section()`. */
  private ours = 0;
  private others = 0;
  private steal = 0;
  private total = 0;

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** CPU used since the previous call, as % of the machine (2 vCPUs = 200 %). */
  section(): { oursPct: number; othersPct: number; stealPct: number } {
    this.sample();
    const ncpu = 2;
    const scale = (x: number) => (this.total > 0 ? (100 * ncpu * x) / this.total : 0);
    const out = { oursPct: scale(this.ours), othersPct: scale(this.others), stealPct: scale(this.steal) };
    this.ours = this.others = this.steal = this.total = 0;
    return out;
  }

  /** Waits (up to `maxMs`) until other processes use less than `pct` % of one vCPU for a second. */
  async waitQuiet(pct = 20, maxMs = 180_000): Promise<{ waitedMs: number; othersPct: number }> {
    const start = Date.now();
    this.section();
    for (;;) {
      await sleep(1000);
      const { othersPct } = this.section();
      if (othersPct < pct) return { waitedMs: Date.now() - start, othersPct };
      if (Date.now() - start > maxMs) {
        log(`other processes still use ${othersPct.toFixed(0)} % CPU after ${maxMs / 1000} s; going on anyway`);
        return { waitedMs: Date.now() - start, othersPct };
      }
      log(`waiting for the machine to be quiet: other processes use ${othersPct.toFixed(0)} % CPU`);
    }
  }

  private sample(): void {
    const table = processTable();
    const mine = new Set<number>([process.pid]);
    // Processes whose ancestry reaches this one (fixtures, redis-server, erl, epmd …).
    const isMine = (pid: number, depth = 0): boolean => {
      if (mine.has(pid)) return true;
      const parent = table.get(pid)?.[0];
      if (parent === undefined || parent <= 1 || depth > 20) return false;
      const result = isMine(parent, depth + 1);
      if (result) mine.add(pid);
      return result;
    };
    const cpu = cpuTotals();
    const deltaTotal = cpu.total - this.lastCpu.total;
    const deltaBusy = cpu.busy - this.lastCpu.busy;
    this.steal += cpu.steal - this.lastCpu.steal;
    this.lastCpu = cpu;
    let ours = 0;
    const ticks = new Map<number, number>();
    for (const [pid, [, t]] of table) {
      ticks.set(pid, t);
      // A process first seen now started since the last sample (except at the very first one).
      const before = this.lastTicks.get(pid) ?? (this.sampled ? 0 : t);
      if (isMine(pid)) ours += t - before;
    }
    this.sampled = true;
    this.lastTicks = ticks;
    this.total += deltaTotal;
    this.ours += ours;
    // Process time that was not ours (kernel threads included, interrupts not).
    this.others += Math.max(0, deltaBusy - ours);
  }
}
