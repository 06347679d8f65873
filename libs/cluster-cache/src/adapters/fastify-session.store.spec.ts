import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import type { Session } from 'fastify';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ANY } from '../store/key';
import { FastifySessionStore } from './fastify-session.store';
import { DEFAULT_SESSION_TTL } from './session-records';
import { CACHE_KINDS } from './testing/cache-backends';

const MIN = 60_000;

/** The store's callback API as promises. */
function call<T>(run: (callback: (error: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

/** The session's own fields (the app's data), as @fastify/session lets an app set them. */
type SessionFields = Record<string, unknown>;

/** A Fastify app served on loopback, asked over real HTTP as a browser would. */
interface App {
  request(method: string, url: string, cookie?: string): Promise<{ statusCode: number; cookie: string; json(): unknown }>;
  close(): Promise<void>;
}

/** A Fastify app with @fastify/session on the store: sign in, read, sign out. */
async function app(store: FastifySessionStore, cookie: { maxAge?: number } = { maxAge: 10 * MIN }): Promise<App> {
  const fastify = Fastify();
  await fastify.register(fastifyCookie);
  await fastify.register(fastifySession, { secret: 'a secret of at least thirty-two characters', store, saveUninitialized: false, cookie: { secure: false, ...cookie } });
  fastify.post('/login', async (request) => {
    (request.session as unknown as SessionFields).user = 'ada';
    return { ok: true };
  });
  fastify.get('/me', async (request, reply) => {
    const user = (request.session as unknown as SessionFields).user;
    return user === undefined ? reply.code(401).send({ user: null }) : { user };
  });
  fastify.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  const base = await fastify.listen({ port: 0, host: '127.0.0.1' });
  return {
    async request(method, url, cookie) {
      const response = await fetch(base + url, { method, headers: cookie === undefined ? {} : { cookie } });
      const body = await response.text();
      return { statusCode: response.status, cookie: (response.headers.get('set-cookie') ?? '').split(';')[0], json: () => JSON.parse(body) };
    },
    close: () => fastify.close(),
  };
}

describe.each(CACHE_KINDS)('FastifySessionStore on %s', (_, makeCache) => {
  it('serves @fastify/session: a sign-in is read by the next request and ends with destroy', async () => {
    const store = new FastifySessionStore(makeCache().cache);
    const fastify = await app(store);
    try {
      const { cookie } = await fastify.request('POST', '/login');
      expect(cookie).toMatch(/^sessionId=/);
      expect((await fastify.request('GET', '/me', cookie)).json()).toEqual({ user: 'ada' });

      // What the store holds: the session's data and its cookie, as JSON.
      const [[sid, stored]] = (await store.cache.all(ANY)) as Array<[string, string]>;
      expect(JSON.parse(stored)).toMatchObject({ user: 'ada', cookie: { originalMaxAge: 10 * MIN, path: '/', httpOnly: true } });
      expect(await call((cb) => store.length(cb))).toBe(1);
      expect(Object.keys((await call((cb) => store.all(cb)))!)).toEqual([sid]);

      expect((await fastify.request('POST', '/logout', cookie)).statusCode).toBe(200);
      expect(await call((cb) => store.length(cb))).toBe(0);
      expect((await fastify.request('GET', '/me', cookie)).statusCode).toBe(401);
    } finally {
      await fastify.close();
    }
  });

  it('reads a session saved by another app on the same cache (another node)', async () => {
    const { cache } = makeCache();
    const [one, two] = [await app(new FastifySessionStore(cache)), await app(new FastifySessionStore(cache))];
    try {
      const cookie = (await one.request('POST', '/login')).cookie;
      expect((await two.request('GET', '/me', cookie)).json()).toEqual({ user: 'ada' });
      await two.request('POST', '/logout', cookie);
      expect((await one.request('GET', '/me', cookie)).statusCode).toBe(401);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('keeps a session as long as its cookie, or the default TTL for a cookie without expiry', async () => {
    const { cache, clock } = makeCache();
    const store = new FastifySessionStore(cache);
    expect(store.cache.namespaceName).toBe('fastify-sessions');
    const fastify = await app(store);
    const browserSession = await app(new FastifySessionStore(cache, { namespace: 'no-max-age' }), {});
    try {
      const cookie = (await fastify.request('POST', '/login')).cookie;
      const sid = decodeURIComponent(cookie.slice('sessionId='.length)).split('.')[0];
      const left = (await store.cache.expiresAt(sid))! - clock.now();
      expect(left).toBeGreaterThan(10 * MIN - 1000);
      expect(left).toBeLessThanOrEqual(10 * MIN);

      const other = (await browserSession.request('POST', '/login')).cookie;
      const otherSid = decodeURIComponent(other.slice('sessionId='.length)).split('.')[0];
      expect((await cache.namespace('no-max-age').expiresAt(otherSid))! - clock.now()).toBe(DEFAULT_SESSION_TTL);

      clock.advance(10 * MIN);
      expect((await fastify.request('GET', '/me', cookie)).statusCode).toBe(401);
    } finally {
      await Promise.all([fastify.close(), browserSession.close()]);
    }
  });

  it('set, get, destroy, touch and clear through the callback API', async () => {
    const { cache, clock } = makeCache({ ttl: MIN });
    const store = new FastifySessionStore(cache);
    /** A session with the app's own fields (which an app declares on fastify's `Session`). */
    const session = (fields: Record<string, unknown>) => fields as unknown as Session;
    await call((cb) => store.set('a', session({ cookie: { originalMaxAge: MIN, expires: new Date(Date.now() + MIN) }, user: 'ada' }), cb));
    await call((cb) => store.set('b', session({ cookie: { originalMaxAge: MIN, expires: new Date(Date.now() + MIN) }, user: 'grace' }), cb));
    expect(await call((cb) => store.get('a', cb))).toMatchObject({ user: 'ada' });
    await call((cb) => store.touch('a', session({ cookie: { expires: new Date(Date.now() + 5 * MIN) }, user: 'stale' }), cb));
    expect(await call((cb) => store.get('a', cb))).toMatchObject({ user: 'ada' });
    expect((await store.cache.expiresAt('a'))! - clock.now()).toBeGreaterThan(5 * MIN - 1000);
    await call((cb) => store.destroy('a', cb));
    expect(await call((cb) => store.get('a', cb))).toBeUndefined();
    await cache.put('outside', 1);
    await call((cb) => store.clear(cb));
    expect(await call((cb) => store.length(cb))).toBe(0);
    expect(await cache.get('outside')).toBe(1);
    await expect(call((cb) => store.set('x'.repeat(2000), session({ cookie: {} }), cb))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
