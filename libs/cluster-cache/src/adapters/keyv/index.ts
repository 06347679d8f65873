/**
 * nest-cluster-cache/keyv: a Keyv storage adapter on the replicated cache,
 * the store of @nestjs/cache-manager (CacheModule, CacheInterceptor). A
 * separate entry point, so apps without Keyv never load it.
 */
export { KeyvCacheStore } from '../keyv.store';
export type { KeyvCacheStoreOptions } from '../keyv.store';
