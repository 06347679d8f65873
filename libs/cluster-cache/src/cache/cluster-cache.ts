import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { CacheEngine } from '../engine/cache-engine';
import type { Clock } from '../store/clock';
import type { EntryState } from '../store/entry';
import { CacheKey, KeyPattern, keyProblem, NormalKey, normalizeKey, patternParts, patternProblem } from '../store/key';
import type { NamespaceStore } from '../store/namespace-store';
import type { Table } from '../store/table';
import type { WriteOp } from '../store/write-op';
import { frozenCopy } from '../util/frozen-copy';

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

/** How long a tombstone of a key this node never had is kept, when the namespace has no TTL. */
const ORPHAN_TOMBSTONE_MS = 60_000;

/**
 * A key-value cache over one namespace of one table, replicated to every node
 * of the cluster when the table is (Pow's `Store.Base`).
 *
 * Reads are local and synchronous; writes resolve when every connected node has
 * applied them (`writes: 'sync'`, the default). Values are copied and deeply
 * frozen on the way in, so a value handed out cannot change behind the cache's
 * back. Expired entries are never returned, even before they are swept.
 *
 * @example
 * await cache.put(['user', 42], { name: 'Ada' }, { ttl: 60_000 });
 * cache.get(['user', 42]); // { name: 'Ada' }
 * cache.all(['user', ANY]); // [[['user', 42], { name: 'Ada' }]]
 * @publicApi
 */
export class ClusterCache<V = unknown> {
  private readonly store: NamespaceStore;
  private readonly clock: Clock;

  /** @internal Made by the module; inject `ClusterCache` or use `namespace()`. */
  constructor(
    private readonly engine: CacheEngine,
    private readonly table: Table,
    /** The namespace this view reads and writes. */
    readonly namespaceName: string,
    /** Default TTL (ms) of writes through this view, if any. */
    readonly ttl: number | undefined,
  ) {
    this.store = table.namespace(namespaceName);
    this.clock = engine.store.clock;
  }

  /** The cache's clock reading (ms since the epoch): "now" as expiry sees it. */
  clockNow(): number {
    return this.clock.now();
  }

  /** The name of the table behind this cache. */
  get tableName(): string {
    return this.table.name;
  }

  /** The value under `key`, or `undefined` if there is none or it expired. */
  get(key: CacheKey): V | undefined {
    const state = typeof key === 'object' ? this.store.current(this.key(key)) : this.store.scalars.get(key);
    if (state === undefined || state.deleted || state.expiresAt <= this.clock.now()) return undefined;
    return state.value as V;
  }

  /** When the entry under `key` expires (ms since the epoch), or `undefined` if there is none. */
  expiresAt(key: CacheKey): number | undefined {
    const state = this.store.current(this.key(key));
    if (state === undefined || state.deleted || state.expiresAt <= this.clock.now()) return undefined;
    return state.expiresAt;
  }

  /** Stores `value` under `key` for `ttl` ms (or the namespace default). */
  put(key: CacheKey, value: V, options?: PutOptions): Promise<void> {
    return this.putMany([[key, value]], options);
  }

  /**
   * Stores several entries atomically, on this node and every replica: all of
   * them or, if one key or value is invalid, none. They share one expiry time.
   */
  putMany(entries: ReadonlyArray<readonly [CacheKey, V]>, options?: PutOptions): Promise<void> {
    if (entries.length === 0) return Promise.reject(new InvalidArgumentError(messages.emptyBatch('putMany')));
    return this.write({ put: entries }, options);
  }

  /** Deletes `key` everywhere. Deleting a missing key is fine. */
  delete(key: CacheKey): Promise<void> {
    return this.deleteMany([key]);
  }

  /** Deletes several keys atomically, on this node and every replica. */
  deleteMany(keys: readonly CacheKey[]): Promise<void> {
    if (keys.length === 0) return Promise.reject(new InvalidArgumentError(messages.emptyBatch('deleteMany')));
    return this.write({ delete: keys });
  }

  /**
   * Puts and deletes in one atomic write (all or nothing, on every replica);
   * the puts share one expiry time. Used for moves such as a session rotation.
   */
  write(changes: WriteChanges<V>, options?: PutOptions): Promise<void> {
    try {
      const now = this.clock.now();
      const ops: WriteOp[] = [];
      let shared: number | undefined;
      for (const [key, value, own] of changes.put ?? []) {
        const expiresAt = own === undefined ? (shared ??= this.expiry(now, options)) : this.expiry(now, own);
        ops.push({ ns: this.namespaceName, key: this.key(key), value: this.freeze(key, value), expiresAt });
      }
      const keepUntil = now + (this.ttl ?? ORPHAN_TOMBSTONE_MS);
      for (const key of changes.delete ?? []) ops.push({ ns: this.namespaceName, key: this.key(key), delete: true, keepUntil });
      if (ops.length === 0) throw new InvalidArgumentError(messages.emptyBatch('write'));
      return this.engine.write(this.table, ops);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Every live entry whose key matches `pattern`, sorted by key. `ANY` matches
   * exactly one key element: `all(['user', ANY])` finds `['user', 1]` but not
   * `['user', 1, 'x']`, and `all(ANY)` finds every scalar key. A pattern with
   * fixed leading elements walks an index instead of scanning the namespace.
   */
  all(pattern: KeyPattern): Array<[NormalKey, V]> {
    const problem = patternProblem(pattern);
    if (problem !== undefined) throw new InvalidArgumentError(messages.badPattern(problem, pattern));
    return this.table.match(this.namespaceName, patternParts(pattern)).map((s: EntryState) => [s.key, s.value as V]);
  }

  /**
   * The same API over another namespace of the same table. Namespaces never
   * see each other's keys.
   */
  namespace<T = unknown>(name: string, options: NamespaceOptions = {}): ClusterCache<T> {
    if (options.ttl !== undefined) this.resolveTtl(options.ttl);
    return new ClusterCache<T>(this.engine, this.table, name, options.ttl);
  }

  private key(key: CacheKey): NormalKey {
    const problem = keyProblem(key);
    if (problem !== undefined) throw new InvalidArgumentError(messages.badKey(problem, key));
    return normalizeKey(key);
  }

  /** When a put with these options expires (ms since the epoch). */
  private expiry(now: number, options: PutOptions | undefined): number {
    const expiresAt = options?.expiresAt ?? now + this.resolveTtl(options?.ttl);
    if (!(expiresAt > now) || !Number.isFinite(expiresAt)) throw new InvalidArgumentError(messages.badExpiresAt(expiresAt));
    return expiresAt;
  }

  private resolveTtl(ttl: number | undefined): number {
    const resolved = ttl ?? this.ttl;
    if (resolved === undefined) throw new InvalidArgumentError(messages.noTtl(this.namespaceName));
    if (typeof resolved !== 'number' || !(resolved > 0) || !Number.isFinite(resolved)) {
      throw new InvalidArgumentError(messages.badTtl(resolved));
    }
    return resolved;
  }

  private freeze(key: CacheKey, value: V): V {
    if (value === undefined) throw new InvalidArgumentError(messages.undefinedValue(key));
    try {
      return frozenCopy(value);
    } catch (error) {
      throw new InvalidArgumentError(messages.unclonableValue(key, (error as Error).message));
    }
  }
}
