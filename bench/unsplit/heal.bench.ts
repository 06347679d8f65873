/**
 * Benchmark of issue 5: "merge heal of 100k divergent keys between two nodes;
 * target ≤ 1 s" (method: shared/notes/perf-anchors.md — one discarded warm-up
 * run, then the median of several runs).
 *
 *   node -r @swc-node/register bench/unsplit/heal.bench.ts      # suggested script: "bench:unsplit"
 *
 * Options:
 *   --runs=N         timed runs per shape after the warm-up (default 5)
 *   --shapes=a,b     any of disjoint, conflict, control (default all three)
 *   --manual         nodes without the `unsplit` option; the bench calls UnsplitService.heal() itself
 *   --ack-timeout=MS the nodes' timing.ackTimeout (default: the library's, 5000)
 *   --base=N         entries of the common base written before each split (default 100000); e.g.
 *                    1000000 for a heal whose full-table scans (digests, key summaries) cover 1M entries
 *   --prof=DIR       one extra profiled heal per shape (after the timed runs, not in the tables): V8 CPU
 *                    profiles of both nodes (node:inspector, the sampler behind --cpu-prof) saved in DIR
 *                    and summarised over the heal window and over each step of the heal
 *   --json=FILE      every raw result as JSON
 *   --no-wait        do not wait for other processes on the machine to go quiet first
 *
 * Env BENCH_CHILD_FLAGS: extra Node flags for both nodes (e.g. `--trace-gc`); BENCH_VERBOSE=1 shows their output.
 *
 * Setup: two nodes, each the library in its own Node process (heal-node.ts),
 * on 127.0.81.1 (a) and 127.0.81.2 (b), `unsplit: { strategy: 'merge' }`,
 * the default timing (heartbeatInterval 250 ms, deadPeerTimeout 1 s), sync writes, RAM only.
 * Two processes rather than TestCluster's one: each side of a heal (digests,
 * streaming out, decoding and merging in) runs on its own core, as it does in
 * production, instead of both sides sharing one event loop.
 *
 * One run: empty both tables; a writes a 100k-entry base (replicated to b);
 * a real partition (nftables drops the packets between the two addresses);
 * both sides see the other go down; the divergent writes; the partition is
 * removed; b (which seeds a) reconnects; both detect the split
 * (`inconsistent_database`) and a — the node whose name sorts first — heals.
 *
 * Timed: from the `inconsistent_database` event on a (the heal starts in that
 * same tick: UnsplitService's subscriber calls heal()) until both a and b have
 * emitted `healed`. Right after, both `ClusterService.digest()` are computed
 * (in parallel, one per process) and must be equal; that check's own time is
 * reported as a separate column ("verified"). "quiet" is when the replicated
 * echo of healed states (see the report) has been acknowledged too.
 *
 * Failure detection: every run also counts the `nodedown` events either node
 * emits outside the split itself — while the base is written, and from the
 * partition's removal until the echo is acknowledged — with the link close
 * reasons and the longest event-loop stall of each process. Those are false
 * alarms (a busy peer taken for a dead one); the report shows their number.
 * Not counted: the bench's own forced full GCs (global.gc in `reset` between
 * runs, and in `arm` while split), which with a 1M-entry base block a node for
 * one to three seconds (logged when `reset`'s drops the link; the nodes relink
 * before the run goes on).
 *
 * The partition uses its own nftables table (not the library's
 * NftablesPartition table, which TestCluster deletes whole: specs running on
 * the machine at the same time would remove our cuts and we theirs); the
 * mechanism is the same: `drop` rules on the output hook between two 127.x
 * addresses.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { log, portFree, ROOT } from '../replication/common';
import { NoiseMeter } from '../replication/procs';
import { ACK_TIMEOUT, BASE, fixtures, HOSTS, JSON_OUT, killFixtures, MANUAL, NAMES, nft, NO_WAIT, partition, PORTS, PROF, RUNS, shapes, startNode } from './setup';
import { runOnce, RunResult } from './run-once';
import { report } from './report';
import { healFigures } from './figures';
import { writeResults } from '../util/results';

// ---------- main ----------

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (nftables partitions)');
  try {
    nft('list', 'tables');
  } catch {
    throw new Error('needs the nft command (Debian: apt-get install nftables)');
  }
  for (const l of ['a', 'b'] as const) if (!(await portFree(HOSTS[l], PORTS[l]))) throw new Error(`${HOSTS[l]}:${PORTS[l]} is in use`);
  partition.heal();
  if (PROF) mkdirSync(PROF, { recursive: true });

  const noise = new NoiseMeter();
  noise.start();
  if (!NO_WAIT) {
    const { waitedMs, othersPct } = await noise.waitQuiet(20, 60_000);
    log(`machine quiet enough after ${(waitedMs / 1000).toFixed(0)} s (others ${othersPct.toFixed(0)} %)`);
  }
  // The code the nodes load (they compile the library when they start).
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  const libChanges = git('--no-optional-locks', 'status', '--porcelain', '--', 'libs').split('\n').filter(Boolean).length;
  const codeVersion = `library at commit ${git('rev-parse', '--short', 'HEAD')}${libChanges > 0 ? ` plus ${libChanges} uncommitted change(s) under libs/` : ' (libs/ clean)'} when the nodes started`;
  const started = Date.now();
  log(`starting nodes a (${NAMES.a}) and b (${NAMES.b}); mode ${MANUAL ? 'manual heal()' : "unsplit: { strategy: 'merge' }"}`);
  const a = await startNode('a');
  const b = await startNode('b');
  await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);

  const results: RunResult[] = [];
  for (let round = 0; round <= RUNS; round++) {
    for (const shape of shapes) {
      log(`${shape.name}, ${round === 0 ? 'warm-up' : `run ${round}/${RUNS}`}`);
      results.push(await runOnce(a, b, shape, round, round === 0, noise));
      await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    }
  }
  const profiles: string[] = [];
  if (PROF) {
    for (const shape of shapes) {
      log(`${shape.name}, profiled run (not in the tables)`);
      const r = await runOnce(a, b, shape, RUNS + 1, true, noise, true);
      profiles.push(r.prof ?? '');
      await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    }
    log(`profiles in ${PROF}`);
  }
  await Promise.all([a.stop(), b.stop()]);
  noise.stop();

  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();

  const machine = [
    `${cpus().length} vCPU ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`,
    `two node processes (a ${NAMES.a}, b ${NAMES.b}), common base ${BASE} entries, default heartbeatInterval (250 ms) and deadPeerTimeout (1 s), ackTimeout ${ACK_TIMEOUT ?? 'default (5000)'} ms, sync writes, RAM only, ${MANUAL ? 'no unsplit option: heal() called by the bench' : "unsplit: { strategy: 'merge' }"}`,
    `session values ~203 B JSON (bench/util/session-data.ts), keys "session:"+uuid (44 B), TTL 30 min`,
    codeVersion,
    `wall time of the whole run ${((Date.now() - started) / 1000).toFixed(0)} s; /proc/loadavg at the end: ${load}`,
  ];
  process.stdout.write(`${report(results, machine)}\n`);
  if (profiles.length > 0) process.stdout.write(`## Profiles (one extra heal per shape with the V8 sampler on; samples inside the timed window only)\n\n${profiles.join('\n\n')}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ machine, results }, null, 2));
  writeResults('heal', healFigures(results), { machine, results });
}

process.on('exit', () => {
  partition.heal();
  killFixtures();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    partition.heal();
    killFixtures();
    process.exit(130);
  });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  for (const f of fixtures) process.stderr.write(`--- ${f.label} output (tail) ---\n${f.tail(40)}\n`);
  partition.heal();
  killFixtures();
  process.exit(1);
});
