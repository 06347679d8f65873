import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ClusterCacheOptions } from './options/cluster-cache-options.interface';

/** Extra `forRoot` options that shape the module rather than the cache. */
export interface ClusterCacheModuleExtras {
  /** Make the providers injectable everywhere without importing the module again. Default true. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  /** Injection token of the raw options passed to `forRoot`. @publicApi */
  MODULE_OPTIONS_TOKEN: CLUSTER_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClusterCacheOptions>({ moduleName: 'ClusterCache' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createClusterCacheOptions')
  .setExtras<ClusterCacheModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
