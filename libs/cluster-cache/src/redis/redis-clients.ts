import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import type { ResolvedRedisOptions } from '../options/resolve-options';

/** Longest pause between reconnection attempts, in ms: Redis is back within this of its return. */
const MAX_RECONNECT_DELAY = 1_000;
/** Pause before a Cluster call is retried after "Connection is closed" or TRYAGAIN, in ms. */
const FAILOVER_RETRY_DELAY = 20;
/** Most redirections (MOVED, ASK, retries) of one Cluster call. */
const MAX_REDIRECTIONS = 6;

export type IoRedis = typeof import('ioredis');

/** The ioredis clients of the Redis backend. */
export interface RedisClients {
  /** The app's client: to one server, or to a Redis Cluster. */
  client: Redis | Cluster;
  isCluster: boolean;
  /** The Redis address, without credentials, for messages and events. */
  address: string;
  /** One server: its address (`host:port`), probed over the app's own client. */
  server?: string;
  /** A Cluster: the startup nodes, and how the health probe opens a connection of its own to a server. */
  startupNodes: string[];
  makeProbeClient?: (host: string, port: number) => Redis;
}

/** ioredis is an optional peer dependency: only the Redis backend loads it. */
export function loadIoredis(): IoRedis {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ioredis') as IoRedis;
  } catch {
    throw new InvalidOptionError('backend', '"redis" needs the ioredis package: npm install ioredis');
  }
}

/**
 * Opens the backend's clients. There is no offline queue and no ioredis
 * command timeout (each call has a deadline of its own), and no replay of
 * calls in flight after a reconnect (a replayed delete could undo a later
 * write).
 */
export function openClients(ioredis: IoRedis, options: ResolvedRedisOptions): RedisClients {
  // No ioredis commandTimeout: the connection's deadlines replace it (they also cover a call waiting in an auto-pipeline).
  const common = {
    connectTimeout: options.connectTimeout,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
  };
  const reconnectDelay = (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY);
  if ('url' in options.target) {
    const client = new ioredis.Redis(options.target.url, { ...common, enableOfflineQueue: false, enableAutoPipelining: false, retryStrategy: reconnectDelay });
    const url = new URL(options.target.url);
    return { client, isCluster: false, address: redactedUrl(options.target.url), server: `${url.hostname}:${url.port || 6379}`, startupNodes: [] };
  }
  const startupNodes = options.target.cluster.map((n) => `${n.host}:${n.port}`);
  const client = new ioredis.Cluster(options.target.cluster, {
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    // No loop of redirections (16 × 100 ms by default) for a master that is gone: CLUSTERDOWN
    // fails at once, and "Connection is closed" (a master gone, or a node connection still
    // connecting) is retried at most 6 times 20 ms apart. Once the probe knows a master is gone,
    // calls to its slots are not even sent; the call's deadline bounds everything else.
    retryDelayOnFailover: FAILOVER_RETRY_DELAY,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: FAILOVER_RETRY_DELAY,
    maxRedirections: MAX_REDIRECTIONS,
    slotsRefreshTimeout: Math.min(options.commandTimeout, 1_000),
    clusterRetryStrategy: reconnectDelay,
    redisOptions: { ...common, username: options.username, password: options.password, tls: options.tls },
  });
  const makeProbeClient = (host: string, port: number): Redis =>
    new ioredis.Redis({
      host,
      port,
      username: options.username,
      password: options.password,
      tls: options.tls,
      ...common,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      retryStrategy: reconnectDelay,
    });
  // Node connections are made lazily by the first command, and refuse others while connecting: connect at once.
  client.on('+node', (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => undefined);
  });
  return { client, isCluster: true, address: `redis-cluster://${startupNodes.join(',')}`, startupNodes, makeProbeClient };
}

/** A Redis URL without its password. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'redis://(invalid url)';
  }
}
