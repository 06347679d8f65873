/**
 * nest-cluster-cache/health: the @nestjs/terminus health indicator. A separate
 * entry point, so apps without @nestjs/terminus never load it.
 */
export { ClusterCacheHealthIndicator } from './cluster-cache.health';
export type { ClusterCacheHealthOptions } from './cluster-cache.health';
