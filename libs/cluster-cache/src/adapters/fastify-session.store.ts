import { EventEmitter } from 'node:events';
import type { SessionStore } from '@fastify/session';
import type { Session } from 'fastify';
import type { CacheStore } from '../contract/cache-store';
import { SessionRecords, settle } from './session-records';
import type { SessionStoreOptions } from './session-records';

/** Options of {@link FastifySessionStore}. @publicApi */
export type FastifySessionStoreOptions = SessionStoreOptions;

type Callback = (error?: unknown) => void;

/**
 * A `@fastify/session` store on the replicated cache:
 * `app.register(fastifySession, { secret, store })`. A session saved on one
 * app node is read on every other (through the mesh, or Redis with
 * `backend: 'redis'`), so a round-robin load balancer needs no sticky
 * sessions.
 *
 * Sessions live in the namespace `fastify-sessions` (option `namespace`) of
 * the cache given, under their session id, for as long as their cookie
 * (`cookie.maxAge`; the `ttl` option, one day by default, for a cookie with
 * no expiry), stored as JSON (option `serializer`). Besides the `set`, `get`
 * and `destroy` that @fastify/session calls, it has express-session's
 * `touch`, `all`, `length` and `clear`, for your own code.
 *
 * @example
 * import fastifyCookie from '@fastify/cookie';
 * import fastifySession from '@fastify/session';
 * import { CacheStore } from 'nest-cluster-cache';
 * import { FastifySessionStore } from 'nest-cluster-cache/fastify-session';
 *
 * await app.register(fastifyCookie);
 * await app.register(fastifySession, { secret, store: new FastifySessionStore(app.get(CacheStore)), saveUninitialized: false });
 * @publicApi
 */
export class FastifySessionStore extends EventEmitter implements SessionStore {
  /** The namespace view the sessions are stored in (one string per session id). */
  readonly cache: CacheStore<string>;
  private readonly records: SessionRecords;

  constructor(cache: CacheStore, options: FastifySessionStoreOptions = {}) {
    super();
    this.records = new SessionRecords(cache, 'FastifySessionStore', 'fastify-sessions', options);
    this.cache = this.records.cache;
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    settle(() => this.records.set(sessionId, session), callback);
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    settle<Session | undefined>(() => this.records.get(sessionId) as Promise<Session | undefined>, callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    settle(() => this.records.destroy(sessionId), callback);
  }

  /** Extends a stored session's life to its cookie's expiry, keeping the data stored. */
  touch(sessionId: string, session: Session, callback?: Callback): void {
    settle(() => this.records.touch(sessionId, session), callback);
  }

  /** Every live session, by session id. */
  all(callback: (error: unknown, sessions?: Record<string, Session>) => void): void {
    settle(async () => Object.fromEntries(await this.records.all()) as Record<string, Session>, callback);
  }

  length(callback: (error: unknown, length?: number) => void): void {
    settle(() => this.records.length(), callback);
  }

  clear(callback?: Callback): void {
    settle(() => this.records.clear(), callback);
  }
}
