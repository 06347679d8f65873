import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CacheEngine } from './engine/cache-engine';
import { InvalidOptionError } from './errors/cluster-cache.error';
import { DEFAULT_TABLE, RESOLVED_OPTIONS } from './cluster-cache.constants';
import type { ResolvedOptions } from './options/resolve-options';
import { LmdbPersistenceDirectory } from './persistence/lmdb.persistence';
import type { PersistenceDirectory } from './persistence/table-persistence.interface';
import { createDiscovery } from './discovery/create-discovery';
import { RedisTable, redisTable } from './redis/redis-cache';
import { RedisConnection } from './redis/redis-connection';
import { ClusterNode } from './replication/cluster-node';
import { Store } from './store/store';
import type { Table, TableMode } from './store/table';
import { createNodeInfo, NodeInfo } from './transport/node-info';
import { TcpTransport } from './transport/tcp.transport';

/** How often seeds that did not answer are tried again, in ms. */
const RECONNECT_INTERVAL = 2_000;
/** How long start waits for dynamic discovery (gossip, DNS …) to report nodes, in ms. */
const DISCOVERY_GRACE = 1_500;

/**
 * Owns this node's cache for the lifetime of the Nest app: the store and
 * engine, the disk copy, and — when a cookie is set — the cluster node; or,
 * with `backend: 'redis'`, the Redis connection.
 *
 * Init opens the data directory, listens for cluster traffic and joins (or
 * starts) the cluster, waiting up to `joinTimeout`. Shutdown tells the peers
 * this node leaves, then closes sockets, timers and files.
 */
@Injectable()
export class ClusterCacheRuntime implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly store: Store;
  readonly engine: CacheEngine;
  /** The cluster node; undefined when no cookie is set (the node runs alone) or with the Redis backend. */
  readonly node: ClusterNode | undefined;
  /** The Redis connection, with `backend: 'redis'`. */
  readonly redis: RedisConnection | undefined;
  /** The cluster port's transport; undefined when the node runs alone or on Redis. */
  readonly transport: TcpTransport | undefined;
  /** Logs carry the node name, so the logs of several nodes in one process stay apart. */
  private readonly logger: Logger;
  private readonly identity: NodeInfo;
  private persistence: PersistenceDirectory | undefined;
  private readonly redisTables = new Map<string, RedisTable>();

  constructor(@Inject(RESOLVED_OPTIONS) readonly options: ResolvedOptions) {
    this.logger = new Logger(`ClusterCache ${options.node.name}`);
    this.store = new Store(options.node.name, options.clock);
    this.engine = new CacheEngine(this.store, { writes: options.writes, sweepInterval: options.timing.sweepInterval, logger: this.logger });
    this.store.addTable(DEFAULT_TABLE, 'replicated');
    this.identity = createNodeInfo(options.node.name, options.node.host, options.node.port);
    // The store and engine stay: they hold the app's `local` tables, whichever the backend.
    this.redis = options.redis === undefined ? undefined : new RedisConnection(options.redis, this.logger, options.clock);
    if (options.cookie !== undefined) {
      const transport = new TcpTransport(this.identity, {
        cluster: options.cluster,
        cookie: options.cookie,
        heartbeatInterval: options.timing.heartbeatInterval,
        deadPeerTimeout: options.timing.deadPeerTimeout,
        tls: options.tls,
        encryptFrames: options.encryptFrames,
        ...options.connections,
        logger: this.logger,
      });
      this.transport = transport;
      this.node = new ClusterNode(
        transport,
        this.engine,
        {
          joinTimeout: options.joinTimeout,
          autoInitialize: options.autoInitialize,
          ackTimeout: options.timing.ackTimeout,
          seeds: () => this.seeds(),
          reconnectInterval: RECONNECT_INTERVAL,
          discovery: createDiscovery(options.discovery),
          discoveryGrace: options.discovery.some((d) => d.strategy !== 'static') ? DISCOVERY_GRACE : 0,
          cookie: options.cookie,
          cluster: options.cluster,
          keepLocalOnJoin: options.unsplit?.strategy === 'merge',
          unsplit: options.unsplit?.strategy ?? 'off',
          minPeers: options.minPeers,
        },
        this.logger,
      );
    }
  }

  /** This node's identity. */
  get self(): NodeInfo {
    return this.node?.self ?? this.identity;
  }

  /** The table named `name`, made on first use (by `forFeature`); the same name must keep the same mode. */
  table(name: string, mode: TableMode = 'replicated'): Table {
    const table = this.store.table(name) ?? this.store.addTable(name, mode);
    if (table.mode !== mode) throw new InvalidOptionError('forFeature.mode', `table "${name}" is already declared as ${table.mode}, not ${mode}`);
    return table;
  }

  /** The Redis side of a table (backend `redis` only). */
  redisTable(name: string): RedisTable {
    let table = this.redisTables.get(name);
    if (table === undefined) {
      table = redisTable(this.redis!, name, this.options.redis!.keyPrefix, this.options.clock);
      this.redisTables.set(name, table);
    }
    return table;
  }

  async onModuleInit(): Promise<void> {
    await this.openPersistence();
    if (this.redis !== undefined) {
      await this.redis.start(this.options.redis!.connectTimeout);
    } else if (this.node !== undefined) {
      await this.node.start();
    } else {
      const loaded = await this.engine.loadPersisted();
      if (this.persistence !== undefined) this.logger.log(`${this.self.name} runs alone with ${loaded} entries from ${this.persistence.dir}`);
    }
    this.engine.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.node?.stop();
    await this.redis?.close();
  }

  async onApplicationShutdown(): Promise<void> {
    this.engine.stop();
    await this.persistence?.close();
    this.persistence = undefined;
  }

  private async openPersistence(): Promise<void> {
    const options = this.options.persistence;
    if (options === undefined) return;
    const directory = await LmdbPersistenceDirectory.open(options.dir, this.logger, { fsync: options.fsync });
    this.persistence = directory;
    const tables = this.store.allTables();
    const unknown = options.tables?.filter((name) => !tables.some((t) => t.name === name)) ?? [];
    if (unknown.length > 0) throw new InvalidOptionError('persistence.tables', `names tables that do not exist: ${JSON.stringify(unknown)}`);
    // Default: every replicated table. A list may also name local tables (e.g. a job queue kept across restarts).
    for (const table of tables) {
      const persisted = options.tables === undefined ? table.mode === 'replicated' : options.tables.includes(table.name);
      if (persisted) this.engine.persist(table, await directory.table(table.name));
    }
  }

  /**
   * Whether the options name other nodes (`extraNodes`, `discovery`) or ask
   * for peers (`minPeers`): a ready node with none linked is then alone
   * against its configuration.
   */
  get peersConfigured(): boolean {
    const { extraNodes, discovery, minPeers } = this.options;
    return typeof extraNodes === 'function' || (extraNodes?.length ?? 0) > 0 || discovery.length > 0 || minPeers > 0;
  }

  /** `extraNodes` (Pow's `extra_db_nodes`): a list, or a function evaluated each time it is needed. */
  private async seeds(): Promise<string[]> {
    const extra = this.options.extraNodes;
    return typeof extra === 'function' ? await extra() : (extra ?? []);
  }
}
