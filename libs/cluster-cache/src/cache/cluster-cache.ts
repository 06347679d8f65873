import { RestingState } from '../store/compact/resting-state';
import { CacheStore } from '../contract/cache-store';
import type { NamespaceOptions, PutOptions, WriteChanges } from '../contract/cache-store';
import type { CacheEngine } from '../engine/cache-engine';
import type { Clock } from '../store/clock';
import { EntryState, isTombstone } from '../store/entry';
import type { CacheKey, KeyPart, KeyPattern, NormalKey } from '../store/key';
import type { NamespaceObserver } from '../store/namespace-observer';
import type { NamespaceStore } from '../store/namespace-store';
import type { Table } from '../store/table';
import type { WriteOp } from '../store/write-op';
import { releaseEncoding } from '../values/held-encodings';
import { readValue } from '../values/leaves';
import { checkedKey, checkedPattern, checkedTtl, expiryOf, plannedPut, planWrite, releasePlanned } from './write-plan';

/** How long a tombstone of a key this node never had is kept, when the namespace has no TTL. */
const ORPHAN_TOMBSTONE_MS = 60_000;

/**
 * A key-value cache over one namespace of one table, replicated to every node
 * of the cluster when the table is (Pow's `Store.Base`).
 *
 * The mesh backend's `CacheStore`. Reads are local and synchronous; writes
 * resolve when every connected node has applied them (`writes: 'sync'`, the default). Values are checked and
 * copied on the way in (values/value-copy.ts: deeply frozen, a Uint8Array or
 * Date handed out as a fresh copy on every read), so a value handed out
 * cannot change behind the cache's back, and every node holds the same value.
 * Expired entries are never returned, even before they are swept.
 *
 * @example
 * await cache.put(['user', 42], { name: 'Ada' }, { ttl: 60_000 });
 * cache.get(['user', 42]); // { name: 'Ada' }
 * cache.all(['user', ANY]); // [[['user', 42], { name: 'Ada' }]]
 * @publicApi
 */
export class ClusterCache<V = unknown> extends CacheStore<V> {
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
    super();
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
    if (typeof key === 'object') return readValue(this.valueOf(this.store.current(checkedKey(key)), this.clock.now()));
    const now = this.clock.now();
    // Surely live (see LiveValues): no need to load the state.
    const fast = this.store.live.get(key, now);
    if (fast !== undefined) return fast as V;
    const state = this.store.scalar(key);
    const value = this.valueOf(state, now);
    if (value === undefined) return undefined;
    const read = readValue(value);
    // Read once, read again: the next read of the key takes the fast path (not a Uint8Array or Date, copied on every read).
    // Not on the first read of an entry at rest: most are read once, and waking it costs enough.
    if (read === value && !(state instanceof RestingState)) this.store.live.fill(key, state!, now);
    return read;
  }

  private valueOf(state: EntryState | undefined, now: number): V | undefined {
    // A tombstone's value is undefined: no separate check (one field less to load).
    return state === undefined || state.expiresAt <= now ? undefined : (state.value as V | undefined);
  }

  /**
   * @internal The live state under a scalar key: value and expiry from one
   * lookup (what `SessionCache` reads on every guarded request).
   */
  liveState(key: KeyPart): EntryState | undefined {
    const state = this.store.scalar(key);
    return state === undefined || state.value === undefined || state.expiresAt <= this.clock.now() ? undefined : state;
  }

  /** When the entry under `key` expires (ms since the epoch), or `undefined` if there is none. */
  expiresAt(key: CacheKey): number | undefined {
    const state = this.store.current(checkedKey(key));
    if (state === undefined || isTombstone(state) || state.expiresAt <= this.clock.now()) return undefined;
    return state.expiresAt;
  }

  /** Stores `value` under `key` for `ttl` ms (or the namespace default): `write` without building a plan. */
  override put(key: CacheKey, value: V, options?: PutOptions): Promise<void> {
    try {
      const now = this.clock.now();
      const put = plannedPut(key, value, expiryOf(options, { namespace: this.namespaceName, ttl: this.ttl, now }));
      try {
        return this.engine.write(this.table, [{ ns: this.namespaceName, key: put.key, value: put.value, expiresAt: put.expiresAt }]);
      } finally {
        // The disk copy and the replication took the value's encoding, if the put held one.
        releaseEncoding(put.value);
      }
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Puts and deletes in one atomic write (all or nothing, on every replica);
   * the puts share one expiry time. Used for moves such as a session rotation.
   */
  write(changes: WriteChanges<V>, options?: PutOptions): Promise<void> {
    try {
      const now = this.clock.now();
      const { puts, deletes } = planWrite(changes, options, { namespace: this.namespaceName, ttl: this.ttl, now });
      const ns = this.namespaceName;
      const ops: WriteOp[] = puts.map(({ key, value, expiresAt }) => ({ ns, key, value, expiresAt }));
      const keepUntil = now + (this.ttl ?? ORPHAN_TOMBSTONE_MS);
      for (const key of deletes) ops.push({ ns, key, delete: true, keepUntil });
      try {
        return this.engine.write(this.table, ops);
      } finally {
        releasePlanned(puts);
      }
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
    return this.table.match(this.namespaceName, checkedPattern(pattern)).map((s: EntryState) => [s.key, readValue(s.value as V)]);
  }

  /**
   * The same API over another namespace of the same table. Namespaces never
   * see each other's keys.
   */
  namespace<T = unknown>(name: string, options: NamespaceOptions = {}): ClusterCache<T> {
    if (options.ttl !== undefined) checkedTtl(options.ttl, name, undefined);
    return new ClusterCache<T>(this.engine, this.table, name, options.ttl);
  }

  /**
   * @internal Keeps `observer` in step with this namespace's states (see
   * `NamespaceObserver`): for structures derived locally from them.
   * @returns the way to stop.
   */
  observe(observer: NamespaceObserver): () => void {
    return this.store.observe(observer);
  }
}
