import { HealthIndicatorService } from '@nestjs/terminus';
import type { ClusterService, ClusterStats } from '../cluster/cluster.service';
import { ClusterCacheHealthIndicator } from '../health/cluster-cache.health';
import type { RedisBackendStats } from './redis-health';

/** The indicator's report for a Redis app node whose backend is in `backend`. */
function report(backend: Partial<RedisBackendStats>, options = {}) {
  const stats: ClusterStats = {
    node: 'app@h',
    ready: backend.state !== 'down',
    peers: [],
    entries: {},
    backlog: {},
    lag: {},
    unhealed: [],
    refused: {},
    heals: { healed: 0, failed: 0 },
    backend: { backend: 'redis', address: 'redis://10.0.0.5:6379', state: 'up', clockSkew: 3, servers: [], ...backend },
  };
  const cluster = { stats: () => stats } as unknown as ClusterService;
  return new ClusterCacheHealthIndicator(new HealthIndicatorService(), cluster).isHealthy('cluster-cache', options)['cluster-cache'] as Record<string, unknown>;
}

describe('ClusterCacheHealthIndicator on the Redis backend', () => {
  it('is up while Redis serves, whatever minPeers says (app nodes have no peers on Redis)', () => {
    expect(report({}, { minPeers: 1 })).toMatchObject({ status: 'up', backend: 'redis://10.0.0.5:6379', state: 'up', clockSkew: 3 });
  });

  it('is down, saying why, while Redis serves nothing (not "still joining the cluster")', () => {
    expect(report({ state: 'down', reason: 'no answer within 1000 ms' })).toMatchObject({ status: 'down', message: 'Redis unavailable: no answer within 1000 ms' });
  });

  it('is degraded with the slot ranges a Redis Cluster does not serve', () => {
    const uncoveredSlots = { count: 5462, ranges: ['0-5461'] };
    expect(report({ state: 'degraded', reason: '5462 of 16384 slots not served (0-5461): 10.0.0.5:7000 unreachable', uncoveredSlots })).toMatchObject({
      status: 'degraded',
      uncoveredSlots,
      message: 'Redis Cluster partly unavailable: 5462 of 16384 slots not served (0-5461): 10.0.0.5:7000 unreachable',
    });
  });
});
