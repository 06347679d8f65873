import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ClusterCache } from './cache/cluster-cache';
import { ClusterService } from './cluster/cluster.service';
import { CacheStore } from './contract/cache-store';
import { SessionStore } from './contract/session-store';
import { InvalidOptionError } from './errors/cluster-cache.error';
import { messages } from './errors/messages';
import { RedisCache } from './redis/redis-cache';
import { SessionKeys } from './redis/redis-keys';
import { RedisSessionCache } from './redis/redis-session-cache';
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
      runtime.redis !== undefined
        ? meshOnly(ClusterCache, 'CacheStore')
        : new ClusterCache(runtime.engine, runtime.table(DEFAULT_TABLE), DEFAULT_NAMESPACE, runtime.options.ttl),
    inject: [ClusterCacheRuntime],
  },
  {
    provide: SessionCache,
    useFactory: (cache: ClusterCache, runtime: ClusterCacheRuntime) =>
      runtime.redis !== undefined
        ? meshOnly(SessionCache, 'SessionStore')
        : // Rotation is single-flight across the cluster when there is one.
          new SessionCache(cache.namespace(SESSION_NAMESPACE), runtime.node?.lock ?? new LocalSessionLock(), runtime.options.sessionTtl, runtime.options.rotationGrace),
    inject: [ClusterCache, ClusterCacheRuntime],
  },
  {
    provide: CacheStore,
    useFactory: (runtime: ClusterCacheRuntime, mesh: ClusterCache) =>
      runtime.redis !== undefined ? new RedisCache(runtime.redisTable(DEFAULT_TABLE), DEFAULT_NAMESPACE, runtime.options.ttl) : mesh,
    inject: [ClusterCacheRuntime, ClusterCache],
  },
  {
    provide: SessionStore,
    useFactory: (runtime: ClusterCacheRuntime, mesh: SessionCache) =>
      runtime.redis !== undefined
        ? new RedisSessionCache(runtime.redis, new SessionKeys(runtime.options.redis!.keyPrefix, DEFAULT_TABLE, SESSION_NAMESPACE), runtime.options.clock, runtime.options.sessionTtl, runtime.options.rotationGrace)
        : mesh,
    inject: [ClusterCacheRuntime, SessionCache],
  },
  { provide: getClusterCacheToken(DEFAULT_TABLE), useExisting: CacheStore },
];

/**
 * What a mesh-only provider is with the Redis backend: anything that uses it
 * fails with a message saying what to inject instead. (Providers are fixed
 * before `forRootAsync` options are known, so they cannot just be left out.)
 */
function meshOnly<T extends object>(api: abstract new (...args: never[]) => T, instead: string): T {
  const members = new Set<string | symbol>();
  for (let proto = api.prototype; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') members.add(name);
  }
  return new Proxy({} as T, {
    // Only the API throws: Nest inspects every provider (constructor, lifecycle hooks) at start.
    get(_, property) {
      if (members.has(property)) throw new InvalidOptionError('backend', messages.meshOnly(api.name, instead));
      return undefined;
    },
  });
}

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
  exports: [ClusterCache, SessionCache, CacheStore, SessionStore, ClusterService, UnsplitService, ClusterCacheRuntime, getClusterCacheToken(DEFAULT_TABLE)],
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
      // A local table stays in this process's memory whichever the backend.
      useFactory: (runtime: ClusterCacheRuntime) =>
        runtime.redis !== undefined && table.mode === 'replicated'
          ? new RedisCache(runtime.redisTable(table.name), DEFAULT_NAMESPACE, table.ttl)
          : new ClusterCache(runtime.engine, runtime.table(table.name, table.mode), DEFAULT_NAMESPACE, table.ttl),
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
