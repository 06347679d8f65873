/** One autocannon window against the demo, with the CPU each process took in it. */
import autocannon from 'autocannon';
import { log } from '../../replication/common';
import { NoiseMeter, procCpu } from '../../replication/procs';
import { CONNECTIONS, NO_WAIT, PHASE_WAIT, PIPELINING } from './setup';
import { nodePid, script } from './demo';

// ---------- measuring ----------

interface CpuSnap {
  bench: NodeJS.CpuUsage;
  lb: number;
  a: number;
  b: number;
  at: number;
}

function cpuSnap(): CpuSnap {
  const total = (pid: number) => {
    const c = procCpu(pid);
    return c.user + c.system;
  };
  return { bench: process.cpuUsage(), lb: total(script!.pid!), a: total(nodePid('a')), b: total(nodePid('b')), at: performance.now() };
}

/** CPU of each process between two snapshots, in % of one vCPU. */
export interface CpuShare {
  bench: number;
  lb: number;
  a: number;
  b: number;
  /** µs of CPU time node a used (to divide by its requests). */
  aUs: number;
}

function cpuBetween(x: CpuSnap, y: CpuSnap): CpuShare {
  const wallUs = (y.at - x.at) * 1e3;
  const benchUs = y.bench.user - x.bench.user + (y.bench.system - x.bench.system);
  return { bench: (100 * benchUs) / wallUs, lb: (100 * (y.lb - x.lb)) / wallUs, a: (100 * (y.a - x.a)) / wallUs, b: (100 * (y.b - x.b)) / wallUs, aUs: y.a - x.a };
}

export interface Run {
  phase: string;
  url: string;
  seconds: number;
  rps: number;
  completed: number;
  ok2xx: number;
  latency: { mean: number; p50: number; p90: number; p97_5: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
  statusCodes: Record<string, number>;
  split?: Record<string, number>;
  cpu: CpuShare;
  /** µs of node a's CPU per completed request (direct phases). */
  aCpuUsPerRequest: number;
  machine: { oursPct: number; othersPct: number; stealPct: number };
  /** Seconds waited for other processes to go quiet before this window. */
  waitedS: number;
}

export const noise = new NoiseMeter();

export async function load(phase: string, url: string, cookie: string, seconds: number, options: { split?: boolean; quiet?: boolean } = {}): Promise<Run> {
  const split: Record<string, number> = {};
  const setupClient = options.split
    ? (client: NodeJS.EventEmitter) => {
        client.on('headers', (info: { headers: string[] }) => {
          const h = info.headers;
          for (let i = 0; i < h.length; i += 2) {
            if (h[i].length === 11 && h[i].toLowerCase() === 'x-served-by') {
              split[h[i + 1]] = (split[h[i + 1]] ?? 0) + 1;
              break;
            }
          }
        });
      }
    : undefined;
  let waitedS = 0;
  if (!NO_WAIT && options.quiet) waitedS = (await noise.waitQuiet(20, PHASE_WAIT * 1000)).waitedMs / 1000;
  noise.section();
  const before = cpuSnap();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration: seconds,
    headers: { cookie, accept: 'application/json' },
    ...(setupClient ? { setupClient } : {}),
  });
  const after = cpuSnap();
  const machine = noise.section();
  const cpu = cpuBetween(before, after);
  const completed = result.requests.total;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const run: Run = {
    phase,
    url,
    seconds: result.duration,
    rps: result['2xx'] / result.duration,
    completed,
    ok2xx: result['2xx'],
    latency: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    resets: result.resets,
    statusCodes,
    ...(options.split ? { split } : {}),
    cpu,
    aCpuUsPerRequest: completed > 0 ? cpu.aUs / completed : NaN,
    machine,
    waitedS,
  };
  log(
    `${phase}: ${run.rps.toFixed(0)} req/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}` +
      ` | CPU % of a vCPU: bench ${cpu.bench.toFixed(0)}, lb ${cpu.lb.toFixed(0)}, a ${cpu.a.toFixed(0)}, b ${cpu.b.toFixed(0)}`,
  );
  return run;
}
