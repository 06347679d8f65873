/** One autocannon window of the auth-kit bench, with the CPU time of the node under load. */
import autocannon from 'autocannon';
import { log } from '../../replication/common';
import { NoiseMeter, procCpu } from '../../replication/procs';
import { CONNECTIONS } from './setup';

// ---------- windows ----------

export type WindowName = 'kit ping' | 'kit noop' | 'kit me' | 'es me' | 'kit create' | 'es create' | 'kit lb me' | 'es lb me';

export interface Target {
  url: string;
  cookie?: string;
  create?: boolean;
  /** The process whose CPU time per request is reported (one-node windows). */
  subject?: number;
}

export interface Window {
  name: WindowName;
  round: number;
  rps: number;
  completed: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  p50: number;
  p99: number;
  /** µs of the subject node's CPU per request (one-node windows). */
  cpuUsPerRequest: number;
  othersPct: number;
}

export const noise = new NoiseMeter();
let userSeq = 0;

export async function load(name: WindowName, round: number, target: Target, seconds: number): Promise<Window> {
  noise.section();
  const cpuBefore = target.subject === undefined ? 0 : cpuTotal(target.subject);
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: target.cookie === undefined ? { accept: 'application/json' } : { accept: 'application/json', cookie: target.cookie },
    ...(target.create
      ? {
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json' },
              // 1000 users, each signing in again and again: both sides keep every session (30 min TTL).
              setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ userId: `user-${userSeq++ % 1000}` }) }),
            },
          ],
        }
      : {}),
  });
  const cpuUs = target.subject === undefined ? NaN : cpuTotal(target.subject) - cpuBefore;
  const completed = result.requests.total;
  const window: Window = {
    name,
    round,
    rps: result['2xx'] / result.duration,
    completed,
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUsPerRequest: completed > 0 ? cpuUs / completed : NaN,
    othersPct: noise.section().othersPct,
  };
  log(`${round} ${name}: ${window.rps.toFixed(0)} req/s, p50 ${window.p50} ms, p99 ${window.p99} ms, errors ${window.errors}, non-2xx ${window.non2xx}` + (Number.isFinite(window.cpuUsPerRequest) ? `, ${window.cpuUsPerRequest.toFixed(0)} µs CPU/req` : ''));
  return window;
}

function cpuTotal(pid: number): number {
  const c = procCpu(pid);
  return c.user + c.system;
}
