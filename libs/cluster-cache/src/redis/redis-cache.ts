import { CacheStore } from '../contract/cache-store';
import type { NamespaceOptions, PutOptions, WriteChanges } from '../contract/cache-store';
import { checkedKey, checkedPattern, checkedTtl, planWrite, releasePlanned } from '../cache/write-plan';
import { decodeKeyElements } from '../codec/key-codec';
import type { Clock } from '../store/clock';
import { ANY, compareKeys, KeyPart } from '../store/key';
import type { CacheKey, KeyPattern, NormalKey } from '../store/key';
import { ALL, WRITE } from './cache-scripts';
import { NamespaceSweeper } from './namespace-sweeper';
import type { RedisConnection, ScriptCall } from './redis-connection';
import { NamespaceKeys } from './redis-keys';
import { packValue, unpackValue } from './redis-values';

/** A table's scripts and settings, shared by its namespace views. */
export interface RedisTable {
  readonly connection: RedisConnection;
  readonly name: string;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly writeScript: ScriptCall;
  readonly allScript: ScriptCall;
  readonly sweeper: NamespaceSweeper;
}

/** One sweeper of namespace indexes per connection, shared by its tables. */
const sweepers = new WeakMap<RedisConnection, NamespaceSweeper>();

/** The scripts of a table over a connection. */
export function redisTable(connection: RedisConnection, name: string, keyPrefix: string, clock: Clock): RedisTable {
  let sweeper = sweepers.get(connection);
  if (sweeper === undefined) sweepers.set(connection, (sweeper = new NamespaceSweeper(connection)));
  return {
    connection,
    name,
    keyPrefix,
    clock,
    writeScript: connection.script('nccWrite', WRITE),
    allScript: connection.script('nccAll', ALL, true),
    sweeper,
  };
}

/**
 * The Redis backend's `CacheStore`: one namespace of one table, in Redis.
 *
 * Entries expire by Redis TTL, counted by Redis's clock: a write sends its
 * TTL (`PX`), never an absolute time of the app's clock. A read is one `GET`;
 * `putMany`, `deleteMany` and `write` are one Lua script each (atomic); `all`
 * walks a per-namespace key index, never the keyspace, and the index is
 * swept of expired keys without waiting for writes (`NamespaceSweeper`). A namespace lives in one Redis Cluster hash slot (docs/backends.md):
 * spread large data over several namespaces or tables.
 * @publicApi
 */
export class RedisCache<V = unknown> extends CacheStore<V> {
  private readonly keys: NamespaceKeys;

  /** @internal Made by the module; inject `CacheStore`. */
  constructor(
    private readonly table: RedisTable,
    /** The namespace this view reads and writes. */
    readonly namespaceName: string,
    /** Default TTL (ms) of writes through this view, if any. */
    readonly ttl: number | undefined,
  ) {
    super();
    this.keys = new NamespaceKeys(table.keyPrefix, table.name, namespaceName);
  }

  /** The name of the table behind this cache. */
  get tableName(): string {
    return this.table.name;
  }

  /** The app's clock reading (ms since the epoch); Redis counts TTLs by its own clock. */
  clockNow(): number {
    return this.table.clock.now();
  }

  get(key: CacheKey): Promise<V | undefined> {
    let entry: Buffer;
    try {
      entry = this.keys.entry(checkedKey(key));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // No async function: one promise fewer per read.
    return this.table.connection.call(entry, (redis) => redis.getBuffer(entry)).then(decoded<V>);
  }

  /** When the entry expires, on the app's clock: now plus what is left of its TTL in Redis. */
  async expiresAt(key: CacheKey): Promise<number | undefined> {
    const entry = this.keys.entry(checkedKey(key));
    const left = await this.table.connection.call(entry, (redis) => redis.pttl(entry));
    return left >= 0 ? this.clockNow() + left : undefined;
  }

  /**
   * Every live entry whose key matches `pattern`, sorted by key. Fixed leading
   * elements narrow the walk of the namespace's key index; the rest of the
   * pattern is matched here.
   */
  async all(pattern: KeyPattern): Promise<Array<[NormalKey, V]>> {
    const parts = checkedPattern(pattern);
    const anyAt = parts.indexOf(ANY);
    const leading = (anyAt === -1 ? parts : parts.slice(0, anyAt)) as KeyPart[];
    const [min, max] = this.keys.range(leading);
    const reply = (await this.table.allScript([this.keys.index], [min, max, this.keys.entryPrefix])) as Buffer[];
    const found: Array<[NormalKey, V]> = [];
    for (let i = 0; i < reply.length; i += 2) {
      const elements = decodeKeyElements(reply[i]);
      if (!matches(elements, parts)) continue;
      const key = elements.length === 1 ? elements[0] : Object.freeze(elements);
      found.push([key, unpackValue<V>(reply[i + 1])]);
    }
    return found.sort((a, b) => compareKeys(a[0], b[0]));
  }

  /**
   * Puts and deletes in one Lua script: atomic on the server and on a Redis
   * Cluster. Each put's expiry goes to Redis as a TTL (its `expiresAt` minus
   * the app's now), so a skewed app clock neither loses nor shortens it.
   */
  write(changes: WriteChanges<V>, options?: PutOptions): Promise<void> {
    const args: Array<string | Buffer | number> = [this.keys.entryPrefix];
    let shortest = Infinity;
    try {
      const now = this.clockNow();
      const { puts, deletes } = planWrite(changes, options, { namespace: this.namespaceName, ttl: this.ttl, now });
      args.push(puts.length);
      for (const { key, value, expiresAt } of puts) {
        const ttl = Math.max(1, Math.ceil(expiresAt - now));
        if (ttl < shortest) shortest = ttl;
        args.push(this.keys.member(key), packValue(value), ttl);
      }
      releasePlanned(puts); // packValue took the encodings the puts held
      for (const key of deletes) args.push(this.keys.member(key));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // No async function: one promise fewer per write.
    return this.table.writeScript([this.keys.index, this.keys.expiry], args).then(() => {
      if (shortest !== Infinity) this.table.sweeper.wrote(this.keys, shortest);
    });
  }

  namespace<T = unknown>(name: string, options: NamespaceOptions = {}): RedisCache<T> {
    if (options.ttl !== undefined) checkedTtl(options.ttl, name, undefined);
    return new RedisCache<T>(this.table, name, options.ttl);
  }
}

/** A stored value, or undefined for a missing key. */
function decoded<V>(bytes: Buffer | null): V | undefined {
  return bytes === null ? undefined : unpackValue<V>(bytes);
}

/** Whether key elements match a pattern of the same length, element by element. */
function matches(elements: readonly KeyPart[], pattern: readonly (KeyPart | typeof ANY)[]): boolean {
  if (elements.length !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== ANY && pattern[i] !== elements[i]) return false;
  }
  return true;
}
