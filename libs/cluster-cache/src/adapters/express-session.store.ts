import { Store } from 'express-session';
import type { SessionData } from 'express-session';
import type { CacheStore } from '../contract/cache-store';
import { SessionRecords, settle } from './session-records';
import type { SessionStoreOptions } from './session-records';

/** Options of {@link ExpressSessionStore}. @publicApi */
export interface ExpressSessionStoreOptions extends SessionStoreOptions {
  /**
   * Make `touch` do nothing (connect-redis's option): with `resave: false`, a
   * request that does not change its session then writes nothing, and the
   * session expires `maxAge` after its last change rather than its last use.
   */
  disableTouch?: boolean;
}

type Callback = (error?: unknown) => void;

/**
 * An express-session `Store` on the replicated cache, in place of
 * connect-redis or the MemoryStore: `app.use(session({ store }))`. A session
 * saved on one app node is read on every other (through the mesh, or Redis
 * with `backend: 'redis'`), so a round-robin load balancer needs no sticky
 * sessions, and Passport's session support works as it is.
 *
 * Sessions live in the namespace `express-sessions` (option `namespace`) of
 * the cache given, under their session id, for as long as their cookie
 * (`cookie.maxAge`; the `ttl` option, one day by default, for a cookie with
 * no expiry). They are stored as JSON (option `serializer`). `touch` extends
 * a stored session's life without rewriting its data; `all`, `length` and
 * `clear` work on the whole namespace.
 *
 * @example
 * import session from 'express-session';
 * import { CacheStore } from 'nest-cluster-cache';
 * import { ExpressSessionStore } from 'nest-cluster-cache/express-session';
 *
 * app.use(session({ store: new ExpressSessionStore(app.get(CacheStore)), secret, resave: false, saveUninitialized: false }));
 * @publicApi
 */
export class ExpressSessionStore extends Store {
  /** The namespace view the sessions are stored in (one string per session id). */
  readonly cache: CacheStore<string>;
  private readonly records: SessionRecords;
  private readonly disableTouch: boolean;

  constructor(cache: CacheStore, options: ExpressSessionStoreOptions = {}) {
    super();
    this.records = new SessionRecords(cache, 'ExpressSessionStore', 'express-sessions', options);
    this.cache = this.records.cache;
    this.disableTouch = options.disableTouch ?? false;
  }

  get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): void {
    settle<SessionData | undefined>(() => this.records.get(sid) as Promise<SessionData | undefined>, callback);
  }

  set(sid: string, session: SessionData, callback?: Callback): void {
    settle(() => this.records.set(sid, session), callback);
  }

  touch(sid: string, session: SessionData, callback?: () => void): void {
    if (this.disableTouch) {
      if (callback) process.nextTick(callback);
      return;
    }
    settle(() => this.records.touch(sid, session), callback);
  }

  destroy(sid: string, callback?: Callback): void {
    settle(() => this.records.destroy(sid), callback);
  }

  /** Every live session, by session id (as the MemoryStore answers). */
  all(callback: (error: unknown, sessions?: { [sid: string]: SessionData } | null) => void): void {
    settle(async () => Object.fromEntries(await this.records.all()) as { [sid: string]: SessionData }, callback);
  }

  length(callback: (error: unknown, length?: number) => void): void {
    settle(() => this.records.length(), callback);
  }

  clear(callback?: Callback): void {
    settle(() => this.records.clear(), callback);
  }
}
