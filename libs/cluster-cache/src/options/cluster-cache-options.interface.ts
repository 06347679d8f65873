import type { ConnectionOptions } from 'node:tls';
import type { TableMode } from '../store/table';
import type { Clock } from '../store/clock';
import type { WriteMode } from '../engine/cache-engine';
import type { TransportTlsOptions } from '../transport/transport-options.interface';
import type { DiscoveryOptions } from '../discovery/discovery-options';

/** This node's identity and where it listens for cluster traffic. @publicApi */
export interface NodeOptions {
  /** Node name `name@host`, e.g. `a@127.0.0.1`; unique in the cluster. Default `nonode@<host>`. */
  name?: string;
  /** Address to listen on for cluster traffic. Default: the host part of `name`, else `127.0.0.1`. */
  host?: string;
  /** TCP port for cluster traffic (0 picks a free one). Default 0. */
  port?: number;
}

/** The disk copy of replicated tables (Mnesia `disc_copies`). @publicApi */
export interface PersistenceOptions {
  /** Data directory of this node (one process per directory). */
  dir: string;
  /** Replicated tables to keep on disk. Default: every replicated table. */
  tables?: string[];
  /** Also fsync each write batch (survives power loss, slower). Default false: survives a process crash. */
  fsync?: boolean;
}

/** Netsplit healing (see the Unsplit guide). @publicApi */
export interface UnsplitOptions {
  /** `merge` (default): per-key merge, deletes win; `oldest-wins`: Pow's flush-and-reload. */
  strategy?: 'merge' | 'oldest-wins';
  /** With `oldest-wins`: tables besides the cache's own that may be flushed. Default false. */
  flushTables?: false | string[] | 'all';
  /**
   * With `merge`: every this many ms, compare digests with one random peer and
   * exchange what differs, so data that escaped a heal (a node that restarted
   * at the wrong moment) converges anyway. 0 turns it off. Default 30000.
   */
  syncInterval?: number;
}

/** `SessionCache` settings. @publicApi */
export interface SessionOptionsConfig {
  /** Session TTL in ms. Default 30 minutes. */
  ttl?: number;
  /** How long a rotated token still resolves to its session, in ms (concurrent requests, tabs). Default 10 s. */
  rotationGrace?: number;
}

/**
 * Limits on connections to the cluster port that have not authenticated yet
 * (docs/operations.md, "Security"). More are closed at once, counted in
 * `ClusterService.stats().connections` and logged at most once per 10 s.
 * @publicApi
 */
export interface ConnectionLimitOptions {
  /** At most this many at once, from every address together. Default 128. */
  maxUnauthenticated?: number;
  /** At most this many at once from one address; at most `maxUnauthenticated`. Default 16. */
  maxUnauthenticatedPerAddress?: number;
}

/** Timing of the cluster protocol, in ms. @publicApi */
export interface TimingOptions {
  /** Heartbeat period of idle links. Default 250. */
  heartbeatInterval?: number;
  /**
   * A peer silent for this long is considered dead; sync writes waiting for it
   * resolve then (at most this plus one heartbeat). Default 1000. A stall of
   * this process (GC, a busy loop) costs one heartbeat, not a false alarm.
   */
  deadPeerTimeout?: number;
  /** A peer that has not acknowledged a sync write in this time is disconnected. Default 5000. */
  ackTimeout?: number;
  /** Period of the sweep of expired entries. Default 1000. */
  sweepInterval?: number;
}

/**
 * Where the Redis backend keeps the data (docs/backends.md): one server
 * (`url`) or a Redis Cluster (`cluster`). Calls fail with
 * `BackendUnavailableError` (within `commandTimeout`, at once while Redis is
 * known to be away) while Redis cannot serve them, and work again when it is
 * back.
 * @publicApi
 */
export interface RedisBackendOptions {
  /** One server: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  url?: string;
  /** A Redis Cluster: some of its nodes as `host:port`; the client finds the others. */
  cluster?: string[];
  /** Redis ACL user of the Cluster nodes (for `url`, put it in the URL). */
  username?: string;
  /** Password of the Cluster nodes (for `url`, put it in the URL). */
  password?: string;
  /** TLS for the Cluster nodes (Node's tls options); for one server use `rediss://`. */
  tls?: ConnectionOptions;
  /** Prefix of every Redis key this library writes, so several apps can share a Redis. Default `ncc:`. */
  keyPrefix?: string;
  /**
   * Every call fails (`BackendUnavailableError`) within this many ms of its
   * start if Redis has not answered, whatever is queued ahead of it; a server
   * that leaves the health probe's `TIME` unanswered this long counts as down
   * (calls to it then fail at once). Default 1000.
   */
  commandTimeout?: number;
  /** How long a connection attempt may take, in ms. Default 2000. */
  connectTimeout?: number;
}

/**
 * Options of `ClusterCacheModule.forRoot` / `forRootAsync`. Everything is
 * optional: with no `cookie` the node runs alone (no cluster), and then
 * `node.port`, `extraNodes`, `discovery` and `minPeers` are refused (they
 * would suggest a cluster that never forms).
 * @publicApi
 */
export interface ClusterCacheOptions {
  /**
   * Where the data lives: `mesh` (default) — in every app node's memory,
   * replicated between them; `redis` — in Redis or a Redis Cluster, for
   * clusters past the mesh's size (see docs/backends.md). With `redis`,
   * inject `CacheStore` and `SessionStore`, and leave the mesh's options
   * (cookie, discovery, persistence, unsplit …) unset.
   */
  backend?: 'mesh' | 'redis';
  /** The Redis backend's connection; required with `backend: 'redis'`. */
  redis?: RedisBackendOptions;
  node?: NodeOptions;
  /**
   * Shared secret of the cluster, at least 16 characters, the same on every
   * node; no cookie, no cluster. Never sent over the wire.
   */
  cookie?: string;
  /** Name of the cluster; nodes of another cluster are refused. Default `nest-cluster-cache`. */
  cluster?: string;
  /** How nodes find each other; several strategies may run together. */
  discovery?: DiscoveryOptions[];
  /**
   * Nodes to join at start and keep reaching (Pow's `extra_db_nodes`):
   * `host:port` addresses, as a list or one comma-separated string (such as an
   * environment variable: entries are trimmed, empty ones dropped), or a
   * function evaluated when needed. Needs a `cookie`.
   */
  extraNodes?: string | string[] | (() => string[] | Promise<string[]>);
  /**
   * Linked peers this node needs before it becomes ready (holds the cluster's
   * data and reports `ready`): it does not start a cluster of its own while
   * fewer answer, and its health is `down` meanwhile. Once ready it stays
   * ready whatever happens to its peers (the survivors must keep serving).
   * Needs a `cookie`. Default 0: a node that finds no one starts the cluster.
   */
  minPeers?: number;
  /** How long app start waits to join a running cluster, in ms. Default 15000. */
  joinTimeout?: number;
  /** When two clusters that never met find each other: `merge` (default) or Pow's `reset-younger`. */
  autoInitialize?: 'merge' | 'reset-younger';
  /** `sync` (default): writes resolve once applied on every connected node; `async`: after the local apply. */
  writes?: WriteMode;
  /** Default TTL (ms) of `ClusterCache` writes in the `cache` namespace. */
  ttl?: number;
  sessions?: SessionOptionsConfig;
  persistence?: PersistenceOptions;
  unsplit?: UnsplitOptions;
  timing?: TimingOptions;
  /**
   * TLS for cluster traffic, with mutual certificates: each node presents
   * `cert`/`key` and checks its peers' against `ca` (Node's tls options). The
   * cookie handshake still runs inside TLS. Default: plain TCP.
   */
  tls?: TransportTlsOptions;
  /**
   * Encrypt cluster frames after the handshake (ChaCha20-Poly1305, keys of each
   * connection). Every frame is authenticated either way. `false` is only
   * allowed with `tls`, which encrypts already. Default true.
   */
  encryptFrames?: boolean;
  /** Limits on connections to the cluster port still authenticating. */
  connections?: ConnectionLimitOptions;
  /**
   * Clock used for expiry and versions (tests). Default: the system clock.
   * With `backend: 'redis'` it gives the times the app reads and sends as
   * TTLs (`expiresAt` − now); Redis counts TTLs by its own clock.
   */
  clock?: Clock;
}

/** A table added with `ClusterCacheModule.forFeature`. @publicApi */
export interface TableOptions {
  /** Table name; also the injection token suffix. */
  name: string;
  /** `replicated` (default): on every node; `local`: this node only, never replicated nor flushed by a heal. */
  mode?: TableMode;
  /** Default TTL (ms) of writes to the table's `cache` namespace. */
  ttl?: number;
}
