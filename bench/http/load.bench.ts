/**
 * HTTP load check of the demo app (issue 6, "Load check"): autocannon against
 * the real demo (two Nest nodes and the round-robin load balancer of
 * `npm run demo`), signed in with a real session cookie.
 *
 *   npm run bench:http       # = node -r @swc-node/register bench/http/load.bench.ts
 *
 * What it does:
 *   0. Builds the demo unless dist/ holds a fresh build (scripts/demo-nodes.js
 *      ensureBuilt), then runs `scripts/demo.js --no-build --json` on free ports
 *      with a temp data directory; waits until both nodes are healthy (joined).
 *   1. Signs in as ada through the load balancer (POST /session) and checks
 *      that GET /me answers 200 on both nodes with that cookie.
 *   2. Load balancer: GET /me with the cookie for 30 s → req/s, latency, errors,
 *      non-2xx (must all be 0) and the split between the nodes (x-served-by).
 *   3. Guard cost: directly against node a (no proxy), GET /me (guarded) and
 *      GET /ping (unguarded, same app) for 3 s each, alternating, 12
 *      rounds → medians and the ratio me/ping (target ≥ 0.95), plus node a's
 *      CPU time per request for each.
 *   4. With --prof=DIR: one more window of each endpoint on node a with a V8
 *      CPU profile (bench/http/prof-preload.js, toggled by SIGWINCH) and where the time goes.
 * Everything it started is stopped at the end (by pid), the temp dir removed.
 *
 * Options:
 *   --connections=32  --pipelining=1   the same for every phase
 *   --lb-duration=30  --duration=3     seconds (LB phase; each direct window)
 *   --rounds=12       direct rounds (me+ping each, order alternating per round: me ping, ping me, …).
 *                     Many short pairs rather than a few long ones: on this VM a node's CPU time per
 *                     request drifts by 10–20 % from one window to the next whatever the endpoint,
 *                     so the two windows of a pair should be close in time, and there should be many
 *                     pairs (docs/benchmarks-http.md)
 *   --warmup=5        seconds of discarded load per endpoint before measuring
 *   --prof=DIR        also profile node a (extra windows, not part of the figures)
 *   --json=FILE       also write the raw results as JSON
 *   --no-pin          do not pin the direct phases (by default node a gets vCPU 1 to itself, and this
 *                     process, the balancer and node b share vCPU 0: see "Pinning" below)
 *   --no-wait         do not wait for other processes to go quiet first
 *   --max-wait=180    seconds to wait for other processes to go quiet before starting (then go on anyway)
 *   --phase-wait=120  the same before the LB window and before each direct round (other jobs come and go)
 *
 * The load generator (this process), the load balancer (the demo script) and
 * both nodes share the machine's CPUs (2 vCPUs here): none of the figures is a
 * dedicated-server number. Each phase reports how much CPU each process took.
 *
 * Pinning: on 2 vCPUs, whether the load generator and the node land on the same
 * vCPU or not changes throughput by tens of % from one window to the next
 * (cross-vCPU wake-ups, shared/notes/perf-anchors.md), which drowns a 5 %
 * difference. So for the direct phases (not the balancer phase) node a is
 * pinned with `taskset -a -p -c 1` (all its threads) and everything else of
 * this run to vCPU 0: node a then has exactly one vCPU, and its throughput is
 * the inverse of its CPU time per request.
 * Markdown report on stdout, progress on stderr.
 */
import autocannon from 'autocannon';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { demoLayout, DemoLayout, ensureBuilt, ROOT } from '../../scripts/demo-nodes';
import { log, mdTable, median, portFree, sleep } from '../replication/common';
import { NoiseMeter, procCpu } from '../replication/procs';
import { formatProfile, summariseProfile } from './prof';

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
const CONNECTIONS = num('connections', 32);
const PIPELINING = num('pipelining', 1);
const LB_DURATION = num('lb-duration', 30);
const DURATION = num('duration', 3);
const ROUNDS = num('rounds', 12);
/** Seconds of each profiled window (--prof): enough samples whatever --duration is. */
const PROF_DURATION = 10;
const WARMUP = num('warmup', 5);
const PROF_DIR = opt('prof') ? resolve(opt('prof')!) : undefined;
const JSON_OUT = opt('json') || undefined;
const NO_WAIT = opt('no-wait') !== undefined;
const PIN = opt('no-pin') === undefined;
const MAX_WAIT = num('max-wait', 180);
const PHASE_WAIT = num('phase-wait', 120);
const TARGET_RATIO = 0.95;

const USER = { username: 'ada', password: 'analytical-engine' };

// ---------- processes ----------

interface DemoRecord {
  demo: 'lb' | 'node' | 'ready' | 'exit';
  id?: string;
  pid?: number;
  [key: string]: unknown;
}

let script: ChildProcess | undefined;
const records: DemoRecord[] = [];
const output: string[] = [];
let dataDir: string | undefined;

function nodePid(id: string): number {
  const pid = records.find((r) => r.demo === 'node' && r.id === id)?.pid;
  if (pid === undefined) throw new Error(`no pid for node ${id}`);
  return pid;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL, by pid, to everything this run started that still runs. */
function killEverything(): void {
  const pids = [script?.pid, ...records.filter((r) => r.demo === 'node').map((r) => r.pid)];
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stops the demo as Ctrl-C would (the nodes leave the cluster), then kills what is left; removes the temp dir. */
async function stopDemo(): Promise<void> {
  if (script !== undefined && script.exitCode === null && script.signalCode === null) {
    const exited = new Promise<void>((res) => script!.once('exit', () => res()));
    script.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
  }
  killEverything();
  const nodes = records.filter((r) => r.demo === 'node').map((r) => r.pid);
  for (let i = 0; i < 50 && nodes.some(alive); i++) await sleep(100);
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    killEverything();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** Free ports for the demo: HTTP a, b; cluster a, b; load balancer. */
async function freeEnv(): Promise<NodeJS.ProcessEnv> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 24000 + 30 * Math.floor(Math.random() * 250);
    const ports = [base, base + 2, base + 10, base + 12, base + 20];
    if ((await Promise.all(ports.map((p) => portFree('127.0.0.1', p)))).every(Boolean)) {
      dataDir = mkdtempSync(join(tmpdir(), 'bench-http-'));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DEMO_BASE_PORT: String(base),
        DEMO_CLUSTER_BASE_PORT: String(base + 10),
        DEMO_LB_PORT: String(base + 20),
        DEMO_DATA_DIR: dataDir,
        NO_COLOR: '1',
      };
      const preloads: string[] = [];
      if (PROF_DIR !== undefined) {
        mkdirSync(PROF_DIR, { recursive: true });
        preloads.push(join(__dirname, 'prof-preload.js'));
        env.BENCH_PROF_DIR = PROF_DIR;
      }
      if (preloads.length > 0) env.NODE_OPTIONS = [process.env.NODE_OPTIONS ?? '', ...preloads.map((p) => `--require ${p}`)].join(' ').trim();
      return env;
    }
  }
  throw new Error('no free ports for the demo');
}

function startDemo(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.js'), '--no-build', '--json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    output.push(line);
    if (line.startsWith('{"demo":')) records.push(JSON.parse(line) as DemoRecord);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [demo] ${line}\n`);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output.push(`(stderr) ${line}`);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [demo!] ${line}\n`);
  });
  return child;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await ok()) return;
    if (script !== undefined && script.exitCode !== null) throw new Error(`the demo script ended while waiting for ${what}:\n${output.slice(-40).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output.slice(-40).join('\n')}`);
    await sleep(200);
  }
}

/** `taskset -a -p -c CPUS PID`: every thread of the process to those vCPUs. */
function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

// ---------- HTTP helpers ----------

interface Answer {
  status: number;
  servedBy: string | undefined;
  setCookie: string[];
  body: any;
}

function request(url: string, options: { method?: string; cookie?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return new Promise((res, rej) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (reply) => {
      let text = '';
      reply.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      reply.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        res({ status: reply.statusCode ?? 0, servedBy: reply.headers['x-served-by'] as string | undefined, setCookie: reply.headers['set-cookie'] ?? [], body: parsed });
      });
    });
    req.on('error', rej);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer in 5 s`)));
    req.end(body);
  });
}

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
interface CpuShare {
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

interface Run {
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

const noise = new NoiseMeter();

async function load(phase: string, url: string, cookie: string, seconds: number, options: { split?: boolean; quiet?: boolean } = {}): Promise<Run> {
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

// ---------- report ----------

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const ms = (x: number) => (Number.isFinite(x) ? `${x} ms` : '—');
const cpuCell = (c: CpuShare) => `${f0(c.bench)} / ${f0(c.lb)} / ${f0(c.a)} / ${f0(c.b)}`;

function machineFacts(): Record<string, string> {
  const cpu = cpus();
  let autocannonVersion = '?';
  try {
    autocannonVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not installed?
  }
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? '?'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: release(),
    node: process.version,
    autocannon: autocannonVersion,
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

function report(facts: Record<string, string>, layout: DemoLayout, lb: Run, direct: Run[], profiles: string[]): string {
  const lines: string[] = [];
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
  lines.push(`## HTTP load check, ${date} UTC`, '');
  lines.push(`\`node -r @swc-node/register bench/http/load.bench.ts ${argv.join(' ')}\``.replace(/ `$/, '`'), '');
  lines.push(mdTable(['fact', 'value'], Object.entries(facts).map(([k, v]) => [k, v])), '');
  lines.push(
    `Load: autocannon, ${CONNECTIONS} connections, pipelining ${PIPELINING}, one process (this one). The load generator, the load balancer ` +
      `(\`scripts/demo.js\`, node:http proxy) and both nodes share the ${cpus().length} vCPUs. ` +
      `CPU columns: % of one vCPU used by bench (autocannon) / lb / node a / node b during the phase; "others" is everything else on the machine ` +
      `(other jobs on the same VM), in % of one vCPU; "waited": seconds waited before the window for others to drop below 20 %.`,
    '',
  );
  lines.push(`### 1. Through the load balancer (${LB_DURATION} s, GET /me with the session cookie)`, '');
  const split = lb.split ?? {};
  const splitTotal = Object.values(split).reduce((s, x) => s + x, 0);
  const splitCell = Object.entries(split)
    .sort()
    .map(([name, n]) => `${name.split('@')[0]} ${n} (${f1((100 * n) / splitTotal)} %)`)
    .join(', ');
  lines.push(
    mdTable(
      ['req/s (2xx)', 'requests', 'latency mean / p50 / p90 / p99 / max', 'errors', 'timeouts', 'non-2xx', 'split (x-served-by)', 'CPU bench / lb / a / b', 'others, steal (waited)'],
      [
        [
          `**${f0(lb.rps)}**`,
          String(lb.completed),
          `${f1(lb.latency.mean)} / ${lb.latency.p50} / ${lb.latency.p90} / ${lb.latency.p99} / ${lb.latency.max} ms`,
          `**${lb.errors}**`,
          String(lb.timeouts),
          `**${lb.non2xx}**`,
          splitCell || '—',
          cpuCell(lb.cpu),
          `${f0(lb.machine.othersPct)} %, ${f1(lb.machine.stealPct)} % (${f0(lb.waitedS)} s)`,
        ],
      ],
    ),
    '',
  );
  const lbOk = lb.errors === 0 && lb.non2xx === 0 && lb.timeouts === 0 && lb.completed > 0;
  lines.push(`Zero errors and zero non-2xx: **${lbOk ? 'yes' : 'NO'}**${lbOk ? '' : ` (status codes ${JSON.stringify(lb.statusCodes)})`}.`, '');

  lines.push(`### 2. Guard cost, directly against node a (http://${layout.nodes[0].host}:${layout.nodes[0].port}, no proxy; ${DURATION} s per window)`, '');
  lines.push(
    mdTable(
      ['round', 'endpoint', 'req/s (2xx)', 'latency p50 / p99', 'errors / non-2xx', 'node a CPU per request', 'CPU bench / lb / a / b', 'others, steal (waited)'],
      direct.map((r) => [
        r.phase.replace(/ .*/, ''),
        r.url.endsWith('/me') ? 'GET /me (guarded)' : 'GET /ping (unguarded)',
        f0(r.rps),
        `${ms(r.latency.p50)} / ${ms(r.latency.p99)}`,
        `${r.errors} / ${r.non2xx}`,
        `${f1(r.aCpuUsPerRequest)} µs`,
        cpuCell(r.cpu),
        `${f0(r.machine.othersPct)} %, ${f1(r.machine.stealPct)} % (${f0(r.waitedS)} s)`,
      ]),
    ),
    '',
  );
  const me = direct.filter((r) => r.url.endsWith('/me'));
  const ping = direct.filter((r) => r.url.endsWith('/ping'));
  const meRps = median(me.map((r) => r.rps));
  const pingRps = median(ping.map((r) => r.rps));
  const meCpu = median(me.map((r) => r.aCpuUsPerRequest));
  const pingCpu = median(ping.map((r) => r.aCpuUsPerRequest));
  const ratio = meRps / pingRps;
  const rounds = [...new Set(direct.map((r) => r.phase.split(' ')[0]))];
  const pairRatios = rounds.map((round) => {
    const pair = direct.filter((r) => r.phase.split(' ')[0] === round);
    const m = pair.find((r) => r.url.endsWith('/me'));
    const p = pair.find((r) => r.url.endsWith('/ping'));
    return m && p ? m.rps / p.rps : NaN;
  });
  const pairCpu = rounds.map((round) => {
    const pair = direct.filter((r) => r.phase.split(' ')[0] === round);
    const m = pair.find((r) => r.url.endsWith('/me'));
    const p = pair.find((r) => r.url.endsWith('/ping'));
    return m && p ? p.aCpuUsPerRequest / m.aCpuUsPerRequest : NaN;
  });
  const directOk = direct.every((r) => r.errors === 0 && r.non2xx === 0);
  lines.push(
    mdTable(
      ['median of ' + me.length + ' windows', 'GET /me (guarded)', 'GET /ping (unguarded)', 'ratio me / ping'],
      [
        ['req/s', `**${f0(meRps)}**`, `**${f0(pingRps)}**`, `**${ratio.toFixed(3)}×** (target ≥ ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`],
        ['node a CPU per request', `${f1(meCpu)} µs`, `${f1(pingCpu)} µs`, `guard + bigger body ≈ ${f1(meCpu - pingCpu)} µs per request (${f1((100 * (meCpu - pingCpu)) / pingCpu)} %); CPU-bound ceiling ping/me = ${(pingCpu / meCpu).toFixed(3)}×`],
      ],
    ),
    '',
    `Per round (adjacent windows): req/s ratio me/ping ${pairRatios.map((x) => x.toFixed(3)).join(', ')} (median **${median(pairRatios).toFixed(3)}×**); ` +
      `CPU-per-request ratio ping/me ${pairCpu.map((x) => x.toFixed(3)).join(', ')} (median ${median(pairCpu).toFixed(3)}×).`,
    '',
  );
  if (!directOk) lines.push('**Some direct windows had errors or non-2xx answers: see the table.**', '');
  if (profiles.length > 0) lines.push('### 3. CPU profiles of node a (extra windows, profiler on: not part of the figures above)', '', ...profiles);
  return lines.join('\n');
}

// ---------- main ----------

async function main(): Promise<void> {
  const facts = machineFacts();
  noise.start();
  if (!NO_WAIT) {
    const { waitedMs, othersPct } = await noise.waitQuiet(20, MAX_WAIT * 1000);
    facts['other processes before start'] = `${othersPct.toFixed(0)} % of a vCPU (waited ${(waitedMs / 1000).toFixed(0)} s)`;
  }

  log('building the demo unless the build in dist/ is fresh …');
  ensureBuilt({ stdio: 'inherit' });

  const env = await freeEnv();
  const layout = demoLayout(env);
  const [a, b] = layout.nodes;
  const lbUrl = `http://${layout.lb.host}:${layout.lb.port}`;
  const aUrl = `http://${a.host}:${a.port}`;
  const bUrl = `http://${b.host}:${b.port}`;
  log(`starting the demo: a ${aUrl}, b ${bUrl}, lb ${lbUrl}, data in ${dataDir}`);
  script = startDemo(env);
  await waitFor('the demo to be ready', () => records.some((r) => r.demo === 'ready'), 90_000);
  await waitFor(
    'both nodes to be healthy (joined)',
    async () => (await Promise.all([aUrl, bUrl].map((u) => request(`${u}/health`).then((r) => r.status === 200, () => false)))).every(Boolean),
    60_000,
  );

  log(`signing in as ${USER.username} through the load balancer`);
  const signIn = await request(`${lbUrl}/session`, { method: 'POST', json: USER });
  const cookie = signIn.setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('demo_session=') && c !== 'demo_session=');
  if (signIn.status !== 200 || cookie === undefined) throw new Error(`sign-in failed: ${signIn.status} ${JSON.stringify(signIn.body)}`);
  // The session is valid on both nodes (replicated), and through the balancer.
  await waitFor(
    'GET /me to answer 200 on both nodes with the new cookie',
    async () => (await Promise.all([aUrl, bUrl].map((u) => request(`${u}/me`, { cookie }).then((r) => r.status === 200, () => false)))).every(Boolean),
    10_000,
  );
  const viaLb = await Promise.all([1, 2, 3, 4].map(() => request(`${lbUrl}/me`, { cookie })));
  if (!viaLb.every((r) => r.status === 200)) throw new Error(`GET /me through the balancer: ${viaLb.map((r) => r.status).join(', ')}`);
  const ping = await request(`${aUrl}/ping`);
  if (ping.status !== 200 || ping.body?.pong !== true) throw new Error(`GET /ping on node a: ${ping.status} ${JSON.stringify(ping.body)} (is the demo build older than GET /ping?)`);
  const me = await request(`${aUrl}/me`, { cookie });
  log(`GET /me: ${JSON.stringify(me.body).length} B of JSON; GET /ping: ${JSON.stringify(ping.body).length} B`);
  facts['response bodies'] = `GET /me ${JSON.stringify(me.body).length} B JSON, GET /ping ${JSON.stringify(ping.body).length} B JSON`;
  facts.session = `ada, signed in through the balancer (served by ${signIn.servedBy}); SESSION_RENEW_AFTER default (15 min), so no rotation during the run`;

  log(`warm-up: ${WARMUP} s each of GET /me and GET /ping on node a, GET /me through the balancer (discarded)`);
  await load('warm-up me', `${aUrl}/me`, cookie, WARMUP);
  await load('warm-up ping', `${aUrl}/ping`, cookie, WARMUP);
  await load('warm-up lb', `${lbUrl}/me`, cookie, WARMUP);

  log(`load balancer: ${LB_DURATION} s of GET /me`);
  await sleep(1000);
  const lb = await load('lb me', `${lbUrl}/me`, cookie, LB_DURATION, { split: true, quiet: true });

  if (PIN) {
    const cpuCount = cpus().length;
    if (cpuCount < 2) throw new Error('pinning needs 2 vCPUs; run with --no-pin');
    pin(nodePid('a'), '1');
    for (const pid of [process.pid, script!.pid!, nodePid('b')]) pin(pid, '0');
    facts.pinning = 'direct phases: node a on vCPU 1 (all threads); autocannon, balancer, node b on vCPU 0 (taskset -a -p -c). The balancer phase ran unpinned.';
    log('pinned: node a → vCPU 1; bench, balancer, node b → vCPU 0');
  } else {
    facts.pinning = 'none (--no-pin)';
  }
  const direct: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? ['me', 'ping'] : ['ping', 'me'];
    // The two windows of a round run back to back (the quiet wait is before the first only), so that
    // other jobs on the machine, which come and go, hit both alike.
    for (const [i, endpoint] of order.entries()) {
      await sleep(500);
      direct.push(await load(`${round} ${endpoint}`, `${aUrl}/${endpoint}`, cookie, DURATION, { quiet: i === 0 }));
    }
  }

  const profiles: string[] = [];
  if (PROF_DIR !== undefined) {
    const pid = nodePid('a');
    const label = a.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    let n = 0;
    for (const [i, endpoint] of ['me', 'ping'].entries()) {
      await sleep(500);
      if (!NO_WAIT && i === 0) await noise.waitQuiet(20, PHASE_WAIT * 1000);
      process.kill(pid, 'SIGWINCH');
      await sleep(300);
      const run = await load(`prof ${endpoint}`, `${aUrl}/${endpoint}`, cookie, PROF_DURATION);
      process.kill(pid, 'SIGWINCH');
      n += 1;
      const file = join(PROF_DIR, `${label}-${n}.cpuprofile`);
      await waitFor(`the profile ${file}`, () => existsSync(file), 30_000);
      const summary = summariseProfile(file, run.completed, 25);
      profiles.push(formatProfile(summary, `node a, GET /${endpoint} (${run.rps.toFixed(0)} req/s with the profiler on; ${file})`), '');
    }
  }

  const text = report(facts, layout, lb, direct, profiles);
  process.stdout.write(`${text}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ facts, options: { CONNECTIONS, PIPELINING, LB_DURATION, DURATION, ROUNDS, WARMUP }, lb, direct }, null, 2));

  log('stopping the demo');
  noise.stop();
  await stopDemo();
  const ratio = median(direct.filter((r) => r.url.endsWith('/me')).map((r) => r.rps)) / median(direct.filter((r) => r.url.endsWith('/ping')).map((r) => r.rps));
  const ok = lb.errors === 0 && lb.non2xx === 0 && lb.timeouts === 0 && direct.every((r) => r.errors === 0 && r.non2xx === 0);
  log(`done: LB errors ${lb.errors}, non-2xx ${lb.non2xx}; guard ratio ${ratio.toFixed(3)} (target ≥ ${TARGET_RATIO})`);
  // A bench, not a test: the exit code says only whether the run itself worked (no errors, no non-2xx).
  process.exitCode = ok ? 0 : 1;
}

main().catch(async (error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  noise.stop();
  await stopDemo().catch(() => undefined);
  process.exit(1);
});
