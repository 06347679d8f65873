/**
 * The three backends of bench/backends/backends.bench.ts, each an app node of
 * the library booted with ClusterCacheModule.forRoot in this process, seen
 * through the backend-neutral `CacheStore` / `SessionStore`:
 *
 * - mesh: node a here, linked over loopback TCP to node b in a child process
 *   (mesh-peer.ts), `writes: 'sync'` (the default): a put resolves once b applied it;
 * - Redis: one redis-server started for the run (`redis: { url }`);
 * - Redis Cluster: 3 masters, no replicas, started for the run (`redis: { cluster }`).
 *
 * Servers come from test/utils/redis-server.ts. Everything started here is
 * registered with a {@link Cleanup} and ended by it, on error too.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConsoleLogger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import { CacheStore, ClusterCacheModule, ClusterCacheOptions, ClusterService, SessionStore } from '@app/cluster-cache';
import { startRedisCluster, startRedisServer } from '../../test/utils/redis-server';
import { log } from '../util/harness';
import { MESH_OPTIONS, TTL } from './mesh-options';

/** Things to end, last started first; each runs once, failures are logged and the rest still run. */
export class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<void> | void }> = [];

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        log(`clean-up of ${step.name} failed: ${(error as Error).message}`);
      }
    }
  }
}

/** One app node of a backend, through the contract. */
export interface AppNode {
  readonly cache: CacheStore;
  readonly sessions: SessionStore;
}

export type BackendName = 'mesh' | 'redis' | 'cluster';

export interface Backend extends AppNode {
  readonly name: BackendName;
  /** What the report calls it. */
  readonly label: string;
  /** Raw ioredis clients on the same Redis (none for the mesh). */
  readonly raw?: RawClients;
  /** CPU time (user + system, µs) used so far by the other side: the mesh peer process, or every redis-server of the backend. */
  serverCpuUs(): Promise<number>;
}

/**
 * Raw ioredis clients on a backend's Redis, configured as a careful user
 * would (no offline queue, no retries, a 1 s command timeout): `plain`
 * without and `pipelined` with auto-pipelining. The library is compared with
 * the better of the two in each run, so "library ÷ raw" is the library's own
 * cost over the best the client it wraps does on the same bytes and keys.
 */
export interface RawClients {
  readonly plain: Redis | Cluster;
  readonly pipelined: Redis | Cluster;
}

/** Boots an app node (ClusterCacheModule.forRoot in a Nest testing module, logger at warn/error). */
async function bootApp(options: ClusterCacheOptions, cleanup: Cleanup, name: string): Promise<AppNode> {
  const moduleRef = await Test.createTestingModule({ imports: [ClusterCacheModule.forRoot(options)] })
    .setLogger(new ConsoleLogger({ logLevels: ['warn', 'error'] }))
    .compile();
  cleanup.add(name, () => moduleRef.close());
  await moduleRef.init();
  return { cache: moduleRef.get(CacheStore), sessions: moduleRef.get(SessionStore) };
}

/** Starts mesh-peer.ts; resolves with its cluster port and a reader of its CPU time. */
async function startPeer(cleanup: Cleanup): Promise<{ port: number; cpuUs: () => Promise<number> }> {
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'mesh-peer.ts')], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.add('mesh peer', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(escalate);
  });
  // Also on a hard exit of this process (its stdin closing ends the peer as well).
  process.once('exit', () => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  // The peer's answers are JSON lines; anything else on its stdout is its Nest logger (a warning under load): passed on, not taken for an answer.
  lines.on('line', (line) => (line.startsWith('{') ? waiting.shift()?.(line) : process.stderr.write(`[mesh peer] ${line}\n`)));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the mesh peer did not start within 30 s')), 30_000);
    void nextLine().then((line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`mesh peer said: ${line}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the mesh peer exited with ${code ?? signal}`));
    });
  });
  const cpuUs = async (): Promise<number> => {
    const line = nextLine();
    child.stdin!.write('cpu\n');
    return (JSON.parse(await line) as { cpuUs: number }).cpuUs;
  };
  return { port, cpuUs };
}

async function startMesh(cleanup: Cleanup): Promise<Backend> {
  const peer = await startPeer(cleanup);
  const moduleRef = await Test.createTestingModule({
    imports: [ClusterCacheModule.forRoot({ ...MESH_OPTIONS, node: { name: 'a@127.0.0.1', port: 0 }, extraNodes: [`127.0.0.1:${peer.port}`] })],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['warn', 'error'] }))
    .compile();
  cleanup.add('mesh node a', () => moduleRef.close());
  await moduleRef.init();
  const cluster = moduleRef.get(ClusterService);
  const deadline = Date.now() + 30_000;
  while (!(cluster.ready && cluster.nodes().length === 1)) {
    if (Date.now() > deadline) throw new Error('the mesh nodes did not link within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { name: 'mesh', label: 'mesh (2 nodes)', cache: moduleRef.get(CacheStore), sessions: moduleRef.get(SessionStore), serverCpuUs: peer.cpuUs };
}

/** The raw clients' ioredis settings: fail fast, as the library does (redis-connection.ts). */
const RAW_CLIENT = { commandTimeout: 1_000, connectTimeout: 2_000, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 };

/** A redis-server's CPU time so far (INFO cpu: its getrusage, µs resolution), in µs. */
async function redisCpuUs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function ready(client: Redis | Cluster): Promise<void> {
  client.on('error', () => undefined); // errors reach the commands' promises
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw ioredis client not ready within 10 s')), 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function rawClients(make: (autoPipelining: boolean) => Redis | Cluster, cleanup: Cleanup, name: string): Promise<RawClients> {
  const plain = make(false);
  const pipelined = make(true);
  cleanup.add(`${name} raw clients`, async () => {
    for (const client of [plain, pipelined]) {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }
  });
  await Promise.all([ready(plain), ready(pipelined)]);
  return { plain, pipelined };
}

async function startSingleRedis(cleanup: Cleanup): Promise<Backend> {
  const server = await startRedisServer();
  cleanup.add('redis-server', () => server.stop());
  const app = await bootApp({ backend: 'redis', redis: { url: server.url }, ttl: TTL, sessions: { ttl: TTL } }, cleanup, 'Redis app');
  const raw = await rawClients((enableAutoPipelining) => new Redis(server.url, { ...RAW_CLIENT, enableOfflineQueue: false, enableAutoPipelining }), cleanup, 'Redis');
  return { name: 'redis', label: 'Redis (1 server)', ...app, raw, serverCpuUs: () => redisCpuUs(raw.plain as Redis) };
}

async function startClusterRedis(cleanup: Cleanup): Promise<Backend> {
  const servers = await startRedisCluster({ masters: 3 });
  cleanup.add('Redis Cluster servers', () => servers.stop());
  const nodes = servers.nodes.map((n) => `${n.host}:${n.port}`);
  const app = await bootApp({ backend: 'redis', redis: { cluster: nodes }, ttl: TTL, sessions: { ttl: TTL } }, cleanup, 'Redis Cluster app');
  const raw = await rawClients((enableAutoPipelining) => new Cluster(servers.nodes, { enableOfflineQueue: false, enableAutoPipelining, redisOptions: RAW_CLIENT }), cleanup, 'Redis Cluster');
  const masters = (raw.plain as Cluster).nodes('master');
  if (masters.length !== servers.nodes.length) throw new Error(`the raw Cluster client sees ${masters.length} masters, not ${servers.nodes.length}`);
  const serverCpuUs = async () => (await Promise.all(masters.map(redisCpuUs))).reduce((a, b) => a + b, 0);
  return { name: 'cluster', label: 'Redis Cluster (3 masters)', ...app, raw, serverCpuUs };
}

/** Starts the named backends, in this order; what was started is ended by `cleanup`. */
export async function startBackends(names: readonly BackendName[], cleanup: Cleanup): Promise<Backend[]> {
  const started: Backend[] = [];
  for (const name of names) {
    log(`starting ${name}`);
    started.push(await (name === 'mesh' ? startMesh(cleanup) : name === 'redis' ? startSingleRedis(cleanup) : startClusterRedis(cleanup)));
  }
  return started;
}
