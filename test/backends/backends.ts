import { Test } from '@nestjs/testing';
import { CacheStore, ClusterCacheModule, ClusterCacheOptions, ClusterService, SessionStore } from '@app/cluster-cache';
import { CapturingLogger, startNode, TestNode } from '../utils/cluster-app';
import { RedisClusterServers, RedisServer, startRedisCluster, startRedisServer } from '../utils/redis-server';
import { waitFor } from '../utils/wait-for';

/** One app node of a backend under test, seen through the backend-neutral contract. */
export interface ContractNode {
  readonly cache: CacheStore;
  readonly sessions: SessionStore;
  readonly cluster: ClusterService;
  close(): Promise<void>;
}

/** Two app nodes sharing one backend: what a sign-in on one and a request on the other need. */
export interface BackendUnderTest {
  readonly a: ContractNode;
  readonly b: ContractNode;
  stop(): Promise<void>;
}

/** Settings every backend gets, short enough for expiry to be watched in a test. */
export const CONTRACT_OPTIONS = { ttl: 600_000, sessions: { ttl: 600_000, rotationGrace: 1_000 } } satisfies ClusterCacheOptions;

/** Boots an app node with the given options and returns its contract view. */
export async function startContractNode(options: ClusterCacheOptions): Promise<ContractNode> {
  const moduleRef = await Test.createTestingModule({ imports: [ClusterCacheModule.forRoot({ ...CONTRACT_OPTIONS, ...options })] })
    .setLogger(CapturingLogger.shared)
    .compile();
  await moduleRef.init();
  return {
    cache: moduleRef.get(CacheStore),
    sessions: moduleRef.get(SessionStore),
    cluster: moduleRef.get(ClusterService),
    close: () => moduleRef.close(),
  };
}

/** Two mesh nodes linked over real TCP on loopback. */
export async function startMesh(): Promise<BackendUnderTest> {
  const a = await startNode({ ...CONTRACT_OPTIONS, node: { name: 'ca@127.0.0.1', port: 0 } });
  let b: TestNode | undefined;
  try {
    b = await startNode({ ...CONTRACT_OPTIONS, node: { name: 'cb@127.0.0.1', port: 0 }, extraNodes: [a.address] });
    await waitFor(() => a.cluster.nodes().length === 1 && b!.cluster.ready, 10_000, 'the mesh nodes to link');
  } catch (error) {
    await a.close();
    throw error;
  }
  const view = (node: TestNode): ContractNode => ({
    cache: node.app.get(CacheStore),
    sessions: node.app.get(SessionStore),
    cluster: node.cluster,
    close: () => node.close(),
  });
  return { a: view(a), b: view(b), stop: async () => void (await Promise.all([b!.close(), a.close()])) };
}

/**
 * Both nodes of a contract backend serving: init waits for Redis only so long (then the app starts and
 * calls fail until it serves), and on a loaded machine a fresh Redis Cluster can take longer to serve every
 * slot; the contract is not about that.
 */
async function serving(...nodes: ContractNode[]): Promise<void> {
  await waitFor(() => nodes.every((node) => node.cluster.ready), 15_000, 'Redis to serve both nodes');
}

/** Two app nodes on one real redis-server started for the spec. */
export async function startSingleRedis(): Promise<BackendUnderTest & { server: RedisServer }> {
  const server = await startRedisServer();
  const options: ClusterCacheOptions = { backend: 'redis', redis: { url: server.url } };
  const a = await startContractNode(options);
  const b = await startContractNode(options);
  await serving(a, b);
  return { a, b, server, stop: async () => void (await Promise.all([a.close(), b.close()]), await server.stop()) };
}

/** Two app nodes on a real 3-master Redis Cluster created for the spec. */
export async function startRedisClusterBackend(): Promise<BackendUnderTest & { servers: RedisClusterServers }> {
  const servers = await startRedisCluster({ masters: 3 });
  const options: ClusterCacheOptions = { backend: 'redis', redis: { cluster: servers.nodes.map((n) => `${n.host}:${n.port}`) } };
  const a = await startContractNode(options);
  const b = await startContractNode(options);
  await serving(a, b);
  return { a, b, servers, stop: async () => void (await Promise.all([a.close(), b.close()]), await servers.stop()) };
}
