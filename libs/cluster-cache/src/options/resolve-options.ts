import { isIP } from 'node:net';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import { isAddress } from '../util/address';
import { DEFAULT_TABLE } from '../cluster-cache.constants';

export { isAddress };
import { validateDiscovery } from '../discovery/validate-discovery';
import { systemClock } from '../store/clock';
import type { Clock } from '../store/clock';
import type { WriteMode } from '../engine/cache-engine';
import { TRANSPORT_DEFAULTS } from '../transport/transport.constants';
import type { DiscoveryOptions } from '../discovery/discovery-options';
import type { ClusterCacheOptions, PersistenceOptions, RedisBackendOptions, TableOptions } from './cluster-cache-options.interface';

/** Defaults of every option that has one. */
export const DEFAULTS = {
  cluster: 'nest-cluster-cache',
  host: '127.0.0.1',
  port: 0,
  joinTimeout: 15_000,
  sessionTtl: 30 * 60_000,
  rotationGrace: 10_000,
  syncInterval: 30_000,
  heartbeatInterval: 250,
  deadPeerTimeout: 1_000,
  ackTimeout: 5_000,
  sweepInterval: 1_000,
  redisKeyPrefix: 'ncc:',
  redisCommandTimeout: 1_000,
  redisConnectTimeout: 2_000,
  maxUnauthenticated: TRANSPORT_DEFAULTS.maxUnauthenticated,
  maxUnauthenticatedPerAddress: TRANSPORT_DEFAULTS.maxUnauthenticatedPerAddress,
} as const;

/** The Redis backend's options after validation. */
export interface ResolvedRedisOptions {
  /** One server's URL, or the seed nodes of a Redis Cluster. */
  target: { url: string } | { cluster: Array<{ host: string; port: number }> };
  username: string | undefined;
  password: string | undefined;
  tls: RedisBackendOptions['tls'];
  keyPrefix: string;
  commandTimeout: number;
  connectTimeout: number;
}

/**
 * Options that only mean something to the mesh, refused with `backend: 'redis'`.
 * `clock` is not one: on Redis it gives the times the app reads (`createdAt`,
 * `expiresAt`, `clockNow`), while Redis counts TTLs by its own clock.
 */
const MESH_ONLY = ['cookie', 'cluster', 'discovery', 'extraNodes', 'minPeers', 'joinTimeout', 'autoInitialize', 'writes', 'persistence', 'unsplit', 'timing', 'tls', 'encryptFrames', 'connections'] as const;

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  backend: 'mesh' | 'redis';
  /** Set with `backend: 'redis'`. */
  redis: ResolvedRedisOptions | undefined;
  node: { name: string; host: string; port: number };
  cookie: string | undefined;
  cluster: string;
  discovery: DiscoveryOptions[];
  /** Addresses (a comma-separated string is split), or the function given. */
  extraNodes: string[] | (() => string[] | Promise<string[]>) | undefined;
  /** Linked peers needed before this node becomes ready. */
  minPeers: number;
  joinTimeout: number;
  autoInitialize: 'merge' | 'reset-younger';
  writes: WriteMode;
  ttl: number | undefined;
  sessionTtl: number;
  rotationGrace: number;
  persistence: Required<Omit<PersistenceOptions, 'tables'>> & { tables: string[] | undefined } | undefined;
  unsplit: { strategy: 'merge' | 'oldest-wins'; flushTables: false | string[] | 'all'; syncInterval: number } | undefined;
  timing: { heartbeatInterval: number; deadPeerTimeout: number; ackTimeout: number; sweepInterval: number };
  clock: Clock;
  tls: ClusterCacheOptions['tls'];
  encryptFrames: boolean;
  connections: { maxUnauthenticated: number; maxUnauthenticatedPerAddress: number };
}

const NODE_NAME = /^[A-Za-z0-9_.-]+@[A-Za-z0-9_.:-]+$/;

/**
 * Checks the module options and fills in defaults. Throws `InvalidOptionError`
 * naming the first bad option, so a misconfigured app fails at start.
 */
export function resolveOptions(options: ClusterCacheOptions | undefined): ResolvedOptions {
  const o = options ?? {};
  if (typeof o !== 'object') throw new InvalidOptionError('(root)', 'must be an object');

  const nameHost = typeof o.node?.name === 'string' ? o.node.name.split('@')[1] : undefined;
  const host = optionalString(o.node?.host, 'node.host') ?? nameHost ?? DEFAULTS.host;
  const name = optionalString(o.node?.name, 'node.name') ?? `nonode@${host}`;
  if (!NODE_NAME.test(name)) throw new InvalidOptionError('node.name', `must look like "name@host" (e.g. "a@127.0.0.1"), got "${name}"`);
  if (o.node?.host !== undefined && nameHost !== undefined && nameHost !== host && !isWildcard(host) && isIP(nameHost) !== 0) {
    throw new InvalidOptionError('node.name', `names host ${nameHost} but node.host is ${host}; a node must be reachable at the address in its name`);
  }
  const port = integer(o.node?.port, 'node.port', 0, 65535) ?? DEFAULTS.port;

  const cookie = cookieOption(o.cookie);
  const backend = oneOf(o.backend, 'backend', ['mesh', 'redis']) ?? 'mesh';
  const resolvedRedis = redis(o, backend);
  const seeds = extraNodes(o.extraNodes);
  const strategies = discovery(o.discovery, cookie === undefined ? undefined : port);
  const minPeers = integer(o.minPeers, 'minPeers', 0, 1_000) ?? 0;
  if (backend === 'mesh' && cookie === undefined) refuseClusterWithoutCookie(port, seeds, strategies, minPeers);
  return {
    backend,
    redis: resolvedRedis,
    node: { name, host, port },
    cookie,
    cluster: optionalString(o.cluster, 'cluster') ?? DEFAULTS.cluster,
    discovery: strategies,
    extraNodes: seeds,
    minPeers,
    joinTimeout: integer(o.joinTimeout, 'joinTimeout', 0) ?? DEFAULTS.joinTimeout,
    autoInitialize: oneOf(o.autoInitialize, 'autoInitialize', ['merge', 'reset-younger']) ?? 'merge',
    writes: oneOf(o.writes, 'writes', ['sync', 'async']) ?? 'sync',
    ttl: ttl(o.ttl, 'ttl'),
    sessionTtl: ttl(o.sessions?.ttl, 'sessions.ttl') ?? DEFAULTS.sessionTtl,
    rotationGrace: ttl(o.sessions?.rotationGrace, 'sessions.rotationGrace') ?? DEFAULTS.rotationGrace,
    persistence: persistence(o.persistence),
    unsplit: unsplit(o.unsplit),
    timing: timing(o.timing),
    clock: clock(o.clock),
    tls: tls(o.tls),
    encryptFrames: encryptFrames(o.encryptFrames, o.tls),
    connections: connections(o.connections),
  };
}

/** The timing options, with defaults, checked against each other. */
function timing(value: ClusterCacheOptions['timing']): ResolvedOptions['timing'] {
  const resolved = {
    heartbeatInterval: integer(value?.heartbeatInterval, 'timing.heartbeatInterval', 1) ?? DEFAULTS.heartbeatInterval,
    deadPeerTimeout: integer(value?.deadPeerTimeout, 'timing.deadPeerTimeout', 1) ?? DEFAULTS.deadPeerTimeout,
    ackTimeout: integer(value?.ackTimeout, 'timing.ackTimeout', 1) ?? DEFAULTS.ackTimeout,
    sweepInterval: integer(value?.sweepInterval, 'timing.sweepInterval', 1) ?? DEFAULTS.sweepInterval,
  };
  if (resolved.deadPeerTimeout <= resolved.heartbeatInterval) {
    throw new InvalidOptionError('timing.deadPeerTimeout', `must be longer than timing.heartbeatInterval (${resolved.heartbeatInterval} ms), or every idle peer looks dead`);
  }
  return resolved;
}

/** Checks the options of a `forFeature` table. */
export function resolveTableOptions(options: TableOptions): Required<Omit<TableOptions, 'ttl'>> & { ttl: number | undefined } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('forFeature', 'needs { name }');
  const name = optionalString(options.name, 'forFeature.name');
  if (name === undefined || name.length === 0) throw new InvalidOptionError('forFeature.name', 'is required');
  if (name === DEFAULT_TABLE) throw new InvalidOptionError('forFeature.name', `"${DEFAULT_TABLE}" is the default table (inject ClusterCache for it)`);
  return {
    name,
    mode: oneOf(options.mode, 'forFeature.mode', ['replicated', 'local']) ?? 'replicated',
    ttl: ttl(options.ttl, 'forFeature.ttl'),
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(option, `must be a string, got ${typeof value}`);
  return value;
}

function integer(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined;
  // Config often comes from environment variables: accept numeric strings.
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(option, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function ttl(value: unknown, option: string): number | undefined {
  return integer(value, option, 1);
}

function oneOf<T extends string>(value: unknown, option: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (!allowed.includes(value as T)) throw new InvalidOptionError(option, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/**
 * The `discovery` option: each strategy's options are checked by
 * `validateDiscovery` (unknown keys, ports, the gossip interface, the hosts
 * file's existence, DNS record types, custom strategies' methods), with
 * messages that say what to do. `nodePort` (set when the node clusters, i.e.
 * has a cookie) lets it check that this node can be found.
 */
function discovery(value: unknown, nodePort: number | undefined): DiscoveryOptions[] {
  return validateDiscovery(value, { nodePort });
}

/**
 * The cookie: a string of at least 16 characters that is not blank and has no
 * whitespace at either end (a copied newline or space would make this node's
 * cookie differ from the others', and every handshake fail).
 */
function cookieOption(value: unknown): string | undefined {
  const cookie = optionalString(value, 'cookie');
  if (cookie === undefined) return undefined;
  if (cookie.trim() === '') {
    throw new InvalidOptionError('cookie', `is ${cookie === '' ? 'empty' : 'only whitespace'}: set the cluster secret (at least 16 characters, the same on every node), or leave cookie unset to run the node alone`);
  }
  if (cookie.trim() !== cookie) {
    throw new InvalidOptionError('cookie', 'starts or ends with whitespace (a copied space or newline?): remove it, or nodes given the cookie without it refuse this one');
  }
  if (cookie.length < 16) throw new InvalidOptionError('cookie', 'must be at least 16 characters (it is the cluster secret)');
  return cookie;
}

/**
 * A mesh node without a cookie runs alone: no cluster port, no peers. Options
 * that only make sense in a cluster are refused then, naming what was given,
 * instead of leaving a node that runs alone while its users get 401s from the
 * other nodes (which never see its sessions).
 */
function refuseClusterWithoutCookie(port: number, seeds: ResolvedOptions['extraNodes'], strategies: DiscoveryOptions[], minPeers: number): void {
  const given: string[] = [];
  if (port !== 0) given.push(`node.port is ${port}`);
  if (typeof seeds === 'function') given.push('extraNodes is a function');
  else if (seeds !== undefined && seeds.length > 0) given.push(`extraNodes names ${seeds.join(', ')}`);
  if (strategies.length > 0) given.push(`discovery has ${strategies.length} strateg${strategies.length === 1 ? 'y' : 'ies'}`);
  if (minPeers > 0) given.push(`minPeers is ${minPeers}`);
  if (given.length === 0) return;
  throw new InvalidOptionError(
    'cookie',
    `is not set, but ${given.join(' and ')}: without a cookie this node runs alone (no cluster port, no peers), ` +
      'and sessions made on the other nodes would be unknown here. Give every node the same cookie (at least 16 characters), ' +
      'or remove node.port, extraNodes, discovery and minPeers to run it alone',
  );
}

/**
 * `extraNodes`: a list of `host:port` addresses, one comma-separated string of
 * them (an environment variable as it is), or a function returning a list. Entries
 * are trimmed and empty ones dropped; the first that is not an address is named.
 */
function extraNodes(value: unknown): ResolvedOptions['extraNodes'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'function') return value as () => string[] | Promise<string[]>;
  const entries: unknown[] = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  if (typeof value !== 'string' && !Array.isArray(value)) {
    throw new InvalidOptionError('extraNodes', `must be "host:port" addresses (a list, or one comma-separated string) or a function returning a list, got ${shown(value)}`);
  }
  const addresses: string[] = [];
  for (const entry of entries) {
    const address = typeof entry === 'string' ? entry.trim() : entry;
    if (address === '') continue;
    if (!isAddress(address)) {
      throw new InvalidOptionError('extraNodes', `has ${shown(entry)}, which is not a "host:port" address (e.g. "10.0.0.6:14000", "[::1]:14000")`);
    }
    addresses.push(address as string);
  }
  return addresses;
}

/** A value as an error message shows it: strings and numbers as JSON, other things by type. */
function shown(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a${typeof value === 'object' ? 'n' : ''} ${typeof value}`;
}


function persistence(value: ClusterCacheOptions['persistence']): ResolvedOptions['persistence'] {
  if (value === undefined || value === null) return undefined;
  const dir = optionalString(value.dir, 'persistence.dir');
  if (dir === undefined || dir === '') throw new InvalidOptionError('persistence.dir', 'is required when persistence is set');
  if (value.tables !== undefined && !(Array.isArray(value.tables) && value.tables.every((t) => typeof t === 'string'))) {
    throw new InvalidOptionError('persistence.tables', 'must be a list of table names');
  }
  if (value.fsync !== undefined && typeof value.fsync !== 'boolean') throw new InvalidOptionError('persistence.fsync', 'must be a boolean');
  return { dir, tables: value.tables, fsync: value.fsync ?? false };
}

function unsplit(value: ClusterCacheOptions['unsplit']): ResolvedOptions['unsplit'] {
  if (value === undefined || value === null) return undefined;
  const strategy = oneOf(value.strategy, 'unsplit.strategy', ['merge', 'oldest-wins']) ?? 'merge';
  const flush = value.flushTables ?? false;
  if (!(flush === false || flush === 'all' || (Array.isArray(flush) && flush.every((t) => typeof t === 'string')))) {
    throw new InvalidOptionError('unsplit.flushTables', 'must be false, "all" or a list of table names');
  }
  return { strategy, flushTables: flush, syncInterval: integer(value.syncInterval, 'unsplit.syncInterval', 0) ?? DEFAULTS.syncInterval };
}

function tls(value: ClusterCacheOptions['tls']): ClusterCacheOptions['tls'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new InvalidOptionError('tls', 'must be an object of Node tls options ({ key, cert, ca })');
  if (value.pfx === undefined) {
    for (const field of ['key', 'cert'] as const) {
      if (value[field] === undefined) throw new InvalidOptionError(`tls.${field}`, 'is required (or tls.pfx): every node presents a certificate');
    }
  }
  if (value.ca === undefined) throw new InvalidOptionError('tls.ca', 'is required: every node checks its peers against the CA');
  return value;
}

function encryptFrames(value: unknown, tlsOption: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'boolean') throw new InvalidOptionError('encryptFrames', 'must be a boolean');
  if (!value && (tlsOption === undefined || tlsOption === null)) {
    throw new InvalidOptionError('encryptFrames', 'can only be false with tls: without TLS, sessions would cross the network readable (frames are authenticated either way)');
  }
  return value;
}

function connections(value: ClusterCacheOptions['connections']): ResolvedOptions['connections'] {
  if (value === undefined || value === null) {
    return { maxUnauthenticated: DEFAULTS.maxUnauthenticated, maxUnauthenticatedPerAddress: DEFAULTS.maxUnauthenticatedPerAddress };
  }
  if (typeof value !== 'object') throw new InvalidOptionError('connections', 'must be an object ({ maxUnauthenticated, maxUnauthenticatedPerAddress })');
  const total = integer(value.maxUnauthenticated, 'connections.maxUnauthenticated', 1, 1_000_000) ?? DEFAULTS.maxUnauthenticated;
  const perAddress = integer(value.maxUnauthenticatedPerAddress, 'connections.maxUnauthenticatedPerAddress', 1, 1_000_000);
  if (perAddress !== undefined && perAddress > total) {
    throw new InvalidOptionError('connections.maxUnauthenticatedPerAddress', `must not be more than connections.maxUnauthenticated (${total})`);
  }
  return { maxUnauthenticated: total, maxUnauthenticatedPerAddress: perAddress ?? Math.min(DEFAULTS.maxUnauthenticatedPerAddress, total) };
}

/** The `redis` option, and no mesh option beside it (they would silently do nothing). */
function redis(o: ClusterCacheOptions, backend: 'mesh' | 'redis'): ResolvedRedisOptions | undefined {
  const value = o.redis;
  if (backend === 'mesh') {
    if (value !== undefined) throw new InvalidOptionError('redis', 'is only used with backend: "redis"');
    return undefined;
  }
  for (const option of MESH_ONLY) {
    if (o[option] !== undefined) {
      throw new InvalidOptionError(option, 'is a mesh option: with backend "redis" the data lives in Redis (its cluster, its disk, its expiry); remove it');
    }
  }
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('redis', 'is required with backend "redis": { url } or { cluster: ["host:port", …] }');
  const url = optionalString(value.url, 'redis.url');
  if ((url === undefined) === (value.cluster === undefined)) throw new InvalidOptionError('redis', 'needs exactly one of url (one server) and cluster (a Redis Cluster)');
  if (url !== undefined && !/^rediss?:\/\//.test(url)) throw new InvalidOptionError('redis.url', `must start with redis:// or rediss://, got "${url}"`);
  if (value.cluster !== undefined && !(Array.isArray(value.cluster) && value.cluster.length > 0 && value.cluster.every(isAddress))) {
    throw new InvalidOptionError('redis.cluster', 'must be a non-empty list of "host:port" addresses of Redis Cluster nodes');
  }
  const target = url !== undefined ? { url } : { cluster: value.cluster!.map(splitAddress) };
  return {
    target,
    username: optionalString(value.username, 'redis.username'),
    password: optionalString(value.password, 'redis.password'),
    tls: value.tls,
    keyPrefix: optionalString(value.keyPrefix, 'redis.keyPrefix') ?? DEFAULTS.redisKeyPrefix,
    commandTimeout: integer(value.commandTimeout, 'redis.commandTimeout', 1) ?? DEFAULTS.redisCommandTimeout,
    connectTimeout: integer(value.connectTimeout, 'redis.connectTimeout', 1) ?? DEFAULTS.redisConnectTimeout,
  };
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

function clock(value: unknown): Clock {
  if (value === undefined || value === null) return systemClock;
  if (typeof (value as Clock)?.now !== 'function') throw new InvalidOptionError('clock', 'must have a now() method returning ms');
  return value as Clock;
}
