/**
 * The ioredis side of figure 2: SET of a 203-byte session JSON with 100
 * commands always in flight from one default ioredis client (no
 * auto-pipelining), against Debian's redis-server started by run.ts.
 *
 *   BENCH_PORT=… node -r @swc-node/register bench/replication/redis-client.ts
 */
import { Redis } from 'ioredis';
import { sessionKeys, sessionValues } from '../util/session-data';
import { inFlight, serve } from './common';

const port = Number(process.env.BENCH_PORT);
const VALUES = sessionValues(1000).map((v) => JSON.stringify(v));

async function main(): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect();
  await redis.ping();
  serve(
    {
      /** Loads `n` keys (the anchor ran with 100k keys loaded), by pipelines of 1000. */
      async load({ n, seed }: { n: number; seed: number }) {
        const keys = sessionKeys(n, seed);
        for (let i = 0; i < n; i += 1000) {
          const p = redis.pipeline();
          for (let j = i; j < Math.min(n, i + 1000); j++) p.set(keys[j], VALUES[j % VALUES.length]);
          await p.exec();
        }
        return { dbsize: await redis.dbsize() };
      },
      async inflightSet({ concurrency, durationMs, seed, pool }: { concurrency: number; durationMs: number; seed: number; pool: number }) {
        const keys = sessionKeys(pool, seed);
        return inFlight(concurrency, durationMs, (i) => redis.set(keys[i % pool], VALUES[i % VALUES.length]));
      },
      async exit() {
        await redis.quit();
      },
    },
    { connected: port },
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
