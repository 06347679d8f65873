/**
 * Time on the Redis backend, on one server and on a 3-master Redis Cluster:
 *
 * - two app nodes whose clocks are 2 minutes ahead of and behind Redis (a
 *   clock injected through the `clock` option, not the system clock) lose
 *   nothing and get the TTLs they ask for, counted by Redis: the expiry sent
 *   to Redis is a TTL, never the app's clock + TTL; `stats()` shows the skew,
 *   and the app warns about it;
 * - the key indexes of a namespace that is written once with short TTLs and
 *   then left alone empty themselves (no write needed), and hold no more than
 *   the live entries once the expired ones are swept.
 */
import { randomUUID } from 'node:crypto';
import { ANY, CacheStore, Clock } from '@app/cluster-cache';
import { NamespaceKeys } from '@app/cluster-cache/redis/redis-keys';
import { slotOf } from '@app/cluster-cache/redis/redis-health';
import { CapturingLogger } from '../utils/cluster-app';
import { startRedisCluster, startRedisServer } from '../utils/redis-server';
import { waitFor } from '../utils/wait-for';
import { ContractNode, startContractNode } from './backends';

/** How far the apps' clocks are off, in ms. */
const SKEW = 120_000;
/** Slack for a TTL read back from Redis (it counts down while the spec runs). */
const SLACK = 3_000;

/** The app's clock, `offset` ms off the system clock. */
const skewedClock = (offset: number): Clock => ({ now: () => Date.now() + offset });

interface RedisUnderTest {
  /** Startup options of the app nodes. */
  redis: { url: string } | { cluster: string[] };
  /** Runs one command on the server holding `key`. */
  command(key: string | Buffer, name: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
  stop(): Promise<void>;
}

async function singleServer(): Promise<RedisUnderTest> {
  const server = await startRedisServer();
  return { redis: { url: server.url }, command: (key, name, ...args) => server.command(name, key, ...args), stop: () => server.stop() };
}

async function cluster(): Promise<RedisUnderTest> {
  const servers = await startRedisCluster({ masters: 3 });
  return {
    redis: { cluster: servers.nodes.map((n) => `${n.host}:${n.port}`) },
    command: (key, name, ...args) => servers.servers[servers.masterOf(slotOf(key))].command(name, key, ...args),
    stop: () => servers.stop(),
  };
}

describe.each([
  ['one server', singleServer],
  ['a Redis Cluster', cluster],
])('the Redis backend on %s', (_, start) => {
  let redis: RedisUnderTest;
  let ahead: ContractNode;
  let behind: ContractNode;

  beforeAll(async () => {
    redis = await start();
    ahead = await startContractNode({ backend: 'redis', redis: redis.redis, clock: skewedClock(SKEW), node: { name: 'ahead@127.0.0.1' } });
    behind = await startContractNode({ backend: 'redis', redis: redis.redis, clock: skewedClock(-SKEW), node: { name: 'behind@127.0.0.1' } });
  }, 60_000);
  afterAll(async () => {
    await ahead?.close();
    await behind?.close();
    await redis?.stop();
  });

  const pttl = async (key: string | Buffer) => Number(await redis.command(key, 'PTTL'));
  const expectTtl = (left: number, ttl: number) => {
    expect(left).toBeLessThanOrEqual(ttl);
    expect(left).toBeGreaterThan(ttl - SLACK);
  };

  describe('with app clocks 2 minutes off Redis', () => {
    it.each([
      ['ahead', () => [ahead, behind]],
      ['behind', () => [behind, ahead]],
    ] as const)('loses no cache write of a node %s, and keeps its TTL as asked', async (_, nodes) => {
      const [writer, reader] = nodes();
      const ns = `skew-${randomUUID()}`;
      const keys = new NamespaceKeys('ncc:', 'sessions', ns);
      const cache = (node: ContractNode): CacheStore => node.cache.namespace(ns, { ttl: 60_000 });

      await cache(writer).put('a', 'one');
      await cache(writer).put('b', 'two', { expiresAt: writer.cache.clockNow() + 60_000 });
      await cache(writer).putMany([['c', 'three']], { ttl: 60_000 });
      for (const key of ['a', 'b', 'c']) expectTtl(await pttl(keys.entry(key)), 60_000);
      expect(await cache(reader).get('a')).toBe('one');
      expect(await cache(reader).all(ANY)).toEqual([['a', 'one'], ['b', 'two'], ['c', 'three']]);
      // expiresAt is on the reading app's clock: its now plus what is left.
      expectTtl((await cache(reader).expiresAt('a'))! - reader.cache.clockNow(), 60_000);

      // A short TTL lives as long as asked by Redis's clock: not 2 minutes less (lost) or more.
      await cache(writer).put('short', 'brief', { ttl: 400 });
      expect(await cache(reader).get('short')).toBe('brief');
      await waitFor(async () => (await cache(reader).get('short')) === undefined, 3_000, 'the short entry to expire');
    });

    it.each([
      ['ahead', () => [ahead, behind]],
      ['behind', () => [behind, ahead]],
    ] as const)('gives a session made on a node %s its whole TTL, through touch and rotation', async (_, nodes) => {
      const [writer, reader] = nodes();
      const storage = (token: string) => (writer.sessions as unknown as { storageKeyOf(token: string): string }).storageKeyOf(token);
      const user = `user-${randomUUID()}`;
      const { token, session } = await writer.sessions.create(user, { device: 'laptop' }, { ttl: 600_000 });
      expect(session.expiresAt - session.createdAt).toBe(600_000);
      expectTtl(await pttl(storage(token)), 600_000);
      expect(await reader.sessions.get(token)).toEqual(session);
      expect((await reader.sessions.list(user)).map((s) => s.handle)).toEqual([session.handle]);

      const touched = await writer.sessions.touch(token, { ttl: 300_000 });
      expectTtl(await pttl(storage(token)), 300_000);
      expect(touched!.expiresAt - writer.cache.clockNow()).toBeGreaterThan(300_000 - SLACK);

      const rotated = await writer.sessions.rotate(token, { ttl: 600_000 });
      expect(rotated?.rotated).toBe(true);
      expectTtl(await pttl(storage(rotated!.token)), 600_000);
      expect((await reader.sessions.get(rotated!.token))?.userId).toBe(user);
      expect((await reader.sessions.get(token))?.handle).toBe(rotated!.session.handle);

      const brief = await writer.sessions.create(user, {}, { ttl: 400 });
      expect(await reader.sessions.get(brief.token)).toBeDefined();
      await waitFor(async () => (await reader.sessions.get(brief.token)) === undefined, 3_000, 'the short session to expire');
      expect((await reader.sessions.list(user)).map((s) => s.handle)).toEqual([rotated!.session.handle]);
    });

    it('measures the skew in stats() and warns about it', async () => {
      await waitFor(() => ahead.cluster.stats().backend?.clockSkew !== undefined, 5_000, 'a skew measurement');
      expect(Math.abs(ahead.cluster.stats().backend!.clockSkew! + SKEW)).toBeLessThan(1_000);
      expect(Math.abs(behind.cluster.stats().backend!.clockSkew! - SKEW)).toBeLessThan(1_000);
      for (const server of ahead.cluster.stats().backend!.servers) expect(Math.abs(server.clockSkew! + SKEW)).toBeLessThan(1_000);
      const warnings = CapturingLogger.shared.lines.filter((line) => line.startsWith('warn') && line.includes("the app's clock is"));
      expect(warnings.some((line) => line.includes('[ClusterCache ahead@127.0.0.1]') && line.includes('ahead of Redis'))).toBe(true);
      expect(warnings.some((line) => line.includes('[ClusterCache behind@127.0.0.1]') && line.includes('behind Redis'))).toBe(true);
    });
  });

  describe('key indexes of a namespace left alone', () => {
    const zcard = async (key: string) => Number(await redis.command(key, 'ZCARD'));

    it('empty themselves after short-TTL writes, with no write to trim them', async () => {
      const ns = `idle-${randomUUID()}`;
      const keys = new NamespaceKeys('ncc:', 'sessions', ns);
      await ahead.cache.namespace(ns).putMany(
        Array.from({ length: 2_000 }, (_, i) => [['item', i], i] as const),
        { ttl: 300 },
      );
      expect(await zcard(keys.index)).toBe(2_000);
      // The indexes carry a TTL of their own: should no app sweep them, they still go.
      expect(await pttl(keys.index)).toBeGreaterThan(0);
      expect(await pttl(keys.expiry)).toBeGreaterThan(0);
      await waitFor(async () => (await zcard(keys.index)) + (await zcard(keys.expiry)) === 0, 5_000, 'the indexes to empty');
      expect(Number(await redis.command(keys.index, 'EXISTS'))).toBe(0);
    });

    it('hold the live entries only, once the expired ones are swept', async () => {
      const ns = `mixed-${randomUUID()}`;
      const keys = new NamespaceKeys('ncc:', 'sessions', ns);
      const cache = behind.cache.namespace(ns);
      await cache.put('stays', 'long', { ttl: 600_000 });
      await cache.putMany(
        Array.from({ length: 2_000 }, (_, i) => [['brief', i], i] as const),
        { ttl: 300 },
      );
      await waitFor(async () => (await zcard(keys.index)) === 1 && (await zcard(keys.expiry)) === 1, 5_000, 'the expired keys to leave the indexes');
      expect(await cache.all(ANY)).toEqual([['stays', 'long']]);
      // The indexes outlive their longest entry (by as much again), and no more.
      const indexTtl = await pttl(keys.index);
      expect(indexTtl).toBeGreaterThan(600_000);
      expect(indexTtl).toBeLessThanOrEqual(2 * 600_000);
    });
  });
});
