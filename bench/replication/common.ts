/**
 * Shared pieces of the replication benchmarks: addresses and ports, the
 * session payload, latency statistics, and a tiny request/response protocol
 * over the Node IPC channel between `run.ts` and the fixture processes.
 *
 * Timestamps that cross processes use `process.hrtime` (Linux
 * `CLOCK_MONOTONIC`): it is one kernel clock, read by every process of this
 * machine, so no clock synchronisation is involved.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(__dirname, '..', '..');
export const HERE = __dirname;

/** The cluster secret of every benchmark node (≥ 16 chars). */
export const COOKIE = 'bench-replication-cookie-0123456789';
export const CLUSTER = 'bench-replication';

/**
 * Fixed ports (override the base with BENCH_PORT_BASE). `run.ts` checks each
 * is free on its host before it starts anything.
 */
const BASE = Number(process.env.BENCH_PORT_BASE ?? 47100);
export const PORTS = {
  /** Figures 1, 2, 4b: sync writer a and its peer b. */
  syncA: BASE + 1,
  syncB: BASE + 2,
  /** Figure 3: async writer and its peer. */
  asyncA: BASE + 3,
  asyncB: BASE + 4,
  /** Figure 4a: both nodes in one process. */
  lagA: BASE + 5,
  lagB: BASE + 6,
  /** Figure 5: the node holding 1M sessions, and the fresh nodes that join it. */
  seed: BASE + 7,
  joiner: BASE + 8,
  /** Raw TCP ping-pong echo server. */
  echo: BASE + 9,
  /** Figure 7: the 2-, 3- and 5-node clusters, 20 ports from here (figure-fanout.ts). */
  fanout: BASE + 20,
  /** Debian's redis-server. */
  redis: BASE + 79,
} as const;

/** Loopback addresses (all of 127/8 reaches `lo` on Linux). */
export const HOSTS = {
  syncA: '127.0.0.2',
  syncB: '127.0.0.3',
  asyncA: '127.0.0.4',
  asyncB: '127.0.0.5',
  lagA: '127.0.0.6',
  lagB: '127.0.0.7',
  seed: '127.0.0.8',
  joiner: '127.0.0.9',
  echo: '127.0.0.1',
  redis: '127.0.0.1',
} as const;

/** Session TTL of every benchmark write (30 min, like Pow's default). */
export const SESSION_TTL = 30 * 60_000;

export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Keeps `concurrency` calls of `op(i)` in flight for `durationMs` and reports
 * the throughput (figure 2, for our puts and for Redis SETs alike).
 */
export async function inFlight(concurrency: number, durationMs: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  let done = 0;
  const start = nowNs();
  const deadline = start + durationMs * 1e6;
  async function worker(): Promise<void> {
    while (nowNs() < deadline) {
      await op(next++);
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = nowNs() - start;
  return { ops: done, elapsedMs: elapsed / 1e6, opsPerSec: done / (elapsed / 1e9) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an already sorted array. */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Summary of one run's latency samples, in µs. */
export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Sequential operations per second over the run. */
  opsPerSec: number;
}

export function summarise(samplesUs: Float64Array | number[], elapsedNs?: number): LatencySummary {
  const sorted = Float64Array.from(samplesUs).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  const n = sorted.length;
  return {
    n,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    p999: pct(sorted, 99.9),
    max: sorted[n - 1],
    mean: sum / n,
    opsPerSec: elapsedNs !== undefined ? n / (elapsedNs / 1e9) : n / (sum / 1e6),
  };
}

// ---------- formatting ----------

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(0)} µs`;
}

export function fmtS(seconds: number): string {
  return Number.isFinite(seconds) ? `${seconds.toFixed(2)} s` : '—';
}

export function fmtOps(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M ops/s`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k ops/s`;
  return `${x.toFixed(0)} ops/s`;
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '—';
}

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Progress lines go to stderr; stdout carries the report. */
export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

// ---------- ports ----------

/** Resolves if `host:port` can be bound right now (then releases it). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// ---------- IPC between run.ts and fixtures ----------

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Response {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A fixture child process that answers commands over IPC. */
export class Fixture {
  readonly output: string[] = [];
  readonly exited: Promise<number | string>;
  /** The first IPC message the child sends (`{ ready: ... }`). */
  readonly hello: Promise<Record<string, unknown>>;
  /** hrtime (ns) when the child was spawned. */
  readonly spawnedAt: number;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exitCode: number | string | undefined;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    spawnedAt: number,
  ) {
    this.spawnedAt = spawnedAt;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.output.push(line);
        if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${label}] ${line}\n`);
      });
    }
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? signal ?? 'unknown';
        for (const p of this.pending.values()) p.reject(new Error(`${label} exited (${this.exitCode}):\n${this.tail()}`));
        this.pending.clear();
        resolve(this.exitCode);
      }),
    );
    let helloResolve!: (v: Record<string, unknown>) => void;
    let helloReject!: (e: Error) => void;
    this.hello = new Promise((resolve, reject) => ((helloResolve = resolve), (helloReject = reject)));
    void this.exited.then(() => helloReject(new Error(`${label} exited (${this.exitCode}) before it was ready:\n${this.tail()}`)));
    child.on('message', (message: Response | { hello: Record<string, unknown> }) => {
      if ('hello' in message) return helloResolve(message.hello);
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${label}: ${message.error}`));
    });
  }

  /** Sends a command and resolves with the child's answer. */
  call<T = unknown>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.label} has exited (${this.exitCode})`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Asks the child to exit cleanly (writes its CPU profile, if any); kills it after `timeout` ms. */
  async stop(timeout = 10_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.call('exit').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeout);
    await this.exited;
    clearTimeout(timer);
  }

  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }
}

export interface Cpu {
  user: number;
  system: number;
}

/** CPU time of each fixture (µs), e.g. before and after a timed run. */
export function cpuOf(fixtures: readonly Fixture[]): Promise<Cpu[]> {
  return Promise.all(fixtures.map((f) => f.call<Cpu>('cpu')));
}

/** CPU used between two snapshots of the same fixtures, per operation, in µs. */
export function cpuPerOp(before: Cpu[], after: Cpu[], ops: number): Cpu[] {
  return before.map((b, i) => ({ user: (after[i].user - b.user) / ops, system: (after[i].system - b.system) / ops }));
}

/** Extra Node flags for fixture children: `--cpu-prof` set by run.ts, plus any in env BENCH_CHILD_FLAGS (e.g. `--trace-gc`). */
export const childNodeFlags: string[] = (process.env.BENCH_CHILD_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

/**
 * Spawns `node -r @swc-node/register bench/replication/<file>` with an IPC
 * channel and `env`, and waits for its hello.
 */
export async function spawnFixture(label: string, file: string, env: Record<string, string>, extraFlags: string[] = []): Promise<Fixture> {
  const spawnedAt = nowNs();
  const child = spawn(process.execPath, [...childNodeFlags, ...extraFlags, '-r', '@swc-node/register', join(HERE, file)], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', BENCH_LABEL: label, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const fixture = new Fixture(label, child, spawnedAt);
  await fixture.hello;
  return fixture;
}

/** Child side: answers `run.ts`'s commands with `handlers`. */
export function serve(handlers: Record<string, (args: any) => unknown>, hello: Record<string, unknown>): void {
  process.on('message', async (message: Request) => {
    // Every fixture reports its CPU time (µs of user and system time since it started).
    const handler = message.cmd === 'cpu' ? () => process.cpuUsage() : handlers[message.cmd];
    try {
      if (message.cmd === 'exit') {
        await handlers.exit?.(message.args);
        process.send!({ id: message.id, ok: true, result: null });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 10);
        return;
      }
      if (handler === undefined) throw new Error(`unknown command ${message.cmd}`);
      const result = await handler(message.args);
      process.send!({ id: message.id, ok: true, result });
    } catch (error) {
      process.send!({ id: message.id, ok: false, error: (error as Error)?.stack ?? String(error) });
    }
  });
  // The parent going away ends the fixture (no orphans).
  process.on('disconnect', () => setTimeout(() => process.exit(0), 50));
  process.send!({ hello });
}
