import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ClusterCache } from './cache/cluster-cache';
import { ClusterService } from './cluster/cluster.service';
import { UnsplitService } from './unsplit/unsplit.service';
import { getClusterCacheToken, RESOLVED_OPTIONS, DEFAULT_NAMESPACE, DEFAULT_TABLE, SESSION_NAMESPACE } from './cluster-cache.constants';
import { CLUSTER_CACHE_MODULE_OPTIONS, ConfigurableModuleClass } from './cluster-cache.module-definition';
import { ClusterCacheRuntime } from './cluster-cache.runtime';
import type { ClusterCacheOptions, TableOptions } from './options/cluster-cache-options.interface';
import { resolveOptions, resolveTableOptions } from './options/resolve-options';
import { LocalSessionLock } from './sessions/session-lock.interface';
import { SessionCache } from './sessions/session-cache';

const providers: Provider[] = [
  { provide: RESOLVED_OPTIONS, useFactory: (options: ClusterCacheOptions) => resolveOptions(options), inject: [CLUSTER_CACHE_MODULE_OPTIONS] },
  ClusterCacheRuntime,
  ClusterService,
  UnsplitService,
  {
    provide: ClusterCache,
    useFactory: (runtime: ClusterCacheRuntime) =>
      new ClusterCache(runtime.engine, runtime.table(DEFAULT_TABLE), DEFAULT_NAMESPACE, runtime.options.ttl),
    inject: [ClusterCacheRuntime],
  },
  { provide: getClusterCacheToken(DEFAULT_TABLE), useExisting: ClusterCache },
  {
    provide: SessionCache,
    useFactory: (cache: ClusterCache, runtime: ClusterCacheRuntime) =>
      // Rotation is single-flight across the cluster when there is one.
      new SessionCache(cache.namespace(SESSION_NAMESPACE), runtime.node?.lock ?? new LocalSessionLock(), runtime.options.sessionTtl, runtime.options.rotationGrace),
    inject: [ClusterCache, ClusterCacheRuntime],
  },
];

/**
 * The replicated cache for a Nest app. `forRoot` / `forRootAsync` set up this
 * node (global by default); `forFeature` adds tables.
 *
 * @example
 * ClusterCacheModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     node: { name: config.get('NODE_NAME'), port: config.get('CLUSTER_PORT') },
 *     cookie: config.get('CLUSTER_COOKIE'),
 *   }),
 * });
 * @publicApi
 */
@Module({
  providers,
  exports: [ClusterCache, SessionCache, ClusterService, UnsplitService, ClusterCacheRuntime, getClusterCacheToken(DEFAULT_TABLE)],
})
export class ClusterCacheModule extends ConfigurableModuleClass {
  /**
   * Adds tables besides the default `sessions` one. Each is injected with
   * `@InjectClusterCache(name)`. A `local` table stays on this node: never
   * replicated, never flushed by a heal (the place for a job queue).
   */
  static forFeature(...tables: TableOptions[]): DynamicModule {
    const features = tables.map(resolveTableOptions);
    const tableProviders: Provider[] = features.map((table) => ({
      provide: getClusterCacheToken(table.name),
      useFactory: (runtime: ClusterCacheRuntime) =>
        new ClusterCache(runtime.engine, runtime.table(table.name, table.mode), DEFAULT_NAMESPACE, table.ttl),
      inject: [ClusterCacheRuntime],
    }));
    return { module: ClusterCacheFeatureModule, providers: tableProviders, exports: tableProviders };
  }
}

/**
 * The module `forFeature` returns: the tables' caches only. The node itself
 * comes from `forRoot` (global by default).
 */
@Module({})
export class ClusterCacheFeatureModule {}
