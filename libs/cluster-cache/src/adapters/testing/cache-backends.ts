import { ClusterCache } from '../../cache/cluster-cache';
import { localCache } from '../../cache/testing/local-cache';
import { CacheStore } from '../../contract/cache-store';
import type { NamespaceOptions, PutOptions, WriteChanges } from '../../contract/cache-store';
import type { ManualClock } from '../../store/clock';
import type { CacheKey, KeyPattern, NormalKey } from '../../store/key';

/**
 * A `CacheStore` whose reads answer with promises, as `RedisCache`'s do: the
 * mesh cache underneath, one microtask later (a bad argument rejects instead
 * of throwing). The adapters' specs run on it and on the mesh's synchronous
 * reads; test/adapters runs them on a real Redis.
 */
export class PromiseReadsCache<V = unknown> extends CacheStore<V> {
  constructor(private readonly inner: ClusterCache<V>) {
    super();
  }

  get namespaceName(): string {
    return this.inner.namespaceName;
  }

  get ttl(): number | undefined {
    return this.inner.ttl;
  }

  get tableName(): string {
    return this.inner.tableName;
  }

  async get(key: CacheKey): Promise<V | undefined> {
    return this.inner.get(key);
  }

  async expiresAt(key: CacheKey): Promise<number | undefined> {
    return this.inner.expiresAt(key);
  }

  async all(pattern: KeyPattern): Promise<Array<[NormalKey, V]>> {
    return this.inner.all(pattern);
  }

  write(changes: WriteChanges<V>, options?: PutOptions): Promise<void> {
    return this.inner.write(changes, options);
  }

  namespace<T = unknown>(name: string, options?: NamespaceOptions): PromiseReadsCache<T> {
    return new PromiseReadsCache<T>(this.inner.namespace<T>(name, options));
  }

  clockNow(): number {
    return this.inner.clockNow();
  }
}

/** A cache to run an adapter on, with the clock its expiry follows. */
export interface CacheUnderTest {
  readonly cache: CacheStore;
  readonly clock: ManualClock;
}

/** The two kinds of reads an adapter must handle: synchronous values (mesh) and promises (Redis). */
export const CACHE_KINDS: Array<[string, (options?: { ttl?: number }) => CacheUnderTest]> = [
  ['mesh (synchronous reads)', (options = {}) => localCache(options)],
  [
    'promise reads (as on Redis)',
    (options = {}) => {
      const { cache, clock } = localCache(options);
      return { cache: new PromiseReadsCache(cache), clock };
    },
  ],
];
