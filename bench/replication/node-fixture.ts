/**
 * One nest-cluster-cache node in its own process, driven by run.ts over IPC.
 *
 *   node -r @swc-node/register bench/replication/node-fixture.ts
 *
 * Env: BENCH_NODE = JSON { name, host, port, writes, extraNodes?, cluster?, unsplit? }, and
 * BENCH_ROLE = `node` (default) or `joiner` (a fresh node whose join time is
 * measured). The node is the library booted with ClusterCacheModule.forRoot in
 * a Nest testing module (`Test.createTestingModule(...).compile()` then
 * `init()`), RAM only (no persistence), Nest logger at warn/error.
 *
 * Benchmark-only instrumentation: the fixture wraps this node's
 * `engine.merge` (the single place where states that came from a peer are
 * applied) to count applied entries and to timestamp the arrival of watched
 * keys; and it watches `nodedown` events, link closes and event-loop stalls
 * (bench/util/link-watch.ts). Nothing in the library is changed.
 */
import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterCache, ClusterCacheModule, ClusterService } from '@app/cluster-cache';
import type { ClusterEvent } from '@app/cluster-cache';
import { ClusterCacheRuntime } from '../../libs/cluster-cache/src/cluster-cache.runtime';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import type { Table } from '../../libs/cluster-cache/src/store/table';
import { LinkWatch } from '../util/link-watch';
import { sessionKeys, sessionValues } from '../util/session-data';
import { CLUSTER, COOKIE, inFlight, nowNs, serve, SESSION_TTL, sleep, summarise } from './common';

interface NodeSpec {
  name: string;
  host: string;
  port: number;
  writes: 'sync' | 'async';
  extraNodes?: string[];
  /** The cluster's name, when several clusters run side by side (figure 7). */
  cluster?: string;
  /** Heal after a lost link (`unsplit: { strategy: 'merge' }`), as a production cluster runs. */
  unsplit?: boolean;
}

const spec = JSON.parse(process.env.BENCH_NODE ?? '{}') as NodeSpec;
const role = process.env.BENCH_ROLE ?? 'node';

/**
 * 1000 distinct ~203 B session objects; `put` clones each value it stores.
 * With `BENCH_VALUES=json`, the same sessions as their JSON text (what Redis
 * stores, and an opaque value like the Mnesia anchor's 200-byte binary).
 */
const VALUES: unknown[] = process.env.BENCH_VALUES === 'json' ? sessionValues(1000).map((v) => JSON.stringify(v)) : sessionValues(1000);

// ---------- applied-entry instrumentation (see the header) ----------

let appliedCount = 0;
let appliedTarget = Infinity;
let appliedFirst = 0;
let appliedLast = 0;
let appliedDone: ((r: { first: number; last: number; count: number }) => void) | undefined;

let lagKeys: Map<string, number> | undefined;
let lagArrivals: Float64Array | undefined;

function onApplied(installed: readonly EntryState[]): void {
  if (installed.length === 0) return;
  const t = nowNs();
  if (appliedDone !== undefined) {
    if (appliedCount === 0) appliedFirst = t;
    appliedCount += installed.length;
    appliedLast = t;
    if (appliedCount >= appliedTarget) {
      const done = appliedDone;
      appliedDone = undefined;
      done({ first: appliedFirst, last: appliedLast, count: appliedCount });
    }
  }
  if (lagKeys !== undefined) {
    for (const s of installed) {
      const i = lagKeys.get(s.key as string);
      if (i !== undefined && Number.isNaN(lagArrivals![i])) lagArrivals![i] = t;
    }
  }
}

async function main(): Promise<void> {
  const events: Array<{ t: number; event: ClusterEvent }> = [];
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClusterCacheModule.forRoot({
        node: { name: spec.name, host: spec.host, port: spec.port },
        cookie: COOKIE,
        cluster: spec.cluster ?? CLUSTER,
        writes: spec.writes,
        ttl: SESSION_TTL,
        extraNodes: spec.extraNodes,
        joinTimeout: 120_000,
        ...(spec.unsplit ? { unsplit: { strategy: 'merge' as const } } : {}),
      }),
    ],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['warn', 'error'] }))
    .compile();
  const runtime = moduleRef.get(ClusterCacheRuntime);
  const cluster = moduleRef.get(ClusterService);
  const cache = moduleRef.get(ClusterCache) as ClusterCache<unknown>;
  cluster.events$.subscribe((event) => events.push({ t: nowNs(), event }));
  // nodedown events, link closes and event-loop stalls, reported per figure by run.ts.
  const watch = new LinkWatch(runtime, cluster.events$);

  const engine = runtime.engine;
  const merge = engine.merge.bind(engine);
  engine.merge = (table: Table, states: readonly EntryState[], options?: { persist?: boolean }) => {
    const installed = merge(table, states, options);
    onApplied(installed);
    return installed;
  };
  const sessions = runtime.store.table('sessions')!;

  const cpuInit = process.cpuUsage();
  const initStart = nowNs();
  await moduleRef.init();
  const initDone = nowNs();
  // init waits for the join (joinTimeout is 120 s); be sure anyway.
  while (!cluster.ready) await sleep(1);
  const readyAt = nowNs();
  const cpuReady = process.cpuUsage();
  const joined = events.find((e) => e.event.type === 'joined');

  const handlers: Record<string, (args: any) => unknown> = {
    status: () => ({ ready: cluster.ready, peers: cluster.nodes().map((n) => n.name), size: sessions.size, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 }),

    async waitPeers({ n, timeout = 30_000 }: { n: number; timeout?: number }) {
      const deadline = Date.now() + timeout;
      while (cluster.nodes().length < n) {
        if (Date.now() > deadline) throw new Error(`${spec.name}: ${cluster.nodes().length} peers after ${timeout} ms`);
        await sleep(5);
      }
      return cluster.nodes().map((p) => p.name);
    },

    /** Figure 1: `n` sequential puts; latency of each in µs. */
    async seqPut({ n, seed }: { n: number; seed: number }) {
      const keys = sessionKeys(n, seed);
      const lat = new Float64Array(n);
      const start = nowNs();
      for (let i = 0; i < n; i++) {
        const t0 = nowNs();
        await cache.put(keys[i], VALUES[i % VALUES.length]);
        lat[i] = (nowNs() - t0) / 1e3;
      }
      return summarise(lat, nowNs() - start);
    },

    /** Figure 2: `concurrency` puts always in flight for `durationMs`; ops/s. */
    async inflightPut({ concurrency, durationMs, seed, pool }: { concurrency: number; durationMs: number; seed: number; pool: number }) {
      const keys = sessionKeys(pool, seed);
      return inFlight(concurrency, durationMs, (i) => cache.put(keys[i % pool], VALUES[i % VALUES.length]));
    },

    /**
     * Figure 3: `n` puts of fresh keys, `batch` per macrotask (as many requests
     * handled per event-loop turn), as fast as the node takes them.
     */
    async burst({ n, seed, batch }: { n: number; seed: number; batch: number }) {
      const keys = sessionKeys(n, seed);
      const start = nowNs();
      let failed = 0;
      for (let i = 0; i < n; ) {
        const end = Math.min(n, i + batch);
        for (; i < end; i++) cache.put(keys[i], VALUES[i % VALUES.length]).catch(() => failed++);
        await new Promise((r) => setImmediate(r));
      }
      return { start, localDone: nowNs(), failed };
    },

    /** Peer side of figure 3: resolves once `n` more entries from peers were applied here. */
    expectApplied({ n }: { n: number }) {
      appliedCount = 0;
      appliedTarget = n;
      return new Promise((resolve) => (appliedDone = resolve));
    },

    /** Peer side of figure 4: timestamps when each of the `n` keys of `seed` becomes visible here. */
    lagArm({ n, seed }: { n: number; seed: number }) {
      const keys = sessionKeys(n, seed);
      lagKeys = new Map(keys.map((k, i) => [k, i]));
      lagArrivals = new Float64Array(n).fill(NaN);
      return null;
    },
    lagCollect() {
      const arrivals = Array.from(lagArrivals ?? []);
      lagKeys = undefined;
      lagArrivals = undefined;
      return arrivals;
    },

    /** Writer side of figure 4: one put, await it, pause `pauseMs`; the put start times (ns). */
    async lagWrite({ n, seed, pauseMs }: { n: number; seed: number; pauseMs: number }) {
      const keys = sessionKeys(n, seed);
      const starts: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        starts[i] = nowNs();
        await cache.put(keys[i], VALUES[i % VALUES.length]);
        await sleep(pauseMs);
      }
      return starts;
    },

    /** Figure 5: loads `n` sessions (putMany batches of `batch`). */
    async fill({ n, seed, batch }: { n: number; seed: number; batch: number }) {
      const keys = sessionKeys(n, seed);
      const start = nowNs();
      for (let i = 0; i < n; i += batch) {
        const entries: Array<[string, unknown]> = [];
        for (let j = i; j < Math.min(n, i + batch); j++) entries.push([keys[j], VALUES[j % VALUES.length]]);
        await cache.putMany(entries);
      }
      (globalThis as { gc?: () => void }).gc?.();
      return { seconds: (nowNs() - start) / 1e9, size: sessions.size, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
    },

    /** nodedowns, link closes and the longest event-loop stall since the last `watch` (or the start). */
    watch({ reset = true }: { reset?: boolean }) {
      return watch.report(reset);
    },

    async exit() {
      await moduleRef.close();
    },
  };

  serve(handlers, {
    name: spec.name,
    role,
    initStart,
    initDone,
    cpuInit,
    cpuReady,
    readyAt,
    joinedAt: joined?.t,
    joinedEntries: joined?.event.type === 'joined' ? (joined.event as { entries?: number }).entries : undefined,
    size: sessions.size,
  });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
