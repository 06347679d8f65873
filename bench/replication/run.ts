/**
 * Replication benchmarks of nest-cluster-cache, with their anchors measured in
 * the same run (issue 3, "Benchmarks"; method: shared/notes/perf-anchors.md).
 *
 *   npm run bench:replication      # = node -r @swc-node/register bench/replication/run.ts
 *
 * Options:
 *   --only=1,2,…   figures to run (1 sync latency, 2 100-in-flight, 3 async throughput,
 *                  4 idle lag, 5 join copy, 6 Mnesia anchors; 5 needs 6 for its anchor;
 *                  7 fan-out: 3- and 5-node clusters against 2 nodes, not in the default list).
 *                  5 copies the sessions as objects (the figure), then as their JSON
 *                  text; 6 copies 200-byte binaries (the anchor), then the same
 *                  sessions as Erlang maps: context rows with the same data on both sides
 *   --quick        small sizes, for trying the harness (figures are meaningless)
 *   --prof=DIR     run every Node fixture with --cpu-prof into DIR (slower figures)
 *   --json=FILE    also write every raw result as JSON
 *   --no-wait      do not wait (up to 1 minute) for other processes on the machine to go quiet first
 *
 * Every figure: one discarded warm-up run, then the median of several runs
 * (5, or 3 for the lag runs and the 1M copies, as the anchors). Our figure and
 * its anchor run interleaved (anchor run, our run, anchor run, …) so machine
 * drift hits both alike. Markdown report on stdout, progress on stderr.
 *
 * Figure 7 (`--only=7`, family "fanout" of the results) runs clusters of 2, 3
 * and 5 nodes side by side, rounds interleaved: sync put p50 and async writes
 * applied on every peer, each against the 2-node figure of the same run.
 *
 * Figures 3 and 5 also report failure detection under their load (issue 13:
 * no false nodedown while a peer is merely busy): the `nodedown` events either
 * process emitted, its link closes by reason, and its longest event-loop stall
 * (bench/util/link-watch.ts), on the library's default timing; a nodedown
 * there is a row marked **not met**.
 *
 * Every node is the library booted with ClusterCacheModule.forRoot in its own
 * child process (node-fixture.ts), RAM only, on its own 127.0.0.x address and
 * fixed port. redis-server, epmd and the Erlang nodes are started here and
 * ended by pid at the end.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childNodeFlags, HOSTS, log, portFree, PORTS, sleep } from './common';
import { killAll } from './procs';
import { fixtures, JSON_OUT, noise, noiseBySection, ONLY, PROF, profIndex, raw, WAIT } from './setup';
import { PairResults, syncPair } from './figure-sync';
import { asyncPair, AsyncResults } from './figure-async';
import { lagOneProcess } from './figure-lag';
import { JoinCopy, joinCopy } from './figure-join';
import { mnesia, MnesiaResults } from './figure-mnesia';
import { fanout, fanoutAddresses, fanoutFigures, fanoutReport, FanoutResults } from './figure-fanout';
import { buildReport } from './report';
import { joinFigures, replicationFigures } from './figures';
import { writeResults } from '../util/results';

// ---------- main ----------

async function checkPorts(): Promise<void> {
  const wanted: Array<[string, number]> = [];
  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(4)) wanted.push([HOSTS.syncA, PORTS.syncA], [HOSTS.syncB, PORTS.syncB]);
  if (ONLY.has(1)) wanted.push([HOSTS.echo, PORTS.echo]);
  if (ONLY.has(2)) wanted.push([HOSTS.redis, PORTS.redis]);
  if (ONLY.has(3)) wanted.push([HOSTS.asyncA, PORTS.asyncA], [HOSTS.asyncB, PORTS.asyncB]);
  if (ONLY.has(4)) wanted.push([HOSTS.lagA, PORTS.lagA], [HOSTS.lagB, PORTS.lagB]);
  if (ONLY.has(5)) wanted.push([HOSTS.seed, PORTS.seed], [HOSTS.joiner, PORTS.joiner]);
  if (ONLY.has(7)) wanted.push(...fanoutAddresses());
  for (const [host, port] of wanted) {
    if (!(await portFree(host, port))) throw new Error(`${host}:${port} is in use; set BENCH_PORT_BASE to another base (now ${PORTS.syncA - 1})`);
  }
}

async function main(): Promise<void> {
  if (PROF !== undefined) {
    const dir = PROF === '' ? mkdtempSync(join(tmpdir(), 'bench-prof-')) : PROF;
    mkdirSync(dir, { recursive: true });
    childNodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    raw.profDir = dir;
    log(`CPU profiles go to ${dir}`);
  }
  await checkPorts();
  noise.start();
  if (WAIT) {
    const quiet = await noise.waitQuiet(20, 60_000); // keeps the whole run within ~5 minutes
    raw.waitedForQuietMs = quiet.waitedMs;
  }
  const started = Date.now();
  let pair: PairResults = {};
  let asyncRuns: AsyncResults | undefined;
  let lag1: number[][] | undefined;
  const copied: JoinCopy[] = [];
  let mn: MnesiaResults | undefined;
  let fan: FanoutResults | undefined;
  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(4)) pair = await syncPair();
  if (ONLY.has(3)) asyncRuns = await asyncPair();
  if (ONLY.has(4)) lag1 = await lagOneProcess();
  if (ONLY.has(6)) mn = await mnesia();
  if (ONLY.has(5)) for (const values of ['objects', 'json'] as const) copied.push(await joinCopy(values));
  if (ONLY.has(7)) fan = await fanout();
  Object.assign(raw, { pair, asyncRuns, lag1, join: copied, mnesia: mn, fanout: fan, noise: noiseBySection, seconds: (Date.now() - started) / 1000 });
  if (PROF !== undefined) {
    writeFileSync(join(raw.profDir as string, 'index.json'), JSON.stringify(profIndex, null, 2));
  }
  const text = [...(ONLY.has(7) && ONLY.size === 1 ? [] : [buildReport(pair, asyncRuns, lag1, copied, mn)]), ...(fan ? [fanoutReport(fan)] : [])].join('\n\n');
  process.stdout.write(`${text}\n\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(raw, null, 2));
  const figures = replicationFigures(pair, asyncRuns, lag1, mn);
  if (figures.length > 0) writeResults('replication', figures, { pair, asyncRuns, lag1, mnesia: mn, noise: noiseBySection, sizes: raw.sizes });
  if (copied.length > 0) writeResults('join', joinFigures(copied, mn), { join: copied, mnesia: mn, noise: noiseBySection, sizes: raw.sizes });
  if (fan !== undefined) writeResults('fanout', fanoutFigures(fan), { fanout: fan, noise: noiseBySection, sizes: raw.sizes });
}

let exiting = false;
async function cleanup(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    noise.stop();
    await Promise.race([Promise.all([...fixtures].map((f) => f.stop(3000))), sleep(4000)]);
    killAll();
  }
  process.exit(code);
}

process.on('SIGINT', () => void cleanup(130));
process.on('SIGTERM', () => void cleanup(143));
main().then(
  () => cleanup(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    void cleanup(1);
  },
);
