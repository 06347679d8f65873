import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { CacheStore } from '../contract/cache-store';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ANY } from '../store/key';
import type { NormalKey } from '../store/key';

/** Options of {@link KeyvCacheStore}. @publicApi */
export interface KeyvCacheStoreOptions {
  /** The cache namespace the entries live in (default `keyv`). */
  namespace?: string;
  /**
   * TTL (ms) of a `set` that brings none. Keyv and cache-manager keep such an
   * entry forever; the cache keeps nothing forever, so it takes this TTL, else
   * the TTL of the cache given (the module's `ttl` option for the injected
   * `CacheStore`), else the `set` fails (Keyv emits the error and answers
   * `false`; cache-manager's `CacheInterceptor` then just serves uncached).
   */
  ttl?: number;
}

/** A stored key: the Keyv namespace its key starts with (`''` if none) and the rest. */
type StoredKey = readonly [string, string];

/** How many keys `clear` deletes per atomic write. */
const CLEAR_BATCH = 500;

/**
 * A Keyv storage adapter on the replicated cache: the store of
 * `@nestjs/cache-manager` (cache-manager 6+ keeps its data in Keyv stores),
 * so that `CacheModule`, `CacheInterceptor` and an injected `Cache` read and
 * write one cache shared by every app node, on the mesh or on Redis.
 *
 * TTLs are in milliseconds, as Keyv's and cache-manager's (`CacheModule`'s
 * `ttl`, `@CacheTTL(ms)`, `cache.set(key, value, ms)`). Entries live in the
 * cache namespace `keyv` (option `namespace`), each key under the Keyv
 * namespace it starts with (`keyv:` for `new Keyv(store)`; none with
 * `CacheModule`), so `clear()` deletes that Keyv namespace's entries only,
 * by an index walk. Values are whatever Keyv hands over: by default its JSON
 * string of `{ value, expires }`. A key is at most `MAX_KEY_BYTES` (1024)
 * bytes; a longer one fails (Keyv emits the error).
 *
 * @example
 * CacheModule.registerAsync({
 *   isGlobal: true,
 *   inject: [CacheStore],
 *   useFactory: (cache: CacheStore) => ({ stores: [new KeyvCacheStore(cache)], ttl: 60_000 }),
 * });
 * @publicApi
 */
export class KeyvCacheStore extends EventEmitter implements KeyvStoreAdapter {
  /** The namespace view the entries are stored in. */
  readonly cache: CacheStore;
  /** What Keyv reads of an adapter's options; no `dialect` Keyv knows, so Keyv makes no iterator of its own from `iterator`. */
  readonly opts: { ttl: number | undefined; namespace: string; dialect: string; url: string };
  /** The Keyv namespace: set by the Keyv instance this store is given to. */
  namespace?: string;
  private readonly ttl: number | undefined;

  constructor(cache: CacheStore, options: KeyvCacheStoreOptions = {}) {
    super();
    if (typeof (cache as Partial<CacheStore> | undefined)?.namespace !== 'function') {
      throw new InvalidArgumentError(`KeyvCacheStore needs a CacheStore: new KeyvCacheStore(cache) with the injected CacheStore, got ${String(cache)}`);
    }
    const namespace = options.namespace ?? 'keyv';
    this.ttl = options.ttl ?? cache.ttl;
    // The namespace's TTL: how long a delete's tombstone is kept at least (netsplit heals on the mesh).
    this.cache = cache.namespace(namespace, { ttl: this.ttl });
    this.opts = { ttl: this.ttl, namespace, dialect: 'nest-cluster-cache', url: '' };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return (await this.cache.get(storedKey(key))) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }

  /** Stores `value` for `ttl` ms (the default TTL without one); a negative `ttl` deletes. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expiry = this.ttlOf(key, ttl);
    if (expiry <= 0) await this.cache.delete(storedKey(key));
    else await this.cache.put(storedKey(key), value, { ttl: expiry });
    return true;
  }

  /**
   * Stores every entry in one atomic write. Resolves to one `true` per entry:
   * Keyv's adapter type says `void`, but `Keyv.setMany` answers what this
   * resolves to.
   */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    if (entries.length === 0) return [] as never;
    const put: Array<readonly [StoredKey, unknown, { ttl: number }]> = [];
    const remove: StoredKey[] = [];
    for (const { key, value, ttl } of entries) {
      const expiry = this.ttlOf(key, ttl);
      if (expiry <= 0) remove.push(storedKey(key));
      else put.push([storedKey(key), value, { ttl: expiry }]);
    }
    await this.cache.write({ put, delete: remove });
    return entries.map(() => true) as never;
  }

  /** Deletes `key` everywhere; resolves to whether it was there. */
  async delete(key: string): Promise<boolean> {
    const stored = storedKey(key);
    const existed = (await this.cache.expiresAt(stored)) !== undefined;
    await this.cache.delete(stored);
    return existed;
  }

  /** Deletes the keys in one atomic write; resolves to whether any was there. */
  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    const stored = keys.map(storedKey);
    const existed = await Promise.all(stored.map(async (key) => (await this.cache.expiresAt(key)) !== undefined));
    await this.cache.deleteMany(stored);
    return existed.includes(true);
  }

  async has(key: string): Promise<boolean> {
    return (await this.cache.expiresAt(storedKey(key))) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  /**
   * Deletes the entries of this store's Keyv namespace (set by Keyv), or of
   * every Keyv namespace when it has none, in atomic batches.
   */
  async clear(): Promise<void> {
    const keys = (await this.cache.all(this.namespace ? [this.namespace, ANY] : [ANY, ANY])).map(([key]) => key);
    for (let i = 0; i < keys.length; i += CLEAR_BATCH) await this.cache.deleteMany(keys.slice(i, i + CLEAR_BATCH));
  }

  /** The entries of a Keyv namespace (every one without), as `[key, value]`, keys as Keyv gave them. */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    for (const [key, value] of await this.cache.all(namespace ? [namespace, ANY] : [ANY, ANY])) {
      const keyvKey = keyvKeyOf(key);
      if (keyvKey !== undefined) yield [keyvKey, value as Awaited<Value>];
    }
  }

  /** Nothing to close: the cache belongs to `ClusterCacheModule`, which closes it with the app. */
  async disconnect(): Promise<void> {}

  /** The TTL of a write: `ttl` if given (Keyv gives none for "forever"), else the default. */
  private ttlOf(key: string, ttl: number | undefined): number {
    if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl !== 0) return Math.ceil(ttl);
    if (this.ttl !== undefined) return this.ttl;
    throw new InvalidArgumentError(
      `KeyvCacheStore: no TTL for key ${JSON.stringify(key)}: the cache keeps nothing forever; pass a ttl (ms) to set(), ` +
        'give CacheModule a ttl, or give one to new KeyvCacheStore(cache, { ttl })',
    );
  }
}

/**
 * Where a Keyv key is stored: `'ns:rest'` (a colon after at least one
 * character) under `['ns', 'rest']`, any other key under `['', key]`. One
 * to one, so that `keyvKeyOf` gives the key back, and `clear` of a Keyv
 * namespace is a walk of `[ns, ANY]`.
 */
function storedKey(key: string): StoredKey {
  if (typeof key !== 'string') throw new InvalidArgumentError(`KeyvCacheStore: a key must be a string, got ${typeof key}`);
  const colon = key.indexOf(':');
  return colon > 0 ? [key.slice(0, colon), key.slice(colon + 1)] : ['', key];
}

function keyvKeyOf(key: NormalKey): string | undefined {
  if (typeof key !== 'object' || key.length !== 2) return undefined;
  const [namespace, rest] = key;
  if (typeof namespace !== 'string' || typeof rest !== 'string') return undefined;
  return namespace === '' ? rest : `${namespace}:${rest}`;
}
