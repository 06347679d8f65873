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
 *     kit noop    GET /noop on kit node a: a guard that returns true and a constant parameter
 *                 decorator (Nest's plumbing alone, the floor of any guard: context, no target)
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
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { request } from '../util/http-request';
import { pin } from '../util/taskset';
import { log, sleep } from '../replication/common';
import { authFigures } from './auth/figures';
import { writeResults } from '../util/results';
import { APP, CLUSTER_COOKIE, CONNECTIONS, DURATION, JSON_OUT, LB, PIN, ROOT, ROUNDS, WARMUP } from './auth/setup';
import { freePorts, killEverything, procs, start, waitFor } from './auth/processes';
import { load, noise, Target, Window, WindowName } from './auth/window';
import { report } from './auth/report';

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
    if (answer.status !== 200 || cookie === undefined) throw new Error(`sign-in on :${port} failed: ${answer.status} ${answer.text}`);
    return cookie;
  };
  const kitCookie = await signIn(kitA, 'session');
  const esCookie = await signIn(esA, 'connect.sid');
  for (const [port, cookie] of [[kitA, kitCookie], [kitB, kitCookie], [kitLb, kitCookie], [esA, esCookie], [esB, esCookie], [esLb, esCookie]] as const) {
    await waitFor(`GET /me on :${port}`, () => request(url(port, '/me'), { cookie }).then((r) => r.status === 200, () => false), 10_000);
  }
  const meKit = await request(url(kitA, '/me'), { cookie: kitCookie });
  const meEs = await request(url(esA, '/me'), { cookie: esCookie });
  facts['GET /me bodies'] = `kit ${meKit.text.length} B, express-session ${meEs.text.length} B`;
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
    'kit noop': { url: url(kitA, '/noop'), cookie: kitCookie, subject: pids.kitA },
    'kit me': { url: url(kitA, '/me'), cookie: kitCookie, subject: pids.kitA },
    'es me': { url: url(esA, '/me'), cookie: esCookie, subject: pids.esA },
    'kit create': { url: url(kitA, '/session'), create: true, subject: pids.kitA },
    'es create': { url: url(esA, '/session'), create: true, subject: pids.esA },
    'kit lb me': { url: url(kitLb, '/me'), cookie: kitCookie },
    'es lb me': { url: url(esLb, '/me'), cookie: esCookie },
  };
  const oneNode: WindowName[] = ['kit ping', 'kit noop', 'kit me', 'es me', 'kit create', 'es create'];
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
  writeResults('auth', authFigures(windows), { facts, windows });
  killEverything();
  const clean = windows.every((w) => w.errors === 0 && w.non2xx === 0 && w.timeouts === 0);
  process.exitCode = clean ? 0 : 1;
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  for (const p of procs) if (p.output.length > 0) log(`${p.name}:\n${p.output.slice(-15).join('\n')}`);
  noise.stop();
  killEverything();
  process.exit(1);
});
