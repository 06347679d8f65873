import { Cluster, Redis } from 'ioredis';
import { RedisClusterServers, RedisServer, startRedisCluster, startRedisServer } from './redis-server';
import { waitFor } from './wait-for';

// The test infrastructure itself: real redis-server processes started by the spec.
describe('startRedisServer', () => {
  let server: RedisServer;
  let client: Redis | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('serves commands, fails while stopped and serves again on the same port once started', async () => {
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    // No offline queue: calls fail at once while Redis is down; retries come back by themselves.
    client = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 20 });
    client.on('error', () => undefined);
    await waitFor(() => client!.status === 'ready', 5_000, 'the client to connect');
    await client.set('key', 'value');
    expect(await client.get('key')).toBe('value');

    await server.stop();
    await server.stop(); // idempotent
    await waitFor(() => client!.status !== 'ready', 5_000, 'the client to see Redis go');
    await expect(client.get('key')).rejects.toThrow();

    await server.start();
    await waitFor(() => client!.status === 'ready', 5_000, 'the client to reconnect');
    expect(await client.get('key')).toBeNull(); // nothing is persisted
    await client.set('key', 'again');
    expect(await client.get('key')).toBe('again');

    await server.kill();
    await server.start();
    await waitFor(() => client!.status === 'ready', 5_000, 'the client to reconnect after a crash');
    await client.set('key', 'value');
    await server.flushAll();
    expect(await client.dbsize()).toBe(0);
  });
});

describe('startRedisCluster', () => {
  let cluster: RedisClusterServers;
  let client: Cluster | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });

  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it('serves keys spread over its 3 masters', async () => {
    expect(cluster.nodes).toHaveLength(3);
    client = new Cluster(cluster.nodes);
    expect(await client.cluster('INFO')).toContain('cluster_state:ok');

    const keys = Array.from({ length: 100 }, (_, i) => `key:${i}`);
    await Promise.all(keys.map((key, i) => client!.set(key, String(i))));
    expect(await Promise.all(keys.map((key) => client!.get(key)))).toEqual(keys.map((_, i) => String(i)));
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(sizes).toHaveLength(3);
    expect(sizes.every((size) => size > 0)).toBe(true);
    expect(sizes.reduce((a, b) => a + b)).toBe(100);

    await cluster.flushAll();
    expect(await Promise.all(client.nodes('master').map((node) => node.dbsize()))).toEqual([0, 0, 0]);
  });
});
