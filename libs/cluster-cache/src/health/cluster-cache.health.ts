import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClusterService } from '../cluster/cluster.service';

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
 *   (`ready` is false: still joining, or refused by peers whose settings
 *   differ — the message says which), so a load balancer keeps it out;
 * - `degraded` (HTTP 200) with fewer peers than `minPeers`, a peer whose
 *   backlog of unacknowledged writes is above `maxBacklog`, or a netsplit
 *   not reconciled yet (not in sync);
 * - `up` otherwise.
 *
 * A lost peer never makes a node `down`: the survivors must keep serving.
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
      return check.down({ ...data, message: refused.length === 0 ? 'not ready: still joining the cluster' : `not ready: ${refused.join('; ')}` });
    }
    if (stats.peers.length < minPeers) return check.degraded({ ...data, message: `${stats.peers.length} of at least ${minPeers} peers linked` });
    if (lagging.length > 0) return check.degraded({ ...data, message: `peers behind by more than ${maxBacklog} writes: ${lagging.join(', ')}` });
    if (!data.inSync) return check.degraded({ ...data, message: `not in sync after a netsplit with ${stats.unhealed.join(', ')}` });
    return check.up(data);
  }
}
