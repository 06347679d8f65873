/**
 * nest-cluster-cache/prometheus: the cache's state as Prometheus metrics on a
 * prom-client registry. A separate entry point, so apps without prom-client
 * (an optional peer dependency) never load it.
 */
export { ClusterCacheMetrics } from './cluster-cache.metrics';
