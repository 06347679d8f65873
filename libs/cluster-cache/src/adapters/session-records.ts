import { checkedTtl } from '../cache/write-plan';
import type { CacheStore } from '../contract/cache-store';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ANY } from '../store/key';

/**
 * How a session store turns a session into the string it stores, and back
 * (connect-redis's `serializer`). The default is `JSON`: what express-session
 * and @fastify/session hand over is a class instance (their `Session`, with a
 * `Cookie` instance inside), which the cache refuses as a value; JSON keeps
 * its data (the cookie through its `toJSON`) and reads give a fresh, mutable
 * object, as those libraries expect. A `Date` in your session data comes back
 * as its ISO string, as with connect-redis.
 * @publicApi
 */
export interface SessionSerializer {
  stringify(session: unknown): string;
  parse(text: string): unknown;
}

/** Options common to the express-session and @fastify/session stores. @publicApi */
export interface SessionStoreOptions {
  /**
   * The cache namespace the sessions live in, each under its session id
   * (default `express-sessions` or `fastify-sessions`). Namespaces never see
   * each other's keys.
   */
  namespace?: string;
  /**
   * How long (ms) a session lives whose cookie has no expiry (a cookie
   * without `maxAge`, that the browser keeps until it closes). Default: one
   * day, as connect-redis. A cookie with `maxAge` or `expires` gives the TTL.
   */
  ttl?: number;
  /** How sessions are stored (default `JSON`). */
  serializer?: SessionSerializer;
  /**
   * Let `touch` rewrite a session only when that extends its life by at
   * least this many ms (connect-mongo's `touchAfter`, in ms). express-session
   * touches the session of every request that does not change it: without
   * this, each such request is a write (replicated to every node on the
   * mesh). With `touchAfter: 60_000`, a session read a thousand times a
   * minute is written about once a minute, and expires at most a minute
   * before its cookie would. Default 0: every touch writes.
   */
  touchAfter?: number;
}

/** One day, connect-redis's TTL for sessions whose cookie does not expire. */
export const DEFAULT_SESSION_TTL = 24 * 60 * 60_000;

/** How many keys `clear` deletes per atomic write. */
const CLEAR_BATCH = 500;

/** The part of a session the TTL comes from: its cookie. */
interface WithCookie {
  cookie?: { expires?: unknown; maxAge?: unknown; originalMaxAge?: unknown } | null;
}

/**
 * Sessions of an HTTP session library (express-session, @fastify/session) in
 * one namespace of a `CacheStore`, each under its session id: the logic both
 * stores share, on promises. It works on both backends: reads are awaited
 * (synchronous values on the mesh, promises on Redis).
 */
export class SessionRecords {
  readonly cache: CacheStore<string>;
  private readonly ttl: number;
  private readonly serializer: SessionSerializer;
  private readonly touchAfter: number;

  constructor(cache: CacheStore, owner: string, defaultNamespace: string, options: SessionStoreOptions) {
    if (typeof (cache as Partial<CacheStore> | undefined)?.namespace !== 'function') {
      throw new InvalidArgumentError(`${owner} needs a CacheStore: new ${owner}(app.get(CacheStore)), got ${describe(cache)}`);
    }
    const namespace = options.namespace ?? defaultNamespace;
    this.ttl = checkedTtl(options.ttl, namespace, DEFAULT_SESSION_TTL);
    // Every put brings its TTL. No namespace TTL: on the mesh, a destroy's tombstone is then kept
    // until the session would have expired, and 60 s for an id this node never held (express-session
    // and Passport destroy the unsaved session of every sign-in: a day each would add up).
    this.cache = cache.namespace<string>(namespace);
    this.serializer = options.serializer ?? JSON;
    this.touchAfter = options.touchAfter ?? 0;
    if (typeof this.touchAfter !== 'number' || !(this.touchAfter >= 0)) {
      throw new InvalidArgumentError(`${owner}: touchAfter must be a number of milliseconds ≥ 0, got ${String(options.touchAfter)}`);
    }
  }

  /** The session stored under `sid`, as a fresh object, or `undefined`. */
  async get(sid: string): Promise<unknown> {
    const text = await this.cache.get(sid);
    return text === undefined ? undefined : this.serializer.parse(text);
  }

  /** Stores the session for as long as its cookie lives; a cookie already expired deletes it. */
  async set(sid: string, session: unknown): Promise<void> {
    const ttl = this.ttlOf(session);
    if (ttl <= 0) return this.cache.delete(sid);
    await this.cache.put(sid, this.serializer.stringify(session), { ttl });
  }

  /**
   * Extends a stored session's life to its cookie's new expiry, keeping the
   * data stored (as express-session's MemoryStore does: only the cookie is
   * taken from `session`), so that a touch neither undoes a change another
   * node made meanwhile nor brings back a session signed out meanwhile.
   */
  async touch(sid: string, session: unknown): Promise<void> {
    if (this.touchAfter > 0) {
      const expiresAt = await this.cache.expiresAt(sid);
      if (expiresAt === undefined || this.cache.clockNow() + this.ttlOf(session) - expiresAt < this.touchAfter) return;
    }
    const text = await this.cache.get(sid);
    if (text === undefined) return;
    const stored = this.serializer.parse(text);
    const cookie = (session as WithCookie | null)?.cookie;
    if (cookie !== undefined && stored !== null && typeof stored === 'object') (stored as WithCookie).cookie = cookie;
    await this.set(sid, stored);
  }

  /** Deletes the session everywhere; a missing one is fine. */
  destroy(sid: string): Promise<void> {
    return this.cache.delete(sid);
  }

  /** Every live session, by session id. */
  async all(): Promise<Array<[string, unknown]>> {
    const found: Array<[string, unknown]> = [];
    for (const [sid, text] of await this.cache.all(ANY)) {
      if (typeof sid === 'string') found.push([sid, this.serializer.parse(text)]);
    }
    return found;
  }

  /** How many live sessions there are. */
  async length(): Promise<number> {
    return (await this.cache.all(ANY)).length;
  }

  /** Deletes every session, in atomic batches. */
  async clear(): Promise<void> {
    const sids = (await this.cache.all(ANY)).map(([sid]) => sid);
    for (let i = 0; i < sids.length; i += CLEAR_BATCH) await this.cache.deleteMany(sids.slice(i, i + CLEAR_BATCH));
  }

  /**
   * What is left of the session's cookie (ms): until its `expires`, else its
   * `maxAge`; the default TTL for a cookie that does not expire.
   */
  ttlOf(session: unknown): number {
    const cookie = (session as WithCookie | null | undefined)?.cookie;
    if (cookie !== null && typeof cookie === 'object') {
      const at = timeOf(cookie.expires);
      if (at !== undefined) return Math.ceil(at - Date.now());
      if (typeof cookie.maxAge === 'number' && Number.isFinite(cookie.maxAge)) return Math.ceil(cookie.maxAge);
    }
    return this.ttl;
  }
}

/** A cookie's `expires` (a Date, or its JSON string) in ms since the epoch. */
function timeOf(expires: unknown): number | undefined {
  if (expires === null || expires === undefined || expires === false) return undefined;
  const time = expires instanceof Date ? expires.getTime() : typeof expires === 'string' || typeof expires === 'number' ? new Date(expires).getTime() : NaN;
  return Number.isFinite(time) ? time : undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? `an instance of ${value.constructor?.name ?? 'Object'}` : typeof value;
}

/**
 * Runs `work` and hands its outcome to a Node-style callback on a later tick,
 * never inside the promise chain: a callback that throws is an uncaught
 * exception, as with any callback, not an unhandled rejection; and a
 * synchronous answer (a mesh read) still reaches the callback asynchronously.
 */
export function settle<T>(work: () => Promise<T>, callback: ((error: unknown, value?: T) => void) | undefined): void {
  let outcome: Promise<T>;
  try {
    outcome = work();
  } catch (error) {
    outcome = Promise.reject(error);
  }
  outcome.then(
    (value) => {
      if (callback) process.nextTick(callback, null, value);
    },
    (error: unknown) => {
      if (callback) process.nextTick(callback, error);
    },
  );
}
