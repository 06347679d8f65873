/**
 * Two real app nodes behind the demo's round-robin balancer, on the mesh or
 * on one Redis server, for the drop-in stores' specs: each node is a Nest app
 * in this process serving HTTP on loopback; on the mesh the two link over
 * TCP, on Redis they share a redis-server started here.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { ClusterCacheOptions, ClusterService } from '@app/cluster-cache';
import { createLoadBalancer } from '../../scripts/demo-lb';
import { CapturingLogger, TEST_COOKIE } from '../utils/cluster-app';
import { RedisServer, startRedisServer } from '../utils/redis-server';
import { waitFor } from '../utils/wait-for';

export type NodeName = 'a' | 'b';

/** Builds (does not start) the app of node `name` with these cache options. */
export type MakeApp = (name: NodeName, cacheOptions: ClusterCacheOptions) => Promise<INestApplication>;

export interface HttpNode {
  readonly name: NodeName;
  readonly app: INestApplication;
  /** `http://127.0.0.1:port` */
  readonly url: string;
}

export interface TwoNodes {
  readonly a: HttpNode;
  readonly b: HttpNode;
  /** The balancer's URL: requests alternate between a and b. */
  readonly lb: string;
  stop(): Promise<void>;
}

/** A backend the two nodes share; `stop` ends what it started. */
export interface Backend {
  readonly name: string;
  /** The cache options of node `name`; on the mesh b links to `a`'s cluster address. */
  options(name: NodeName, a?: INestApplication): ClusterCacheOptions;
  /** Resolves once the nodes see each other's writes. */
  linked(a: INestApplication, b: INestApplication): Promise<void>;
  stop(): Promise<void>;
}

const TTL = 10 * 60_000;

export const BACKENDS: Array<[string, () => Promise<Backend>]> = [
  [
    'mesh',
    async () => ({
      name: 'mesh',
      options: (name, a) => ({
        cookie: TEST_COOKIE,
        ttl: TTL,
        joinTimeout: 10_000,
        node: { name: `${name}@127.0.0.1`, port: 0 },
        extraNodes: a === undefined ? undefined : [clusterAddress(a)],
      }),
      linked: async (a, b) => {
        await waitFor(() => a.get(ClusterService).nodes().length === 1 && b.get(ClusterService).ready, 10_000, 'the mesh nodes to link');
      },
      stop: async () => {},
    }),
  ],
  [
    'redis',
    async () => {
      const server: RedisServer = await startRedisServer();
      return {
        name: 'redis',
        options: () => ({ backend: 'redis', ttl: TTL, redis: { url: server.url } }),
        linked: async () => {},
        stop: () => server.stop(),
      };
    },
  ],
];

function clusterAddress(app: INestApplication): string {
  const self = app.get(ClusterService).self();
  return `${self.host}:${self.port}`;
}

/** Starts node a, then node b (linked to a on the mesh), then the balancer in front of both. */
export async function startTwoNodes(backend: Backend, makeApp: MakeApp): Promise<TwoNodes> {
  const started: INestApplication[] = [];
  let balancer: Server | undefined;
  const stop = async (): Promise<void> => {
    if (balancer !== undefined) {
      const closing = new Promise((resolve) => balancer!.close(resolve));
      balancer.closeAllConnections();
      await closing;
    }
    await Promise.all(started.map((app) => app.close()));
  };
  try {
    const a = await listen('a', await makeApp('a', backend.options('a')), started);
    const b = await listen('b', await makeApp('b', backend.options('b', a.app)), started);
    await backend.linked(a.app, b.app);
    balancer = createLoadBalancer({ backends: [a.url, b.url].map((url) => url.replace('http://', '')) });
    await new Promise<void>((resolve) => balancer!.listen(0, '127.0.0.1', resolve));
    const lb = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
    return { a, b, lb, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * For a describe block: starts the backend and two nodes of `makeApp` before
 * its tests and stops them after. The object returned is filled in beforeAll.
 */
export function twoNodesDuring(makeBackend: () => Promise<Backend>, makeApp: MakeApp): TwoNodes {
  const nodes = {} as { -readonly [K in keyof TwoNodes]: TwoNodes[K] };
  let backend: Backend | undefined;
  beforeAll(async () => {
    backend = await makeBackend();
    Object.assign(nodes, await startTwoNodes(backend, makeApp));
  }, 30_000);
  afterAll(async () => {
    await nodes.stop?.();
    await backend?.stop();
  });
  return nodes;
}

async function listen(name: NodeName, app: INestApplication, started: INestApplication[]): Promise<HttpNode> {
  started.push(app);
  app.useLogger(CapturingLogger.shared);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { name, app, url: `http://127.0.0.1:${port}` };
}

/** One HTTP exchange: status, the node that answered (`x-node`), the session cookie set, the JSON body. */
export interface Answer {
  readonly status: number;
  readonly node: string | null;
  /** `name=value` of the first Set-Cookie, if any. */
  readonly setCookie: string | undefined;
  readonly headers: Headers;
  readonly body: unknown;
}

export async function http(base: string, method: string, path: string, options: { cookie?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, { method, headers, body: options.json === undefined ? undefined : JSON.stringify(options.json) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text
  }
  return { status: response.status, node: response.headers.get('x-node'), setCookie: response.headers.getSetCookie()[0]?.split(';')[0], headers: response.headers, body };
}

/** Users of the sign-in specs: name → password. */
export const USERS: Record<string, string> = { ada: 'analytical-engine', grace: 'cobol-1959' };

/** A session secret for these specs only. */
export const SESSION_SECRET = 'the drop-in stores spec secret, 32+ chars';
