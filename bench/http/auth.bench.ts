/**
 * The auth kit against express-session + connect-redis (issue 16), in one run:
 * the same Nest app (bench/http/auth-bench-app.ts) with the library's
 * SessionAuthGuard on a two-node mesh, and with express-session on two app
 * nodes sharing one redis-server, each pair also behind its own round-robin
 * balancer (scripts/demo-lb.js). Signed cookies on both sides.
 *
 *   npm run bench:auth    # = node -r @swc-node/register bench/http/auth.bench.ts
 *
 * Windows (autocannon, 50 connections, --duration s each), interleaved in
 * every round, their order reversed every other round:
 *   one node (node a alone on vCPU 1; everything else of this run on vCPU 0):
 *     kit ping    GET /ping on kit node a: the unguarded endpoint
 *     kit me      GET /me on kit node a: the exported guard
 *     es me       GET /me on express-session node a (a Redis GET and a touch per request)
 *     kit create  POST /session on kit node a (written to node b before it answers: sync writes)
 *     es create   POST /session on express-session node a (regenerate, then saved to Redis)
 *   two nodes behind a balancer (nothing pinned):
 *     kit lb me   GET /me through the kit's balancer
 *     es lb me    GET /me through express-session's balancer
 * Ratios (median of the rounds' ratios), against the issue's targets:
 *   kit me / kit ping ≥ 0.95, kit me / es me ≥ 1.3, kit lb me / es lb me ≥ 1.3, kit create / es create ≥ 1.5.
 *
 * Options: --rounds=6 --duration=3 --warmup=3 --connections=50 --json=FILE --no-pin
 * A benchmark, not a test: the exit code says only whether every window ran
 * without errors and non-2xx answers. Markdown on stdout, progress on stderr.
 */
import autocannon from 'autocannon';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { log, mdTable, median, portFree, sleep } from '../replication/common';
import { NoiseMeter, procCpu } from '../replication/procs';

// ---------- options ----------

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=').slice(1).join('=') ?? (argv.includes(`--${name}`) ? '' : undefined);
const num = (name: string, fallback: number): number => {
  const v = opt(name);
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
};
const ROUNDS = num('rounds', 6);
const DURATION = num('duration', 3);
const WARMUP = num('warmup', 3);
const CONNECTIONS = num('connections', 50);
const JSON_OUT = opt('json') || undefined;
const PIN = opt('no-pin') === undefined;

const ROOT = join(__dirname, '..', '..');
const APP = join(__dirname, 'auth-bench-app.ts');
const LB = join(ROOT, 'scripts', 'demo-lb.js');
const CLUSTER_COOKIE = 'bench-auth-cluster-cookie-0123456789';

/** The targets. */
const TARGETS = [
  { name: 'guard vs unguarded endpoint (kit me / kit ping, one node)', num: 'kit me', den: 'kit ping', target: 0.95 },
  { name: 'kit vs express-session + connect-redis, GET /me, one node', num: 'kit me', den: 'es me', target: 1.3 },
  { name: 'kit vs express-session + connect-redis, GET /me, two nodes behind a balancer', num: 'kit lb me', den: 'es lb me', target: 1.3 },
  { name: 'session creation, kit vs connect-redis (POST /session, one node)', num: 'kit create', den: 'es create', target: 1.5 },
] as const;

// ---------- processes ----------

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
}

const procs: Proc[] = [];

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, output: [] as string[] };
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => proc.output.push(line));
  procs.push(proc);
  return proc;
}

function killEverything(): void {
  for (const { child } of procs) {
    if (child.pid === undefined || child.exitCode !== null) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEverything();
    process.exit(130);
  });
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await ok()) return;
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead !== undefined) throw new Error(`${dead.name} ended while waiting for ${what}:\n${dead.output.slice(-30).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 26000 + 20 * Math.floor(Math.random() * 400);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map((p) => portFree('127.0.0.1', p)))).every(Boolean)) return ports;
  }
  throw new Error('no free ports');
}

function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

// ---------- HTTP ----------

interface Answer {
  status: number;
  setCookie: string[];
  body: string;
}

function request(url: string, options: { method?: string; cookie?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], body: text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer in 5 s`)));
    req.end(body);
  });
}

// ---------- windows ----------

type WindowName = 'kit ping' | 'kit me' | 'es me' | 'kit create' | 'es create' | 'kit lb me' | 'es lb me';

interface Target {
  url: string;
  cookie?: string;
  create?: boolean;
  /** The process whose CPU time per request is reported (one-node windows). */
  subject?: number;
}

interface Window {
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

const noise = new NoiseMeter();
let userSeq = 0;

async function load(name: WindowName, round: number, target: Target, seconds: number): Promise<Window> {
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

// ---------- main ----------

async function main(): Promise<void> {
  noise.start();
  const facts: Record<string, string> = {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: release(),
    node: process.version,
    versions: ['@nestjs/core', 'express', 'express-session', 'connect-redis', 'redis', 'autocannon']
      .map((p) => {
        try {
          return `${p} ${(JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version}`;
        } catch {
          return `${p} ?`;
        }
      })
      .join(', '),
    'redis-server': execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').find((w) => w.startsWith('v='))?.slice(2) ?? '?',
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(' '),
    load: `autocannon, ${CONNECTIONS} connections, pipelining 1, ${DURATION} s windows, ${ROUNDS} rounds`,
  };

  const [kitA, kitB, kitClusterA, kitClusterB, esA, esB, redisPort, kitLb, esLb] = await freePorts(9);
  log('starting redis-server, the kit\'s two mesh nodes, express-session\'s two nodes and two balancers …');
  const redis = start('redis-server', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const app = (name: string, env: NodeJS.ProcessEnv) => start(name, process.execPath, ['-r', '@swc-node/register', APP], env);
  const kitNodeA = app('kit a', { AUTH: 'kit', PORT: String(kitA), NODE_NAME: 'kit-a@127.0.0.1', CLUSTER_PORT: String(kitClusterA), CLUSTER_COOKIE });
  const kitNodeB = app('kit b', { AUTH: 'kit', PORT: String(kitB), NODE_NAME: 'kit-b@127.0.0.1', CLUSTER_PORT: String(kitClusterB), CLUSTER_COOKIE, CLUSTER_SEEDS: `127.0.0.1:${kitClusterA}` });
  const esNodeA = app('express-session a', { AUTH: 'express-session', PORT: String(esA), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  const esNodeB = app('express-session b', { AUTH: 'express-session', PORT: String(esB), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  const kitBalancer = start('kit balancer', process.execPath, [LB, String(kitLb), `127.0.0.1:${kitA}`, `127.0.0.1:${kitB}`]);
  const esBalancer = start('express-session balancer', process.execPath, [LB, String(esLb), `127.0.0.1:${esA}`, `127.0.0.1:${esB}`]);
  const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  for (const port of [kitA, kitB, esA, esB, kitLb, esLb]) {
    await waitFor(`:${port}/ping`, () => request(url(port, '/ping')).then((r) => r.status === 200, () => false), 90_000);
  }

  const signIn = async (port: number, name: string) => {
    const answer = await request(url(port, '/session'), { method: 'POST', json: { userId: 'ada' } });
    const cookie = answer.setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith(`${name}=`));
    if (answer.status !== 200 || cookie === undefined) throw new Error(`sign-in on :${port} failed: ${answer.status} ${answer.body}`);
    return cookie;
  };
  const kitCookie = await signIn(kitA, 'session');
  const esCookie = await signIn(esA, 'connect.sid');
  for (const [port, cookie] of [[kitA, kitCookie], [kitB, kitCookie], [kitLb, kitCookie], [esA, esCookie], [esB, esCookie], [esLb, esCookie]] as const) {
    await waitFor(`GET /me on :${port}`, () => request(url(port, '/me'), { cookie }).then((r) => r.status === 200, () => false), 10_000);
  }
  const meKit = await request(url(kitA, '/me'), { cookie: kitCookie });
  const meEs = await request(url(esA, '/me'), { cookie: esCookie });
  facts['GET /me bodies'] = `kit ${meKit.body.length} B, express-session ${meEs.body.length} B`;
  facts.cookies = `kit ${kitCookie.length} B (\`session=<token>.<HMAC>\`), express-session ${esCookie.length} B (\`connect.sid=s%3A<id>.<HMAC>\`)`;

  const pids = {
    kitA: kitNodeA.child.pid!,
    esA: esNodeA.child.pid!,
    rest: [process.pid, kitNodeB.child.pid!, esNodeB.child.pid!, redis.child.pid!, kitBalancer.child.pid!, esBalancer.child.pid!],
  };
  const pinned = (on: boolean) => {
    if (!PIN) return;
    for (const pid of [pids.kitA, pids.esA]) pin(pid, on ? '1' : '0-1');
    for (const pid of pids.rest) pin(pid, on ? '0' : '0-1');
  };
  facts.pinning = PIN ? 'one-node windows: kit node a and express-session node a on vCPU 1 (all threads), everything else (autocannon in this process, the other nodes, redis-server, the balancers) on vCPU 0; balancer windows unpinned' : 'none (--no-pin)';

  const targets: Record<WindowName, Target> = {
    'kit ping': { url: url(kitA, '/ping'), cookie: kitCookie, subject: pids.kitA },
    'kit me': { url: url(kitA, '/me'), cookie: kitCookie, subject: pids.kitA },
    'es me': { url: url(esA, '/me'), cookie: esCookie, subject: pids.esA },
    'kit create': { url: url(kitA, '/session'), create: true, subject: pids.kitA },
    'es create': { url: url(esA, '/session'), create: true, subject: pids.esA },
    'kit lb me': { url: url(kitLb, '/me'), cookie: kitCookie },
    'es lb me': { url: url(esLb, '/me'), cookie: esCookie },
  };
  const oneNode: WindowName[] = ['kit ping', 'kit me', 'es me', 'kit create', 'es create'];
  const twoNodes: WindowName[] = ['kit lb me', 'es lb me'];

  log(`warm-up: ${WARMUP} s of every window (discarded)`);
  pinned(true);
  for (const name of oneNode) await load(name, 0, targets[name], WARMUP);
  pinned(false);
  for (const name of twoNodes) await load(name, 0, targets[name], WARMUP);

  const windows: Window[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const reverse = round % 2 === 0;
    pinned(true);
    for (const name of reverse ? [...oneNode].reverse() : oneNode) {
      await sleep(300);
      windows.push(await load(name, round, targets[name], DURATION));
    }
    pinned(false);
    for (const name of reverse ? [...twoNodes].reverse() : twoNodes) {
      await sleep(300);
      windows.push(await load(name, round, targets[name], DURATION));
    }
  }
  noise.stop();

  const text = report(facts, windows);
  process.stdout.write(`${text}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ facts, windows }, null, 2));
  killEverything();
  const clean = windows.every((w) => w.errors === 0 && w.non2xx === 0 && w.timeouts === 0);
  process.exitCode = clean ? 0 : 1;
}

function report(facts: Record<string, string>, windows: Window[]): string {
  const lines: string[] = [];
  lines.push(`## Auth kit vs express-session + connect-redis, ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`, '');
  lines.push(`\`node -r @swc-node/register bench/http/auth.bench.ts ${argv.join(' ')}\``.replace(/ `$/, '`'), '');
  lines.push(mdTable(['fact', 'value'], Object.entries(facts)), '');
  const of = (name: WindowName) => windows.filter((w) => w.name === name);
  const rounds = [...new Set(windows.map((w) => w.round))];
  lines.push('### Windows (medians over the rounds)', '');
  const names: WindowName[] = ['kit ping', 'kit me', 'es me', 'kit create', 'es create', 'kit lb me', 'es lb me'];
  lines.push(
    mdTable(
      ['window', 'req/s (median)', 'range', 'p50 / p99 latency (median)', 'CPU per request, node a (median)', 'errors / non-2xx / timeouts', 'others (median % of a vCPU)'],
      names.map((name) => {
        const ws = of(name);
        const rps = ws.map((w) => w.rps);
        return [
          name,
          median(rps).toFixed(0),
          `${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`,
          `${median(ws.map((w) => w.p50))} / ${median(ws.map((w) => w.p99))} ms`,
          Number.isFinite(median(ws.map((w) => w.cpuUsPerRequest))) ? `${median(ws.map((w) => w.cpuUsPerRequest)).toFixed(1)} µs` : '—',
          `${ws.reduce((n, w) => n + w.errors, 0)} / ${ws.reduce((n, w) => n + w.non2xx, 0)} / ${ws.reduce((n, w) => n + w.timeouts, 0)}`,
          median(ws.map((w) => w.othersPct)).toFixed(0),
        ];
      }),
    ),
    '',
  );
  lines.push('### Ratios against the targets', '');
  lines.push(
    mdTable(
      ['ratio', 'target', 'median of the rounds\' ratios', 'rounds (min–max)', 'ratio of the medians', 'CPU per request (ratio of medians, den/num)', 'met'],
      TARGETS.map((t) => {
        const perRound = rounds.map((r) => (windows.find((w) => w.round === r && w.name === t.num)?.rps ?? NaN) / (windows.find((w) => w.round === r && w.name === t.den)?.rps ?? NaN)).filter(Number.isFinite);
        const ratio = median(perRound);
        const cpuNum = median(of(t.num).map((w) => w.cpuUsPerRequest));
        const cpuDen = median(of(t.den).map((w) => w.cpuUsPerRequest));
        return [
          t.name,
          `≥ ${t.target.toFixed(2)}×`,
          `**${ratio.toFixed(2)}×**`,
          `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`,
          `${(median(of(t.num).map((w) => w.rps)) / median(of(t.den).map((w) => w.rps))).toFixed(2)}×`,
          Number.isFinite(cpuNum) && Number.isFinite(cpuDen) ? `${(cpuDen / cpuNum).toFixed(2)}× (${cpuDen.toFixed(0)} / ${cpuNum.toFixed(0)} µs)` : '—',
          ratio >= t.target ? 'yes' : 'no',
        ];
      }),
    ),
    '',
  );
  return lines.join('\n');
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  for (const p of procs) if (p.output.length > 0) log(`${p.name}:\n${p.output.slice(-15).join('\n')}`);
  noise.stop();
  killEverything();
  process.exit(1);
});
