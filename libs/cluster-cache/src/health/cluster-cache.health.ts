import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClusterService, type ClusterStats } from '../cluster/cluster.service';

/** Thresholds of {@link ClusterCacheHealthIndicator.isHealthy}. */
export interface ClusterCacheHealthOptions {
  /**
   * Fewer linked peers than this makes the node `degraded` (HTTP 200 still):
   * it serves, but writes are not replicated to the missing nodes. Default 0.
   */
  minPeers?: number;
  /**
   * More unacknowledged writes than this, to any one peer, makes the node
   * `degraded`: that peer lags behind. Default 1000.
   */
  maxBacklog?: number;
}

/**
 * A @nestjs/terminus health indicator for nest-cluster-cache (import it from
 * `nest-cluster-cache/health`; @nestjs/terminus is an optional peer).
 *
 * - `down` (HTTP 503) while the node does not hold the cluster's data yet
 *   (`ready` is false: still joining, waiting for `minPeers` peers, or
 *   refused by peers whose settings differ — the message says which), so a
 *   load balancer keeps it out;
 * - `degraded` (HTTP 200) while writes do not reach the disk copy (`disk: …`,
 *   a full or failing disk: the node serves from memory and rewrites the
 *   disk copy once the disk takes writes again), while damaged records found
 *   at start were not replaced by a copy from a peer, as a lone node (no peer
 *   linked although the module options name other nodes: `lone: true` in the
 *   details), with fewer peers than `minPeers`, a peer whose backlog of
 *   unacknowledged writes is above `maxBacklog`, or a netsplit not
 *   reconciled yet (not in sync);
 * - `up` otherwise.
 *
 * A lost peer never makes a node `down`: the survivors must keep serving.
 *
 * With `backend: 'redis'` it follows Redis as callers see it: `down` while no
 * call can succeed (Redis unreachable, not answering within
 * `redis.commandTimeout`, or a Cluster refusing calls with CLUSTERDOWN),
 * `degraded` while a Redis Cluster serves only some slots (the message names
 * the others and why), `up` otherwise; `minPeers` and `maxBacklog` do not apply.
 *
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.cache.isHealthy('cluster-cache', { minPeers: 1 })]); }
 * @publicApi
 */
@Injectable()
export class ClusterCacheHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly cluster: ClusterService,
  ) {}

  isHealthy<const Key extends string = 'cluster-cache'>(key: Key = 'cluster-cache' as Key, options: ClusterCacheHealthOptions = {}) {
    const check = this.indicators.check(key);
    const { minPeers = 0, maxBacklog = 1000 } = options;
    const stats = this.cluster.stats();
    const redis = stats.backend;
    if (redis !== undefined) {
      // Redis: what callers see of it (peers, backlogs and netsplits are the mesh's; minPeers does not apply).
      const data = { node: stats.node, ready: stats.ready, backend: redis.address, state: redis.state, clockSkew: redis.clockSkew, uncoveredSlots: redis.uncoveredSlots };
      if (redis.state === 'down') return check.down({ ...data, message: `Redis unavailable: ${redis.reason}` });
      if (redis.state === 'degraded') return check.degraded({ ...data, message: `Redis Cluster partly unavailable: ${redis.reason}` });
      return check.up(data);
    }
    const lagging = Object.entries(stats.backlog)
      .filter(([, writes]) => writes > maxBacklog)
      .map(([peer]) => peer);
    const data = {
      node: stats.node,
      ready: stats.ready,
      peers: stats.peers,
      backlog: Object.values(stats.backlog).reduce((sum, n) => sum + n, 0),
      entries: Object.values(stats.entries).reduce((sum, n) => sum + n, 0),
      inSync: stats.unhealed.length === 0,
    };
    if (!stats.ready) {
      const refused = Object.values(stats.refused);
      const waiting = stats.expectedPeers !== undefined && stats.peers.length < stats.expectedPeers.minPeers;
      const message =
        refused.length > 0
          ? `not ready: ${refused.join('; ')}`
          : waiting
            ? `not ready: waiting for at least ${stats.expectedPeers!.minPeers} peer(s) (minPeers), ${stats.peers.length} linked`
            : 'not ready: still joining the cluster';
      return check.down({ ...data, message });
    }
    const disk = diskProblem(stats.disk);
    if (disk !== undefined) return check.degraded({ ...data, message: disk });
    if (stats.peers.length === 0 && stats.expectedPeers?.configured === true) {
      return check.degraded({
        ...data,
        lone: true,
        message: 'lone node: no peer linked, though the options name other nodes (extraNodes, discovery or minPeers); sessions made here reach no other node until one links (see the log for why)',
      });
    }
    if (stats.peers.length < minPeers) return check.degraded({ ...data, message: `${stats.peers.length} of at least ${minPeers} peers linked` });
    if (lagging.length > 0) return check.degraded({ ...data, message: `peers behind by more than ${maxBacklog} writes: ${lagging.join(', ')}` });
    if (!data.inSync) return check.degraded({ ...data, message: `not in sync after a netsplit with ${stats.unhealed.join(', ')}` });
    return check.up(data);
  }
}

/** What is wrong with the disk copy, for the health message, or undefined. */
function diskProblem(disk: ClusterStats['disk']): string | undefined {
  if (disk === undefined) return undefined;
  if (!disk.writing) {
    const behind = disk.behind.length === 0 ? '' : `; the disk copy of ${disk.behind.join(', ')} misses writes and is rewritten from memory once the disk takes writes again`;
    return `disk: writes to ${disk.file} fail: ${disk.failure ?? 'see the log'}${behind}`;
  }
  if (disk.unrepaired > 0) {
    return `disk: ${disk.unrepaired} damaged record(s) in ${disk.file} were skipped at start and no peer's copy has replaced them yet (see the log)`;
  }
  return undefined;
}
