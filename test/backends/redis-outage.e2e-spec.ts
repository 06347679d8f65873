/**
 * Redis goes away mid-run: calls fail at once with BackendUnavailableError
 * (no offline queue, no hanging until a timeout), `events$` and `ready` say
 * so, and everything works again when the same server is back.
 */
import { Test } from '@nestjs/testing';
import { BackendUnavailableError, ClusterCache, ClusterCacheModule, ClusterEvent, InvalidOptionError, SessionCache } from '@app/cluster-cache';
import { RedisClusterServers, RedisServer, startRedisCluster, startRedisServer } from '../utils/redis-server';
import { waitFor } from '../utils/wait-for';
import { ContractNode, startContractNode } from './backends';

describe('the Redis backend when Redis goes away', () => {
  let server: RedisServer;
  let node: ContractNode;
  const events: ClusterEvent[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    // A long command timeout: the calls below must fail because nothing waits, not because a timer ran out.
    node = await startContractNode({ backend: 'redis', redis: { url: server.url, commandTimeout: 60_000 } });
    node.cluster.events$.subscribe((event) => events.push(event));
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await server?.stop();
  });

  it('fails fast while Redis is down, and recovers when it is back', async () => {
    const { token } = await node.sessions.create('ada');
    await node.cache.put('k', 1);
    expect(node.cluster.ready).toBe(true);

    await server.kill();
    await waitFor(() => events.some((e) => e.type === 'backend_down'), 10_000, 'backend_down');
    expect(node.cluster.ready).toBe(false);
    const down = events.find((e) => e.type === 'backend_down')!;
    expect(down).toMatchObject({ backend: 'redis', address: server.url });

    for (const call of [() => node.cache.get('k'), () => node.cache.put('k', 2), () => node.sessions.get(token), () => node.sessions.revokeAll('ada')]) {
      const error = await Promise.resolve()
        .then(call)
        .then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as BackendUnavailableError).message).toContain(server.url);
    }

    await server.start();
    await waitFor(() => events.some((e) => e.type === 'backend_up'), 15_000, 'backend_up');
    await waitFor(() => node.cache.put('k', 3).then(() => true), 10_000, 'a write to succeed again');
    expect(await node.cache.get('k')).toBe(3);
    const { token: again } = await node.sessions.create('ada');
    expect((await node.sessions.get(again))?.userId).toBe('ada');
    expect(node.cluster.ready).toBe(true);
  }, 60_000);

  it('starts while Redis is down, answers BackendUnavailableError, then serves once Redis is up', async () => {
    const later = await startRedisServer();
    await later.stop();
    const app = await startContractNode({ backend: 'redis', redis: { url: later.url, connectTimeout: 200 } });
    try {
      expect(app.cluster.ready).toBe(false);
      await expect(app.cache.get('x')).rejects.toBeInstanceOf(BackendUnavailableError);
      await later.start();
      await waitFor(() => app.cluster.ready, 15_000, 'the connection');
      await app.cache.put('x', 'up');
      expect(await app.cache.get('x')).toBe('up');
    } finally {
      await app.close();
      await later.stop();
    }
  }, 60_000);

  it('says what to inject instead when mesh-only APIs are used with Redis', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ClusterCacheModule.forRoot({ backend: 'redis', redis: { url: server.url } })] }).compile();
    await moduleRef.init();
    try {
      expect(() => moduleRef.get(ClusterCache).get('x')).toThrow(InvalidOptionError);
      expect(() => moduleRef.get(SessionCache).get('x')).toThrow(/inject SessionStore/);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('the Redis backend when a Redis Cluster master goes away', () => {
  let servers: RedisClusterServers;
  let node: ContractNode;

  beforeAll(async () => {
    servers = await startRedisCluster({ masters: 3 });
    node = await startContractNode({ backend: 'redis', redis: { cluster: servers.nodes.map((n) => `${n.host}:${n.port}`), commandTimeout: 60_000 } });
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await servers?.stop();
  });

  it('fails fast while the cluster is down, and recovers when the master is back', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const tokens = await Promise.all(users.map(async (user) => (await node.sessions.create(user)).token));
    await servers.servers[0].kill();
    // Without replicas the cluster stops answering (CLUSTERDOWN) once the others mark the master failed.
    const error = await waitFor(
      async () => {
        const failures = await Promise.all(tokens.map((token) => Promise.resolve(node.sessions.get(token)).then(() => undefined, (e: unknown) => e)));
        return failures.find((e) => e !== undefined);
      },
      20_000,
      'calls to fail',
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    await servers.servers[0].start();
    await waitFor(
      async () => (await Promise.all(users.map((user) => node.sessions.create(user).then(() => true, () => false)))).every(Boolean),
      30_000,
      'every user’s slot to take writes again',
    );
    const { token } = await node.sessions.create('after');
    expect((await node.sessions.get(token))?.userId).toBe('after');
  }, 90_000);
});
