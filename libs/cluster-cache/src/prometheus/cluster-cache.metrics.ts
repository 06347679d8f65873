import { Counter, Gauge, type Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { ClusterService } from '../cluster/cluster.service';

/**
 * Publishes nest-cluster-cache's state as Prometheus metrics on a prom-client
 * registry, built only on the public `ClusterService` (stats(), events$).
 * Import it from `nest-cluster-cache/prometheus` (prom-client is an optional
 * peer dependency: only this entry point loads it).
 * Gauges are read from `stats()` at scrape time; events are counted as they
 * happen (subscribe before the cache starts to count this node's `joined`).
 *
 * | metric                               | type    | labels | from                      |
 * |--------------------------------------|---------|--------|---------------------------|
 * | cluster_cache_entries                | gauge   | table  | stats().entries           |
 * | cluster_cache_peers                  | gauge   |        | stats().peers.length      |
 * | cluster_cache_peer_up                | gauge   | peer   | stats().peers             |
 * | cluster_cache_ready                  | gauge   |        | stats().ready (1/0)       |
 * | cluster_cache_backlog                | gauge   | peer   | stats().backlog           |
 * | cluster_cache_replication_lag_seconds| gauge   | peer   | stats().lag               |
 * | cluster_cache_unhealed_splits        | gauge   |        | stats().unhealed.length   |
 * | cluster_cache_events_total           | counter | type   | events$                   |
 *
 * @example
 * const registry = new Registry();
 * const metrics = new ClusterCacheMetrics(app.get(ClusterService), registry);
 * // GET /metrics: registry.metrics(); on shutdown: metrics.close()
 * @publicApi
 */
export class ClusterCacheMetrics {
  private readonly subscription: Subscription;

  constructor(cluster: ClusterService, registry: Registry, prefix = 'cluster_cache_') {
    const registers = [registry];
    new Gauge({
      name: `${prefix}entries`,
      help: 'Entries per table on this node (tombstones and unswept expired entries included).',
      labelNames: ['table'],
      registers,
      collect() {
        this.reset();
        for (const [table, entries] of Object.entries(cluster.stats().entries)) this.set({ table }, entries);
      },
    });
    new Gauge({
      name: `${prefix}peers`,
      help: 'Nodes linked to this one right now.',
      registers,
      collect() {
        this.set(cluster.stats().peers.length);
      },
    });
    new Gauge({
      name: `${prefix}peer_up`,
      help: 'One per peer linked to this node right now.',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const peer of cluster.stats().peers) this.set({ peer }, 1);
      },
    });
    new Gauge({
      name: `${prefix}ready`,
      help: '1 when this node holds the cluster data (joined or started the cluster), else 0.',
      registers,
      collect() {
        this.set(cluster.stats().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}backlog`,
      help: 'Writes sent to a peer and not acknowledged yet (replication lag in writes).',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, writes] of Object.entries(cluster.stats().backlog)) this.set({ peer }, writes);
      },
    });
    new Gauge({
      name: `${prefix}replication_lag_seconds`,
      help: 'Per peer: time from sending the newest acknowledged write to its acknowledgement.',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, ms] of Object.entries(cluster.stats().lag)) this.set({ peer }, ms / 1000);
      },
    });
    new Gauge({
      name: `${prefix}unhealed_splits`,
      help: 'Peers seen again after a netsplit whose data is not reconciled yet.',
      registers,
      collect() {
        this.set(cluster.stats().unhealed.length);
      },
    });
    const events = new Counter({
      name: `${prefix}events_total`,
      help: 'Cluster events seen by this node, by type (nodeup, nodedown, joined, inconsistent_database, healed, ...).',
      labelNames: ['type'],
      registers,
    });
    for (const type of ['nodeup', 'nodedown', 'joined']) events.inc({ type }, 0);
    this.subscription = cluster.events$.subscribe((event) => events.inc({ type: event.type }));
  }

  /** Stops counting events. */
  close(): void {
    this.subscription.unsubscribe();
  }
}
