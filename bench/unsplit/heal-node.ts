/**
 * One nest-cluster-cache node in its own process for the unsplit benchmark,
 * driven by heal.bench.ts over IPC (the request/response protocol of
 * bench/replication/common.ts).
 *
 *   node --expose-gc -r @swc-node/register bench/unsplit/heal-node.ts
 *
 * Env: HEAL_NODE = JSON { name, host, port, extraNodes, unsplit, ackTimeout }.
 * The node is the library booted with ClusterCacheModule.forRoot in a Nest
 * testing module, RAM only, `writes: 'sync'`, the default timing (heartbeatInterval
 * 250 ms, deadPeerTimeout 1 s; ackTimeout from the spec if set), and
 * `unsplit: { strategy: 'merge' }` unless `unsplit` is false (then the bench
 * calls `UnsplitService.heal()` itself).
 *
 * Benchmark-only instrumentation, on this process's instances (nothing in the
 * library is changed): `ClusterNode.pull` / `call` / `callInParts` / `spread` and
 * `lock.tryWith` are wrapped to count the states a heal moves and to timestamp
 * its steps; `nodedown` events, link closes and event-loop stalls are watched
 * (bench/util/link-watch.ts). Timestamps are `process.hrtime` (CLOCK_MONOTONIC), one clock for
 * every process of the machine, so the bench compares them across processes.
 */
import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { ClusterCache, ClusterCacheModule, ClusterService, UnsplitService } from '@app/cluster-cache';
import type { ClusterEvent } from '@app/cluster-cache';
import { ClusterCacheRuntime } from '../../libs/cluster-cache/src/cluster-cache.runtime';
import type { ChunkHandler } from '../../libs/cluster-cache/src/replication/peer-calls';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import type { Table } from '../../libs/cluster-cache/src/store/table';
import { LinkWatch } from '../util/link-watch';
import { prng } from '../util/harness';
import { sessionKey, sessionValues } from '../util/session-data';
import { serve } from '../replication/common';

interface NodeSpec {
  name: string;
  host: string;
  port: number;
  extraNodes: string[];
  unsplit: boolean;
  ackTimeout?: number;
}

const spec = JSON.parse(process.env.HEAL_NODE ?? '{}') as NodeSpec;
const SESSION_TTL = 30 * 60_000;
/** 2000 distinct ~203 B session objects; a side's values are picked with an offset so the two sides differ. */
const VALUES = sessionValues(2000);

const nowNs = (): number => Number(process.hrtime.bigint());
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** One step of a heal, as seen on this node. */
export interface Step {
  what: string;
  start: number;
  end?: number;
  /** States received (pulls), buckets asked/differing (diff). */
  n?: number;
  detail?: Record<string, number>;
}

async function main(): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClusterCacheModule.forRoot({
        node: { name: spec.name, host: spec.host, port: spec.port },
        cookie: 'bench-unsplit-cookie-0123456789',
        cluster: 'bench-unsplit',
        writes: 'sync',
        ttl: SESSION_TTL,
        extraNodes: spec.extraNodes,
        joinTimeout: 30_000,
        ...(spec.ackTimeout ? { timing: { ackTimeout: spec.ackTimeout } } : {}),
        ...(spec.unsplit ? { unsplit: { strategy: 'merge' as const } } : {}),
      }),
    ],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['log', 'warn', 'error'], timestamp: false }))
    .compile();
  const runtime = moduleRef.get(ClusterCacheRuntime);
  const cluster = moduleRef.get(ClusterService);
  const unsplit = moduleRef.get(UnsplitService);
  const cache = moduleRef.get(ClusterCache) as ClusterCache<unknown>;
  const node = runtime.node!;
  const table = runtime.store.table('sessions')!;

  // ---------- instrumentation (see the header) ----------
  let events: Array<{ t: number; event: ClusterEvent }> = [];
  let steps: Step[] = [];
  let pulled = 0;
  let spreadStates = 0;
  let mergedInstalled = 0;
  let mergeCalls = 0;
  cluster.events$.subscribe((event) => events.push({ t: nowNs(), event }));
  const watch = new LinkWatch(runtime, cluster.events$);

  const pull = node.pull.bind(node);
  node.pull = (peer: string, tables: readonly string[], onChunk: ChunkHandler, keys?: Float64Array) => {
    const step: Step = { what: keys ? `pull ${keys.length} keys from ${peer.split('@')[0]}` : `pull all from ${peer.split('@')[0]}`, start: nowNs(), n: 0 };
    steps.push(step);
    return pull(
      peer,
      tables,
      (t: Table, states: EntryState[]) => {
        step.n! += states.length;
        pulled += states.length;
        onChunk(t, states);
      },
      keys,
    ).finally(() => (step.end = nowNs()));
  };
  const call = node.call.bind(node);
  node.call = <T>(peer: string, kind: string, body: unknown, timeout?: number): Promise<T> => {
    if (kind === 'lock' || kind === 'unlock') return call<T>(peer, kind, body, timeout);
    const step: Step = { what: `call ${kind}`, start: nowNs() };
    if (kind === 'sync.digests') step.detail = { buckets: (body as { count: number }).count };
    steps.push(step);
    return call<T>(peer, kind, body, timeout).then(
      (reply) => {
        step.end = nowNs();
        if (kind === 'sync.fetch') step.n = reply as unknown as number;
        return reply;
      },
      (error: unknown) => {
        step.end = nowNs();
        step.what += ' (failed)';
        throw error;
      },
    );
  };
  const callInParts = node.callInParts.bind(node);
  node.callInParts = <T>(peer: string, kind: string, body: unknown, timeout?: number): Promise<T[]> => {
    const step: Step = { what: `call ${kind}`, start: nowNs() };
    steps.push(step);
    const digests = steps.findLast((s) => s.what === 'call sync.digests');
    if (kind === 'sync.summaries' && digests?.detail) digests.detail.differing = (body as { buckets: number[] }).buckets.length;
    return callInParts<T>(peer, kind, body, timeout).then(
      (parts) => {
        step.end = nowNs();
        // Summary parts: [key hashes (8 bytes each), state hashes].
        if (kind === 'sync.summaries') step.n = (parts as unknown as Array<[Uint8Array, Uint8Array]>).reduce((n, [keys]) => n + keys.byteLength / 8, 0);
        return parts;
      },
      (error: unknown) => {
        step.end = nowNs();
        step.what += ' (failed)';
        throw error;
      },
    );
  };
  const spread = node.spread.bind(node);
  node.spread = (t: Table, states: readonly EntryState[], except?: string) => {
    // Counts what is re-sent to other peers (none in a two-node cluster: the source is `except`).
    spreadStates += states.length * node.peers().filter((p) => p.name !== except).length;
    spread(t, states, except);
  };
  const tryWith = node.lock.tryWith.bind(node.lock);
  node.lock.tryWith = (<T>(resource: string, fn: () => Promise<T>, ttl?: number) => {
    const step: Step = { what: `lock ${resource}`, start: nowNs() };
    steps.push(step);
    return tryWith(resource, () => {
      step.end = nowNs();
      steps.push({ what: 'heal body starts', start: nowNs(), end: nowNs() });
      return fn();
    }, ttl);
  }) as typeof node.lock.tryWith;
  const engine = runtime.engine;
  const merge = engine.merge.bind(engine);
  engine.merge = (t: Table, states: readonly EntryState[], options?: { persist?: boolean }) => {
    const installed = merge(t, states, options);
    mergeCalls++;
    mergedInstalled += installed.length;
    return installed;
  };

  // ---------- profiling of the heal window only (node:inspector, the same V8 sampler as --cpu-prof) ----------
  let inspector: Session | undefined;
  const post = (method: string, params?: object): Promise<any> =>
    new Promise((resolve, reject) => inspector!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));

  await moduleRef.init();
  while (!cluster.ready) await sleep(5);

  let cpuAtArm = process.cpuUsage();
  /** [hrtime ns, CPU µs since start] every 5 ms while armed: this process's CPU in any window of the heal. */
  let cpuTimeline: number[] = [];
  let cpuTimer: NodeJS.Timeout | undefined;
  const cpuNow = (): number => {
    const c = process.cpuUsage();
    return c.user + c.system;
  };

  const handlers: Record<string, (args: any) => unknown> = {
    status: () => ({ ready: cluster.ready, peers: cluster.nodes().map((n) => n.name), size: table.size, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 }),

    async waitPeers({ n, timeout = 30_000 }: { n: number; timeout?: number }) {
      const deadline = Date.now() + timeout;
      while (cluster.nodes().length !== n) {
        if (Date.now() > deadline) throw new Error(`${spec.name}: ${cluster.nodes().length} peers after ${timeout} ms (wanted ${n})`);
        await sleep(5);
      }
      return nowNs();
    },

    /** Empties the table here only (no replication, no tombstones), forgets counters, collects garbage. */
    reset() {
      table.clear();
      events = [];
      steps = [];
      gc();
      return table.size;
    },

    /**
     * Puts `n` keys of seed `seed`, `batch` per putMany (sync: applied on every linked peer when it resolves),
     * one batch per event-loop turn: the keys are made as they go and a put with no peer to wait for resolves at
     * once, so a loop of a million would otherwise block this node for seconds and its peer would take it for dead.
     */
    async put({ seed, n, valueOffset, batch = 1000 }: { seed: number; n: number; valueOffset: number; batch?: number }) {
      const rand = prng(seed); // sessionKeys(n, seed), made batch by batch
      const start = nowNs();
      for (let i = 0; i < n; i += batch) {
        const entries: Array<[string, unknown]> = [];
        for (let j = i; j < Math.min(n, i + batch); j++) entries.push([sessionKey(rand), VALUES[(j + valueOffset) % VALUES.length]]);
        await cache.putMany(entries);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { seconds: (nowNs() - start) / 1e9, size: table.size };
    },

    /** Starts recording a heal: clears events/steps/counters, optionally starts the CPU profiler. */
    async arm({ profile }: { profile?: boolean }) {
      events = [];
      steps = [];
      pulled = spreadStates = mergedInstalled = mergeCalls = 0;
      gc();
      if (profile) {
        inspector = new Session();
        inspector.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 200 });
        await post('Profiler.start');
      }
      cpuAtArm = process.cpuUsage();
      cpuTimeline = [nowNs(), cpuNow()];
      clearInterval(cpuTimer);
      cpuTimer = setInterval(() => cpuTimeline.push(nowNs(), cpuNow()), 5);
      return { size: table.size, armedAt: nowNs() };
    },

    /** Resolves once this node emitted `healed` (or after `timeout`); what the heal did here. */
    async waitHealed({ timeout = 60_000 }: { timeout?: number }) {
      const deadline = Date.now() + timeout;
      while (!events.some((e) => e.event.type === 'healed')) {
        if (Date.now() > deadline) throw new Error(`${spec.name}: no healed event after ${timeout} ms; events: ${JSON.stringify(events.map((e) => e.event))}`);
        await sleep(1);
      }
      const cpu = process.cpuUsage(cpuAtArm);
      return { events, steps, pulled, spreadStates, mergedInstalled, mergeCalls, cpuMs: (cpu.user + cpu.system) / 1e3, size: table.size };
    },

    /** Resolves once this node has seen `inconsistent_database` for `peer`. */
    async waitInconsistent({ timeout = 60_000 }: { timeout?: number }) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const found = events.find((e) => e.event.type === 'inconsistent_database');
        if (found) return found.t;
        if (Date.now() > deadline) throw new Error(`${spec.name}: no inconsistent_database after ${timeout} ms`);
        await sleep(1);
      }
    },

    /** Manual mode (no `unsplit` option): `UnsplitService.heal(peer)`, timed here. */
    async heal({ peer }: { peer: string }) {
      const start = nowNs();
      const result = await unsplit.heal(peer);
      return { start, end: nowNs(), result };
    },

    /** Waits until no replicated write (e.g. the echo of healed states) is in flight to any peer. */
    async waitQuiet({ timeout = 30_000 }: { timeout?: number }) {
      const deadline = Date.now() + timeout;
      while (Object.values(cluster.stats().backlog).some((n) => n > 0)) {
        if (Date.now() > deadline) throw new Error(`${spec.name}: backlog ${JSON.stringify(cluster.stats().backlog)} after ${timeout} ms`);
        await sleep(1);
      }
      const cpu = process.cpuUsage(cpuAtArm);
      clearInterval(cpuTimer);
      cpuTimeline.push(nowNs(), cpuNow());
      return { t: nowNs(), cpuMs: (cpu.user + cpu.system) / 1e3, spreadStates, mergedInstalled, mergeCalls, cpuTimeline };
    },

    /** ClusterService.digest(), timed. */
    digest() {
      const start = nowNs();
      const digest = cluster.digest();
      return { digest, ms: (nowNs() - start) / 1e6, end: nowNs(), size: table.size };
    },

    /** nodedowns, link closes and the longest event-loop stall since the last `watch`. */
    watch({ reset = true }: { reset?: boolean }) {
      return watch.report(reset);
    },

    async profStop({ file }: { file: string }) {
      if (inspector === undefined) return null;
      const { profile } = await post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      inspector.disconnect();
      inspector = undefined;
      return file;
    },

    async exit() {
      await moduleRef.close();
    },
  };

  serve(handlers, { name: spec.name, pid: process.pid });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
