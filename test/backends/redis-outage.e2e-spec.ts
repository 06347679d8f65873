/**
 * Redis goes away mid-run, on one server and on a 3-master Redis Cluster:
 * killed (kill -9), hung (SIGSTOP: the sockets stay open, nothing answers),
 * or refusing calls (CLUSTERDOWN). Asserted each time:
 *
 * - every call fails with BackendUnavailableError within `commandTimeout` (+ a
 *   small margin) of its own start, whatever is queued ahead of it, and at
 *   once (without being sent) once the health probe knows;
 * - `backend_down` / `backend_up`, `ClusterService.ready` and the health
 *   indicator follow what callers see: `down` while nothing can be served,
 *   `degraded` while a Cluster serves only some slots (with their ranges),
 *   `up` again once Redis is back — and calls work again.
 */
import { performance } from 'node:perf_hooks';
import { Test } from '@nestjs/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BackendUnavailableError, CacheStore, ClusterCache, ClusterCacheModule, ClusterEvent, ClusterService, InvalidOptionError, SessionCache } from '@app/cluster-cache';
import { ClusterCacheHealthIndicator } from '@app/cluster-cache/health';
import { slotOf } from '@app/cluster-cache/redis/redis-health';
import { RedisClusterServers, RedisServer, startRedisCluster, startRedisServer } from '../utils/redis-server';
import { waitFor } from '../utils/wait-for';
import { ContractNode, startContractNode } from './backends';

/** The `redis.commandTimeout` of these specs, in ms. */
const TIMEOUT = 500;
/** What a failure may take beyond the timeout: timer and event-loop lag on a busy 2-core machine. */
const MARGIN = 200;
/** A call the client knows it cannot serve fails without being sent: "at once", give or take a busy event loop. */
const AT_ONCE = 100;

interface Outcome {
  error: unknown;
  ms: number;
}

/** Runs a call and says how it failed (or not) and how long it took from its start. */
async function timed(call: () => unknown): Promise<Outcome> {
  const start = performance.now();
  try {
    await call();
    return { error: undefined, ms: performance.now() - start };
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
}

function expectUnavailable(outcome: Outcome, within: number): void {
  expect(outcome.error).toBeInstanceOf(BackendUnavailableError);
  expect(outcome.ms).toBeLessThanOrEqual(within);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The library's terminus indicator over a node, as a health endpoint would call it. */
function health(cluster: ClusterService): { status: string; message?: string; state?: string; uncoveredSlots?: { count: number; ranges: string[] } } {
  return new ClusterCacheHealthIndicator(new HealthIndicatorService(), cluster).isHealthy()['cluster-cache'] as never;
}

describe('the Redis backend when its one server goes away', () => {
  let server: RedisServer;
  let node: ContractNode;
  const events: ClusterEvent[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    node = await startContractNode({ backend: 'redis', redis: { url: server.url, commandTimeout: TIMEOUT } });
    node.cluster.events$.subscribe((event) => events.push(event));
  }, 30_000);
  afterAll(async () => {
    server?.resume();
    await node?.close();
    await server?.stop();
  });
  beforeEach(() => void (events.length = 0));

  it('killed: calls fail at once, events, ready and health say down, then up when it is back', async () => {
    const { token } = await node.sessions.create('ada');
    await node.cache.put('k', 1);
    expect(node.cluster.ready).toBe(true);
    expect(health(node.cluster).status).toBe('up');

    await server.kill();
    const calls = [() => node.cache.get('k'), () => node.cache.put('k', 2), () => node.sessions.get(token), () => node.sessions.revokeAll('ada')];
    for (const outcome of await Promise.all(calls.map(timed))) {
      expectUnavailable(outcome, TIMEOUT + MARGIN);
      expect((outcome.error as Error).message).toContain(server.url);
    }
    await waitFor(() => events.some((e) => e.type === 'backend_down'), 10_000, 'backend_down');
    expect(events.find((e) => e.type === 'backend_down')).toMatchObject({ backend: 'redis', address: server.url });
    expect(node.cluster.ready).toBe(false);
    expect(health(node.cluster)).toMatchObject({ status: 'down', message: expect.stringMatching(/^Redis unavailable: /) });
    for (const outcome of await Promise.all(calls.map(timed))) expectUnavailable(outcome, AT_ONCE);

    await server.start();
    await waitFor(() => events.some((e) => e.type === 'backend_up'), 15_000, 'backend_up');
    expect(node.cluster.ready).toBe(true);
    expect(health(node.cluster).status).toBe('up');
    await node.cache.put('k', 3);
    expect(await node.cache.get('k')).toBe(3);
    const { token: again } = await node.sessions.create('ada');
    expect((await node.sessions.get(again))?.userId).toBe('ada');
  }, 60_000);

  it('hung (SIGSTOP): each call fails at its own deadline, then at once once the probe knows; back on SIGCONT', async () => {
    await node.cache.put('k', 1);
    server.pause();
    try {
      // Calls queued behind others still waiting for the hung server: each fails at its own deadline.
      const load = Array.from({ length: 50 }, () => timed(() => node.cache.get('k')));
      const late = [0, 100, 300].map(async (delay) => {
        await sleep(delay);
        return timed(() => node.cache.get('k'));
      });
      for (const outcome of await Promise.all([...load, ...late])) expectUnavailable(outcome, TIMEOUT + MARGIN);

      await waitFor(() => events.some((e) => e.type === 'backend_down'), 5_000, 'backend_down');
      expect(node.cluster.ready).toBe(false);
      expect(health(node.cluster)).toMatchObject({ status: 'down', message: expect.stringContaining(`no answer within ${TIMEOUT} ms`) });
      expectUnavailable(await timed(() => node.cache.put('k', 2)), AT_ONCE);
    } finally {
      server.resume();
    }
    await waitFor(() => events.some((e) => e.type === 'backend_up'), 10_000, 'backend_up');
    expect(node.cluster.ready).toBe(true);
    expect(health(node.cluster).status).toBe('up');
    await waitFor(async () => (await node.cache.get('k')) === 1, 5_000, 'reads to work again');
  }, 60_000);

  it('starts while Redis is down, answers BackendUnavailableError, then serves once Redis is up', async () => {
    const later = await startRedisServer();
    await later.stop();
    const app = await startContractNode({ backend: 'redis', redis: { url: later.url, connectTimeout: 200 } });
    try {
      expect(app.cluster.ready).toBe(false);
      expect(health(app.cluster).status).toBe('down');
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
  /** One namespace on each master (same index as `servers.servers`). */
  let onMaster: CacheStore[];
  const events: ClusterEvent[] = [];
  /** `CONFIG SET cluster-require-full-coverage` on the running masters (`no`: the others serve while one is gone). */
  const fullCoverage = async (value: 'yes' | 'no', which = [0, 1, 2]) => {
    await Promise.all(which.map((i) => servers.servers[i].command('CONFIG', 'SET', 'cluster-require-full-coverage', value)));
  };
  const ranges = (i: number) => `${servers.slots[i][0]}-${servers.slots[i][1]}`;

  beforeAll(async () => {
    servers = await startRedisCluster({ masters: 3 });
    await fullCoverage('no');
    node = await startContractNode({ backend: 'redis', redis: { cluster: servers.nodes.map((n) => `${n.host}:${n.port}`), commandTimeout: TIMEOUT } });
    node.cluster.events$.subscribe((event) => events.push(event));
    onMaster = [0, 1, 2].map((master) => {
      for (let i = 0; ; i++) {
        const name = `outage-${i}`;
        if (servers.masterOf(slotOf(`{sessions/${name}}`)) === master) return node.cache.namespace(name, { ttl: 600_000 });
      }
    });
  }, 60_000);
  afterAll(async () => {
    for (const server of servers?.servers ?? []) server.resume();
    await node?.close();
    await servers?.stop();
  });
  beforeEach(() => void (events.length = 0));

  it('killed: its slots fail fast while the others serve (degraded); CLUSTERDOWN: down; back: up', async () => {
    await Promise.all(onMaster.map((cache, i) => cache.put('k', i)));
    expect(health(node.cluster).status).toBe('up');

    await servers.servers[0].kill();
    // Before the probe knows: a call to the dead master's slots fails within its deadline (no ~1 s redirection loop).
    expectUnavailable(await timed(() => onMaster[0].get('k')), TIMEOUT + MARGIN);
    expect(await onMaster[1].get('k')).toBe(1);

    await waitFor(() => health(node.cluster).status === 'degraded', 10_000, 'health degraded');
    expect(health(node.cluster)).toMatchObject({ message: expect.stringContaining(ranges(0)), uncoveredSlots: { count: servers.slots[0][1] + 1, ranges: [ranges(0)] } });
    expect(node.cluster.ready).toBe(true);
    expect(node.cluster.stats().backend).toMatchObject({ state: 'degraded', uncoveredSlots: { ranges: [ranges(0)] } });
    // Once it knows: at once, naming the slot and its master; the other masters keep serving.
    const known = await timed(() => onMaster[0].put('k', 0));
    expectUnavailable(known, AT_ONCE);
    expect((known.error as Error).message).toMatch(new RegExp(`slot \\d+ is not served: its master ${servers.nodes[0].host}:${servers.nodes[0].port}`));
    await onMaster[2].put('k', 22);
    expect(await onMaster[2].get('k')).toBe(22);
    expect(events).toEqual([]);

    // The survivors require full coverage: the cluster refuses every call (CLUSTERDOWN).
    await fullCoverage('yes', [1, 2]);
    await waitFor(() => events.some((e) => e.type === 'backend_down'), 10_000, 'backend_down');
    expect(node.cluster.ready).toBe(false);
    expect(health(node.cluster)).toMatchObject({ status: 'down', message: expect.stringContaining('CLUSTERDOWN') });
    for (const outcome of await Promise.all(onMaster.map((cache) => timed(() => cache.get('k'))))) expectUnavailable(outcome, AT_ONCE);

    await servers.servers[0].start();
    await fullCoverage('no', [0]);
    await waitFor(() => events.some((e) => e.type === 'backend_up'), 30_000, 'backend_up');
    await waitFor(() => health(node.cluster).status === 'up', 30_000, 'health up');
    expect(node.cluster.ready).toBe(true);
    await waitFor(async () => (await Promise.all(onMaster.map((cache, i) => cache.put('k', i).then(() => true, () => false)))).every(Boolean), 10_000, 'writes on every master');
    expect(await Promise.all(onMaster.map((cache) => cache.get('k')))).toEqual([0, 1, 2]);
    await fullCoverage('no');
  }, 90_000);

  it('hung (SIGSTOP): its calls fail at their own deadline, then at once; degraded meanwhile; up on SIGCONT', async () => {
    const hung = servers.servers[1];
    await onMaster[1].put('k', 1);
    hung.pause();
    try {
      const late = [0, 100, 300].map(async (delay) => {
        await sleep(delay);
        return timed(() => onMaster[1].get('k'));
      });
      const load = Array.from({ length: 20 }, () => timed(() => onMaster[1].put('k', 9)));
      for (const outcome of await Promise.all([...late, ...load])) expectUnavailable(outcome, TIMEOUT + MARGIN);
      expect(await onMaster[0].get('k')).toBe(0);

      await waitFor(() => health(node.cluster).status === 'degraded', 10_000, 'health degraded');
      expect(health(node.cluster)).toMatchObject({ uncoveredSlots: { ranges: [ranges(1)] }, message: expect.stringContaining(`no answer within ${TIMEOUT} ms`) });
      expect(node.cluster.ready).toBe(true);
      expectUnavailable(await timed(() => onMaster[1].get('k')), AT_ONCE);
      expect(await onMaster[2].get('k')).toBe(2);
    } finally {
      hung.resume();
    }
    await waitFor(() => health(node.cluster).status === 'up', 15_000, 'health up');
    await waitFor(async () => (await onMaster[1].get('k')) !== undefined, 5_000, 'reads on the resumed master');
    expect(events.filter((e) => e.type === 'backend_down')).toEqual([]);
  }, 60_000);
});
