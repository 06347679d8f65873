import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import type { ClusterService, ClusterStats } from '../cluster/cluster.service';
import type { ClusterEvent } from '../cluster/cluster-event';
import { ClusterCacheMetrics } from './index';

describe('ClusterCacheMetrics (nest-cluster-cache/prometheus)', () => {
  const stats: ClusterStats = {
    node: 'a@h',
    ready: true,
    peers: ['b@h'],
    entries: { sessions: 3, jobs: 1 },
    backlog: { 'b@h': 2 },
    lag: { 'b@h': 250 },
    unhealed: [],
    refused: {},
    heals: { healed: 0, failed: 0 },
  };
  const events = new Subject<ClusterEvent>();
  const cluster = { stats: () => stats, events$: events.asObservable() } as unknown as ClusterService;

  it('reads stats() at scrape time and counts events until closed', async () => {
    const registry = new Registry();
    const metrics = new ClusterCacheMetrics(cluster, registry);
    events.next({ type: 'nodeup', node: 'b@h', address: 'h:1' });
    const text = await registry.metrics();
    expect(text).toContain('cluster_cache_entries{table="sessions"} 3');
    expect(text).toContain('cluster_cache_peers 1');
    expect(text).toContain('cluster_cache_peer_up{peer="b@h"} 1');
    expect(text).toContain('cluster_cache_ready 1');
    expect(text).toContain('cluster_cache_backlog{peer="b@h"} 2');
    expect(text).toContain('cluster_cache_replication_lag_seconds{peer="b@h"} 0.25');
    expect(text).toContain('cluster_cache_events_total{type="nodeup"} 1');
    expect(text).toContain('cluster_cache_events_total{type="nodedown"} 0');
    metrics.close();
    events.next({ type: 'nodeup', node: 'b@h', address: 'h:1' });
    expect(await registry.metrics()).toContain('cluster_cache_events_total{type="nodeup"} 1');
  });

  it('takes a prefix', async () => {
    const registry = new Registry();
    new ClusterCacheMetrics(cluster, registry, 'sessions_').close();
    expect(await registry.metrics()).toContain('sessions_ready 1');
  });
});
