/**
 * Mesh vs Redis vs Redis Cluster, in one run (issue 7: "a bench compares
 * get/put of both backends in the same run"). Figures: docs/performance.md.
 *
 *   npm run bench:backends   # = node --expose-gc -r @swc-node/register bench/backends/backends.bench.ts
 *
 * Every backend is the library booted with ClusterCacheModule.forRoot in this
 * process and driven through the backend-neutral `CacheStore` (and
 * `SessionStore.get`), see setup.ts:
 *
 * - mesh: this process's node linked over loopback TCP to a second node in a
 *   child process (mesh-peer.ts), `writes: 'sync'`;
 * - Redis: one redis-server started for the run;
 * - Redis Cluster: 3 masters (no replicas) started for the run.
 *
 * Anchors, measured in the same run, interleaved with the library: `Map.get`
 * on the same keys and values (for the mesh's reads), and raw ioredis
 * GET / SET … PX of the very bytes the library stores under the very keys it
 * uses (for SessionStore.get: GET of the session's own key), on the same
 * Redis, with two raw clients — without and with auto-pipelining, both with
 * no offline queue, no retries and a 1 s command timeout. Each library row is
 * compared with the better of the two in the same round set, so
 * "library ÷ raw" is the library's cost over the best the client it wraps
 * does (issue 15: target ≥ 0.9× in every cell, see the target table at the
 * end). On the Cluster, plain keys spread over the 3 masters are context rows
 * of the 100-in-flight tables.
 *
 * Method: every section runs its paths interleaved round by round (one
 * discarded warm-up round, then BENCH_RUNS rounds), with a full GC before
 * each run; a figure is the median over the rounds of each run's p50 / p99 /
 * ops/s. Markdown on stdout, progress on stderr.
 *
 * Environment (defaults in brackets):
 *   BENCH_RUNS [5]           kept rounds per section (plus BENCH_WARMUP [1])
 *   BENCH_SEQ_N [2000]       sequential operations per run over the network (×2: timed + untimed pass)
 *   BENCH_LOCAL_N [100000]   sequential operations per run of in-memory paths
 *   BENCH_INFLIGHT_MS [400]  length of one 100-in-flight run
 *   BENCH_CONCURRENCY [100]  operations in flight
 *   BENCH_KEYS [10000]       keys read (pre-loaded) and keys written
 *   BENCH_SESSIONS [1000]    sessions created per backend for SessionStore.get
 *   BENCH_BACKENDS [mesh,redis,cluster]
 *   BENCH_SECTIONS [get,get100,put,put100]
 * A quick trial: BENCH_RUNS=1 BENCH_SEQ_N=300 BENCH_LOCAL_N=10000 BENCH_INFLIGHT_MS=100.
 */
import 'reflect-metadata';
import { cpus } from 'node:os';
import { backendFigures } from './figures';
import { writeResults } from '../util/results';
import { log, median } from '../util/harness';
import { inFlight, Path, sequential, sinkValue } from './loops';
import { Cleanup, startBackends } from './setup';
import { BACKENDS, DRIVER, GET_KEYS, KEYS, PACKED, RUNS, SectionName, SECTIONS, SESSIONS, WARMUP } from './options';
import { loadByStage, measure, Measured, noteLoad } from './measure';
import { gitHead, ioredisVersion, redisVersion, report, summaryTable, targetTable } from './report';
import { preload } from './preload';
import { sectionRows } from './rows';

// ---------- main ----------

async function main(cleanup: Cleanup): Promise<void> {
  const started = Date.now();
  noteLoad('start');
  const backends = await startBackends(BACKENDS, cleanup);
  const mesh = backends.find((b) => b.name === 'mesh');
  const redisBackends = backends.filter((b) => b.raw !== undefined);

  const loaded = await preload(backends);
  if (mesh !== undefined && mesh.cache.get(GET_KEYS[0]) instanceof Promise) throw new Error('the mesh read returned a promise');

  const { getRows, putRows } = sectionRows(backends, loaded);

  const results: Partial<Record<SectionName, Map<string, Measured>>> = {};
  const seq = (path: Path, offset: number) => sequential(path, DRIVER, offset);
  const par = (path: Path, offset: number) => inFlight(path, DRIVER, offset);
  for (const section of SECTIONS) {
    if (section === 'get') results.get = await measure('get, sequential', getRows(false), seq);
    if (section === 'get100') results.get100 = await measure(`get, ${DRIVER.concurrency} in flight`, getRows(true), par);
    if (section === 'put') results.put = await measure('put, sequential', putRows(false), seq);
    if (section === 'put100') results.put100 = await measure(`put, ${DRIVER.concurrency} in flight`, putRows(true), par);
  }
  noteLoad('end');

  // ---------- report ----------
  const out: string[] = [];
  out.push(`## Backends: mesh vs Redis vs Redis Cluster (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`, '');
  out.push(`- commit ${gitHead()}; node ${process.version}; ${redisVersion()}; ioredis ${ioredisVersion()}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}`);
  out.push(`- load average (1/5/15 min): ${loadByStage.map(([stage, l]) => `${stage} ${l.join(' / ')}`).join('; ')}`);
  out.push(
    `- sizes: ${RUNS} rounds (+${WARMUP} warm-up), sequential ${DRIVER.seqN} ops per run (in-memory paths ${DRIVER.seqLocalN}), ` +
      `${DRIVER.concurrency} in flight for ${DRIVER.durationMs} ms per run, ${KEYS} keys read / written, ${SESSIONS} sessions per backend; ` +
      `value ${Math.round(median(PACKED.map((p) => p.length)))} B as MessagePack (≈203 B as JSON)`,
  );
  out.push(
    `- backends: ${backends.map((b) => b.label).join(', ')}; ` +
      `mesh = this process's node + a peer node in a child process over loopback TCP, writes sync`,
  );
  out.push(`- run took ${((Date.now() - started) / 1000).toFixed(0)} s`, '');

  const compared = 'Each row: median over the rounds of the per-run p50, p99 and ops/s. "compared with" is the anchor of the same run; ratios are this row ÷ the anchor (p50 ÷ > 1: slower; ops/s ÷ < 1: fewer ops/s).';
  if (results.get) out.push(report('get, sequential (one operation at a time)', `${compared} The clock row is the cost of timing one operation, included in every p50/p99 (not in ops/s, which come from an untimed pass).`, results.get), '');
  if (results.get100) out.push(report(`get, ${DRIVER.concurrency} in flight`, `${compared} In-memory paths: every 16th operation timed.`, results.get100), '');
  if (results.put) out.push(report('put, sequential', compared, results.put), '');
  if (results.put100) out.push(report(`put, ${DRIVER.concurrency} in flight`, compared, results.put100), '');
  out.push(targetTable(results, redisBackends), '');
  out.push(summaryTable(results, backends), '');
  process.stdout.write(`${out.join('\n')}\n`);
  writeResults('backends', backendFigures(results, backends), { loadByStage, sizes: { RUNS, WARMUP, KEYS, SESSIONS, DRIVER }, results: Object.fromEntries(Object.entries(results).map(([section, m]) => [section, [...m!.values()].map(({ row, runs, p50, p99, ops, appCpu, serverCpu }) => ({ id: row.id, backend: row.backend, path: row.path.name, runs, p50, p99, ops, appCpu, serverCpu }))])) });
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s (sink ${sinkValue() > 0 ? 'ok' : 'empty'})`);
}

// ---------- process lifetime: nothing started here outlives the run ----------

const cleanup = new Cleanup();
let ending = false;
async function end(code: number): Promise<void> {
  if (ending) return;
  ending = true;
  log('stopping apps and servers');
  await cleanup.run();
  process.exitCode = code;
  // Anything still holding the event loop (a client that did not close) must not keep the run alive.
  setTimeout(() => process.exit(code), 5_000).unref();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void end(130).then(() => process.exit(130));
  });
}
main(cleanup).then(
  () => end(0),
  (error) => {
    // After a signal, the run fails because its servers are gone: not worth a stack trace.
    if (!ending) process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    return end(1);
  },
);
