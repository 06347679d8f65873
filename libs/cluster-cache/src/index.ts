/**
 * nest-cluster-cache: a replicated auth-session cache for NestJS clusters.
 * Only what is exported here is public API: the production API. Other entry
 * points, each loading only what it needs (see package.json `exports`):
 * `nest-cluster-cache/health` (@nestjs/terminus), `nest-cluster-cache/prometheus`
 * (prom-client), `nest-cluster-cache/testing` (test helpers), and one per
 * drop-in store.
 */
export { ClusterCacheModule } from './cluster-cache.module';
export { CLUSTER_CACHE_MODULE_OPTIONS } from './cluster-cache.module-definition';
export type { ClusterCacheModuleExtras } from './cluster-cache.module-definition';
export { getClusterCacheToken } from './cluster-cache.constants';
export { InjectClusterCache } from './decorators/inject-cluster-cache.decorator';
export { ClusterCache } from './cache/cluster-cache';
export { CacheStore } from './contract/cache-store';
export type { Awaitable, PutOptions, NamespaceOptions, WriteChanges } from './contract/cache-store';
export { SessionStore } from './contract/session-store';
export { RedisCache } from './redis/redis-cache';
export { RedisSessionCache } from './redis/redis-session-cache';
export { ClusterService } from './cluster/cluster.service';
export type { ClusterStats } from './cluster/cluster.service';
export type { BackendState, RedisBackendStats, RedisNodeStats } from './redis/redis-health';
export type { ClusterEvent, ClusterEventType, NodeDownReason } from './cluster/cluster-event';
export type { NodeInfo } from './transport/node-info';
export { UnsplitService } from './unsplit/unsplit.service';
export type { HealResult } from './unsplit/unsplit.service';
export { UnflushableTablesError } from './unsplit/oldest-wins-heal';
export { SessionCache } from './sessions/session-cache';
export { SessionRevokedError } from './sessions/session-revoked.error';
export type { Session, IssuedSession, RotationResult, SessionOptions, UserId } from './sessions/session.interface';
export { ANY } from './store/key';
export type { CacheKey, KeyPart, KeyPattern, PatternPart } from './store/key';
export { ManualClock, systemClock } from './store/clock';
export type { Clock } from './store/clock';
export type { TableMode } from './store/table';
export type { WriteMode } from './engine/cache-engine';
export type {
  ClusterCacheOptions,
  NodeOptions,
  PersistenceOptions,
  UnsplitOptions,
  SessionOptionsConfig,
  TimingOptions,
  ConnectionLimitOptions,
  TableOptions,
  RedisBackendOptions,
} from './options/cluster-cache-options.interface';
export { ClusterCacheError, InvalidOptionError, InvalidArgumentError, BackendUnavailableError } from './errors/cluster-cache.error';
export { PersistenceError } from './persistence/persistence.error';
export type { TransportTlsOptions } from './transport/transport-options.interface';
export type { TransportStats } from './transport/transport-stats.interface';
export { TransportError } from './transport/transport.error';
export type { TransportErrorCode } from './transport/transport.error';
export { MAX_KEY_BYTES } from './store/key';
export { MAX_VALUE_BYTES } from './cache/write-plan';
export * from './discovery';
// The auth kit (issue 16): SessionAuthModule, SessionAuthGuard, SessionAuthService, @Public(), @CurrentSession(), @CurrentUserId().
export * from './auth';
