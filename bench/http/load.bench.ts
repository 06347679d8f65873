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
 *                     pairs (docs/design.md, Design notes)
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
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { request } from '../util/http-request';
import { pin } from '../util/taskset';
import { demoLayout, ensureBuilt } from '../../scripts/demo-nodes';
import { log, median, sleep } from '../replication/common';
import { formatProfile, summariseProfile } from './prof';
import { CONNECTIONS, DURATION, JSON_OUT, LB_DURATION, MAX_WAIT, NO_WAIT, PHASE_WAIT, PIN, PIPELINING, PROF_DIR, PROF_DURATION, ROUNDS, TARGET_RATIO, USER, WARMUP } from './load/setup';
import { dataDir, freeEnv, nodePid, records, script, startDemo, stopDemo, waitFor } from './load/demo';
import { load, noise, Run } from './load/window';
import { machineFacts, report } from './load/report';
import { loadFigures } from './load/figures';
import { writeResults } from '../util/results';

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
  startDemo(env);
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

  writeResults('http', loadFigures(lb, direct), { facts, options: { CONNECTIONS, PIPELINING, LB_DURATION, DURATION, ROUNDS, WARMUP }, lb, direct });

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
