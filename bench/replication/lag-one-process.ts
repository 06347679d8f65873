/**
 * Figure 4, one-process variant: nodes a and b of nest-cluster-cache booted
 * in ONE process, linked over real TCP between two loopback addresses
 * (127.0.0.6 and 127.0.0.7). One clock, one thread: the lag of a write is the
 * time from the `put` call on a to the moment b's `engine.merge` has applied
 * it (a benchmark-only wrapper around b's merge takes the timestamp; nothing in
 * the library changes). No second process means no cross-vCPU wake-up, so this
 * is the lower bound of what the two-process variant measures.
 */
import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ClusterCache, ClusterCacheModule, ClusterService } from '@app/cluster-cache';
import { ClusterCacheRuntime } from '../../libs/cluster-cache/src/cluster-cache.runtime';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import type { Table } from '../../libs/cluster-cache/src/store/table';
import { sessionKeys, sessionValues } from '../util/session-data';
import { CLUSTER, COOKIE, HOSTS, nowNs, PORTS, serve, SESSION_TTL, sleep } from './common';

const VALUES = sessionValues(1000);

async function boot(name: string, host: string, port: number, extraNodes?: string[]): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [ClusterCacheModule.forRoot({ node: { name, host, port }, cookie: COOKIE, cluster: CLUSTER, ttl: SESSION_TTL, extraNodes, joinTimeout: 60_000 })],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['warn', 'error'] }))
    .compile();
  await moduleRef.init();
  return moduleRef;
}

async function main(): Promise<void> {
  const a = await boot(`la@${HOSTS.lagA}`, HOSTS.lagA, PORTS.lagA);
  const b = await boot(`lb@${HOSTS.lagB}`, HOSTS.lagB, PORTS.lagB, [`${HOSTS.lagA}:${PORTS.lagA}`]);
  while (a.get(ClusterService).nodes().length < 1 || !b.get(ClusterService).ready) await sleep(5);
  const cache = a.get(ClusterCache) as ClusterCache<unknown>;

  let watched: Map<string, number> | undefined;
  let arrivals: Float64Array | undefined;
  const engine = b.get(ClusterCacheRuntime).engine;
  const merge = engine.merge.bind(engine);
  engine.merge = (table: Table, states: readonly EntryState[], options?: { persist?: boolean }) => {
    const installed = merge(table, states, options);
    if (watched !== undefined && installed.length > 0) {
      const t = nowNs();
      for (const s of installed) {
        const i = watched.get(s.key as string);
        if (i !== undefined && Number.isNaN(arrivals![i])) arrivals![i] = t;
      }
    }
    return installed;
  };

  serve(
    {
      /** `n` × (one put on a, await it, pause `pauseMs`); lag of each write in µs (NaN if never seen). */
      async lag({ n, seed, pauseMs }: { n: number; seed: number; pauseMs: number }) {
        const keys = sessionKeys(n, seed);
        watched = new Map(keys.map((k, i) => [k, i]));
        arrivals = new Float64Array(n).fill(NaN);
        const starts = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          starts[i] = nowNs();
          await cache.put(keys[i], VALUES[i % VALUES.length]);
          await sleep(pauseMs);
        }
        await sleep(50);
        const lags = Array.from(arrivals, (t, i) => (t - starts[i]) / 1e3);
        watched = undefined;
        return lags;
      },
      async exit() {
        await b.close();
        await a.close();
      },
    },
    { ready: true },
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
