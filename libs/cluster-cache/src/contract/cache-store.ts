import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { CacheKey, KeyPattern, NormalKey } from '../store/key';

/** A value, or a promise of it: what a read returns on either backend. @publicApi */
export type Awaitable<T> = T | Promise<T>;

/** Options of a write. @publicApi */
export interface PutOptions {
  /** Time to live in milliseconds; defaults to the namespace's TTL. */
  ttl?: number;
  /** Absolute expiry in ms since the epoch, instead of `ttl` (e.g. `createdAt + ttl` of a record). */
  expiresAt?: number;
}

/** The changes of one atomic `write`. @publicApi */
export interface WriteChanges<V> {
  /** Entries to store; they share the write's expiry unless an entry brings its own options. */
  put?: ReadonlyArray<readonly [CacheKey, V] | readonly [CacheKey, V, PutOptions]>;
  /** Keys to delete. */
  delete?: readonly CacheKey[];
}

/** Options of a namespace view. @publicApi */
export interface NamespaceOptions {
  /** Default time to live of writes in this namespace, in milliseconds. */
  ttl?: number;
}

/**
 * The cache contract both backends keep (Pow's `Store.Base`): inject
 * `CacheStore` to write code that runs on the mesh and on Redis alike.
 *
 * Reads are `Awaitable`: the mesh's `ClusterCache` answers them synchronously
 * from memory, Redis with a promise; `await cache.get(key)` works on both.
 * Writes resolve once they are durable on the backend (every connected mesh
 * node, or Redis). `putMany`, `deleteMany` and `write` are atomic. Values
 * handed out are deeply frozen. Expired entries are never returned.
 *
 * @example
 * constructor(private readonly cache: CacheStore<Profile>) {}
 * await this.cache.put(['user', 42], profile, { ttl: 60_000 });
 * const profile = await this.cache.get(['user', 42]);
 * @publicApi
 */
export abstract class CacheStore<V = unknown> {
  /**
   * @internal Type-only: mentions V invariantly, so TypeScript infers a subclass's
   * `namespace<T>()` result as `CacheStore<T>` (reads alone would widen T).
   */
  declare protected readonly valueType?: (value: V) => V;
  /** The namespace this view reads and writes. */
  abstract readonly namespaceName: string;
  /** Default TTL (ms) of writes through this view, if any. */
  abstract readonly ttl: number | undefined;
  /** The name of the table behind this cache. */
  abstract readonly tableName: string;
  /** The value under `key`, or `undefined` if there is none or it expired. */
  abstract get(key: CacheKey): Awaitable<V | undefined>;
  /** When the entry under `key` expires (ms since the epoch), or `undefined` if there is none. */
  abstract expiresAt(key: CacheKey): Awaitable<number | undefined>;
  /** Every live entry whose key matches `pattern` (`ANY` matches one element), sorted by key. */
  abstract all(pattern: KeyPattern): Awaitable<Array<[NormalKey, V]>>;
  /** Stores `value` under `key` for `ttl` ms (or the namespace default). */
  put(key: CacheKey, value: V, options?: PutOptions): Promise<void> {
    return this.write({ put: [[key, value]] }, options);
  }

  /**
   * Stores several entries atomically, on every replica: all of them or, if
   * one key or value is invalid, none. They share one expiry time.
   */
  putMany(entries: ReadonlyArray<readonly [CacheKey, V]>, options?: PutOptions): Promise<void> {
    if (entries.length === 0) return Promise.reject(new InvalidArgumentError(messages.emptyBatch('putMany')));
    return this.write({ put: entries }, options);
  }

  /** Deletes `key` everywhere. Deleting a missing key is fine. */
  delete(key: CacheKey): Promise<void> {
    return this.write({ delete: [key] });
  }

  /** Deletes several keys atomically, on every replica. */
  deleteMany(keys: readonly CacheKey[]): Promise<void> {
    if (keys.length === 0) return Promise.reject(new InvalidArgumentError(messages.emptyBatch('deleteMany')));
    return this.write({ delete: keys });
  }

  /** Puts and deletes in one atomic write; the puts share one expiry time unless they bring their own. */
  abstract write(changes: WriteChanges<V>, options?: PutOptions): Promise<void>;
  /** The same API over another namespace of the same table; namespaces never see each other's keys. */
  abstract namespace<T = unknown>(name: string, options?: NamespaceOptions): CacheStore<T>;
  /** "Now" in ms since the epoch, as this cache's writes compute expiry times. */
  abstract clockNow(): number;
}
