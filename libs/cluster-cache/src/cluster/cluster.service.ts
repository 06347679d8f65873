import { Injectable } from '@nestjs/common';
import { EMPTY, Observable } from 'rxjs';
import { ClusterCacheRuntime } from '../cluster-cache.runtime';
import type { DiskStatus } from '../engine/disk-copy';
import type { RedisBackendStats } from '../redis/redis-health';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { ClusterEvent } from './cluster-event';
import { tableDigest } from '../replication/digest';
import type { NodeInfo } from '../transport/node-info';
import type { TransportStats } from '../transport/transport-stats.interface';

/** A snapshot of this node's cluster state, for health checks and metrics. @publicApi */
export interface ClusterStats {
  /** This node's name. */
  node: string;
  /** Whether this node holds the cluster's data. */
  ready: boolean;
  /** Names of the linked peers. */
  peers: string[];
  /** Entries per table, tombstones and unswept expired ones included. */
  entries: Record<string, number>;
  /** Writes sent to each peer and not yet acknowledged. */
  backlog: Record<string, number>;
  /** Replication lag per peer in ms: from sending the newest acknowledged write to its acknowledgement. */
  lag: Record<string, number>;
  /** Peers seen again after a netsplit whose data is not reconciled yet. */
  unhealed: string[];
  /** Peers this node refused to share data with, and why (a table or the Unsplit strategy differs). */
  refused: Record<string, string>;
  /** Heals this node took part in since start, and failed heals. */
  heals: { healed: number; failed: number };
  /**
   * The disk copy (with `persistence`): whether writes reach the disk, why
   * not, which tables missed writes, and damaged records found at load.
   */
  disk?: DiskStatus;
  /**
   * With `backend: 'redis'`: whether Redis serves (`up`, `degraded` — some
   * Redis Cluster slots not served, which ones — or `down`, and why), and the
   * measured skew between the app's clock and Redis's.
   */
  backend?: RedisBackendStats;
  /**
   * With a cluster port (a cookie, on the mesh): connections still
   * authenticating, connections refused and why (connection limits,
   * handshakes), links closed for forged frames.
   */
  connections?: TransportStats;
  /**
   * With a cluster port: the peers this node needs before it becomes ready
   * (the `minPeers` option), and whether its options name other nodes
   * (`extraNodes`, `discovery`) or ask for peers — a ready node with none
   * linked is then a lone node (the health indicator says so).
   */
  expectedPeers?: { minPeers: number; configured: boolean };
}

/**
 * This node's view of the cluster: who is there, what happens (`events$`),
 * and manual `connect` / `disconnect` (Pow's `extra_db_nodes`, at run time).
 * @publicApi
 */
@Injectable()
export class ClusterService {
  private readonly heals = { healed: 0, failed: 0 };

  constructor(private readonly runtime: ClusterCacheRuntime) {
    runtime.node?.events$.subscribe((event) => {
      if (event.type === 'healed') this.heals.healed++;
      if (event.type === 'heal_failed') this.heals.failed++;
    });
  }

  /**
   * Cluster events: `nodeup`, `nodedown`, `joined`, `inconsistent_database`,
   * `healed`, `heal_failed`, `clusters_merged` on the mesh; `backend_down` and
   * `backend_up` on the Redis backend as `ready` changes (Redis, or on a Redis
   * Cluster every slot, stops or starts serving). Completes on
   * shutdown. A mesh node without a cookie runs alone and emits nothing.
   */
  get events$(): Observable<ClusterEvent> {
    return this.runtime.node?.events$ ?? this.runtime.redis?.events$ ?? EMPTY;
  }

  /** This node's identity (name, cluster address, incarnation, start time). */
  self(): NodeInfo {
    return this.runtime.self;
  }

  /** The other nodes linked to this one right now. */
  nodes(): NodeInfo[] {
    return this.runtime.node?.peers() ?? [];
  }

  /**
   * Whether this node holds the cluster's data (joined, or started the
   * cluster); on Redis, whether Redis serves calls (on a Redis Cluster: at
   * least some slots; `stats().backend` says which are not served).
   */
  get ready(): boolean {
    return this.runtime.node?.ready ?? this.runtime.redis?.ready ?? true;
  }

  /** Links to the node listening at `host:port`; resolves with its identity once authenticated. */
  connect(address: string): Promise<NodeInfo> {
    const node = this.runtime.node;
    if (node === undefined) return Promise.reject(new ClusterCacheError(this.runtime.redis === undefined ? messages.noCluster() : messages.noClusterOnRedis()));
    return node.connect(address);
  }

  /** Drops the link to a node by name; false if there was none. */
  disconnect(name: string): boolean {
    return this.runtime.node?.disconnect(name) ?? false;
  }

  /**
   * A digest of each replicated table's live content: equal digests on two
   * nodes mean equal data (same keys, values, expiries). For checks after a heal.
   */
  digest(): Record<string, string> {
    const now = this.runtime.store.clock.now();
    return Object.fromEntries(
      this.runtime.store
        .allTables()
        .filter((t) => t.mode === 'replicated')
        .map((t) => [t.name, tableDigest(t, now)]),
    );
  }

  /** Counters for health checks and metrics. */
  stats(): ClusterStats {
    const node = this.runtime.node;
    return {
      node: this.runtime.self.name,
      ready: this.ready,
      peers: this.nodes().map((n) => n.name),
      entries: Object.fromEntries(this.runtime.store.allTables().map((t) => [t.name, t.size])),
      backlog: node?.backlog() ?? {},
      lag: node?.lag() ?? {},
      unhealed: node?.unhealed() ?? [],
      refused: node?.refused() ?? {},
      heals: { ...this.heals },
      ...this.diskStats(),
      ...(this.runtime.redis === undefined ? {} : { backend: this.runtime.redis.stats() }),
      ...(this.runtime.transport === undefined ? {} : { connections: this.runtime.transport.stats() }),
      ...(node === undefined ? {} : { expectedPeers: { minPeers: node.minPeers, configured: this.runtime.peersConfigured } }),
    };
  }

  private diskStats(): { disk?: DiskStatus } {
    const disk = this.runtime.engine.diskStatus();
    return disk === undefined ? {} : { disk };
  }
}
