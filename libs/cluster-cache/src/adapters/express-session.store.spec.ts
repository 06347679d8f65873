import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import type { SessionData } from 'express-session';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ExpressSessionStore } from './express-session.store';
import { DEFAULT_SESSION_TTL } from './session-records';
import { CACHE_KINDS } from './testing/cache-backends';

const MIN = 60_000;

/** The store's callback API as promises. */
function call<T>(run: (callback: (error: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

/** A real express-session `Session` (with its `Cookie` instance), as the middleware hands it to `set`. */
function realSession(store: ExpressSessionStore, sid: string, data: Record<string, unknown>, cookie: Record<string, unknown>): SessionData {
  const request = { sessionID: sid, sessionStore: store };
  return store.createSession(request as never, { cookie, ...data } as unknown as SessionData) as unknown as SessionData;
}

describe.each(CACHE_KINDS)('ExpressSessionStore on %s', (_, makeCache) => {
  it('stores a real Session and reads it back as a fresh plain object, its cookie as JSON', async () => {
    const { cache } = makeCache();
    const store = new ExpressSessionStore(cache);
    const expires = new Date(Date.now() + 10 * MIN);
    const sess = realSession(store, 'sid-1', { passport: { user: 'ada' }, visits: 3 }, { originalMaxAge: 10 * MIN, expires, httpOnly: true, path: '/' });
    expect(Object.getPrototypeOf(sess.cookie)).not.toBe(Object.prototype); // a Cookie instance: the cache alone would refuse it
    await call((cb) => store.set('sid-1', sess, cb));

    const read = (await call<SessionData | null>((cb) => store.get('sid-1', cb))) as unknown as Record<string, unknown>;
    expect(read).toEqual({ cookie: { originalMaxAge: 10 * MIN, expires: expires.toISOString(), httpOnly: true, path: '/' }, passport: { user: 'ada' }, visits: 3 });
    expect(Object.isFrozen(read)).toBe(false); // express-session assigns to it
    read.visits = 4;
    expect(((await call<SessionData | null>((cb) => store.get('sid-1', cb))) as unknown as { visits: number }).visits).toBe(3);

    // What express-session does with it: load() makes a Session with a Cookie and a Date again.
    const loaded = await call<session.Session & Partial<SessionData>>((cb) => store.load('sid-1', cb as never));
    expect(loaded!.cookie.expires).toEqual(expires);
    expect(loaded!.cookie.maxAge).toBeGreaterThan(9 * MIN);
    expect((loaded as unknown as { passport: unknown }).passport).toEqual({ user: 'ada' });
  });

  it('answers an unknown session id with undefined, asynchronously even on the mesh', async () => {
    const store = new ExpressSessionStore(makeCache().cache);
    let answered = false;
    const done = call((cb) => {
      store.get('never-there', (error, value) => {
        answered = true;
        cb(error, value);
      });
    });
    expect(answered).toBe(false);
    await expect(done).resolves.toBeUndefined();
  });

  it('keeps a session as long as its cookie, the default TTL for a cookie without expiry, and deletes one already expired', async () => {
    const { cache, clock } = makeCache();
    const store = new ExpressSessionStore(cache);
    const ns = store.cache;
    expect(ns.namespaceName).toBe('express-sessions');

    await call((cb) => store.set('ten-min', realSession(store, 'ten-min', {}, { originalMaxAge: 10 * MIN, expires: new Date(Date.now() + 10 * MIN) }), cb));
    const left = (await ns.expiresAt('ten-min'))! - clock.now();
    expect(left).toBeGreaterThan(10 * MIN - 1000);
    expect(left).toBeLessThanOrEqual(10 * MIN);

    // A plain object with maxAge alone (no expires) counts too.
    await call((cb) => store.set('max-age', { cookie: { maxAge: 5 * MIN } } as unknown as SessionData, cb));
    expect((await ns.expiresAt('max-age'))! - clock.now()).toBe(5 * MIN);

    await call((cb) => store.set('browser-session', realSession(store, 'browser-session', {}, { originalMaxAge: null }), cb));
    expect((await ns.expiresAt('browser-session'))! - clock.now()).toBe(DEFAULT_SESSION_TTL);
    const custom = new ExpressSessionStore(cache, { ttl: 2 * MIN, namespace: 'other' });
    await call((cb) => custom.set('browser-session', { cookie: {} } as SessionData, cb));
    expect((await custom.cache.expiresAt('browser-session'))! - clock.now()).toBe(2 * MIN);

    await call((cb) => store.set('gone', { cookie: { expires: new Date(Date.now() - 1000) } } as unknown as SessionData, cb));
    expect(await ns.get('gone')).toBeUndefined();
    await call((cb) => store.set('ten-min', { cookie: { expires: new Date(Date.now() - 1000).toISOString() } } as unknown as SessionData, cb));
    expect(await ns.get('ten-min')).toBeUndefined();

    clock.advance(5 * MIN);
    expect(await call((cb) => store.get('max-age', cb))).toBeUndefined();
  });

  it('touch extends the TTL from the new cookie and keeps the data stored, and does not bring back a destroyed session', async () => {
    const { cache, clock } = makeCache();
    const store = new ExpressSessionStore(cache);
    const sess = realSession(store, 's', { n: 1 }, { originalMaxAge: 10 * MIN, expires: new Date(Date.now() + 10 * MIN) });
    await call((cb) => store.set('s', sess, cb));
    // Another node changed the session meanwhile; this request's copy is stale.
    await call((cb) => store.set('s', { ...JSON.parse(JSON.stringify(sess)), n: 2 } as SessionData, cb));

    clock.advance(4 * MIN);
    const touched = JSON.parse(JSON.stringify(sess)) as SessionData & { n: number };
    (touched.cookie as unknown as { expires: string }).expires = new Date(Date.now() + 20 * MIN).toISOString();
    await call((cb) => store.touch('s', touched, () => cb(null)));
    const read = (await call<SessionData | null>((cb) => store.get('s', cb))) as unknown as { n: number; cookie: { expires: string } };
    expect(read.n).toBe(2);
    expect(read.cookie.expires).toBe(touched.cookie.expires);
    expect((await store.cache.expiresAt('s'))! - clock.now()).toBeGreaterThan(20 * MIN - 1000);

    await call((cb) => store.destroy('s', cb));
    await call((cb) => store.touch('s', touched, () => cb(null)));
    expect(await call((cb) => store.get('s', cb))).toBeUndefined();
  });

  it('touchAfter skips a touch that would extend the session by less', async () => {
    const { cache, clock } = makeCache();
    const store = new ExpressSessionStore(cache, { touchAfter: MIN });
    await call((cb) => store.set('s', { cookie: { maxAge: 10 * MIN } } as unknown as SessionData, cb));
    const written = (await store.cache.expiresAt('s'))!;
    clock.advance(MIN - 1000);
    await call((cb) => store.touch('s', { cookie: { maxAge: 10 * MIN } } as unknown as SessionData, () => cb(null)));
    expect(await store.cache.expiresAt('s')).toBe(written); // 59 s later: not worth a write
    clock.advance(1000);
    await call((cb) => store.touch('s', { cookie: { maxAge: 10 * MIN } } as unknown as SessionData, () => cb(null)));
    expect((await store.cache.expiresAt('s'))! - clock.now()).toBe(10 * MIN);
    await call((cb) => store.destroy('s', cb));
    clock.advance(5 * MIN);
    await call((cb) => store.touch('s', { cookie: { maxAge: 10 * MIN } } as unknown as SessionData, () => cb(null)));
    expect(await call((cb) => store.get('s', cb))).toBeUndefined();
    expect(() => new ExpressSessionStore(cache, { touchAfter: -1 })).toThrow('ExpressSessionStore: touchAfter must be a number of milliseconds ≥ 0, got -1');
  });

  it('disableTouch makes touch do nothing', async () => {
    const { cache, clock } = makeCache();
    const store = new ExpressSessionStore(cache, { disableTouch: true });
    await call((cb) => store.set('s', { cookie: { maxAge: MIN } } as unknown as SessionData, cb));
    const before = await store.cache.expiresAt('s');
    clock.advance(1000);
    await call((cb) => store.touch('s', { cookie: { maxAge: 10 * MIN } } as unknown as SessionData, () => cb(null)));
    expect(await store.cache.expiresAt('s')).toBe(before);
  });

  it('lists, counts and clears the namespace, and nothing outside it', async () => {
    const { cache } = makeCache({ ttl: MIN });
    const store = new ExpressSessionStore(cache);
    await cache.put('not-a-session', 'kept');
    for (let i = 0; i < 1_100; i++) await call((cb) => store.set(`sid-${i}`, { cookie: { maxAge: MIN }, i } as unknown as SessionData, cb));
    expect(await call((cb) => store.length(cb))).toBe(1_100);
    const all = (await call<{ [sid: string]: SessionData } | null>((cb) => store.all(cb))) as unknown as Record<string, { i: number }>;
    expect(Object.keys(all)).toHaveLength(1_100);
    expect(all['sid-42'].i).toBe(42);

    await call((cb) => store.clear(cb));
    expect(await call((cb) => store.length(cb))).toBe(0);
    expect(await call((cb) => store.all(cb))).toEqual({});
    expect(await cache.get('not-a-session')).toBe('kept');
  });

  it('uses the serializer given', async () => {
    const { cache } = makeCache();
    const serializer = { stringify: (value: unknown) => `v1:${JSON.stringify(value)}`, parse: (text: string) => JSON.parse(text.slice(3)) };
    const store = new ExpressSessionStore(cache, { serializer });
    await call((cb) => store.set('s', { cookie: { maxAge: MIN }, a: 1 } as unknown as SessionData, cb));
    expect(await store.cache.get('s')).toBe('v1:{"cookie":{"maxAge":60000},"a":1}');
    expect(await call((cb) => store.get('s', cb))).toEqual({ cookie: { maxAge: MIN }, a: 1 });
  });

  it('hands errors to the callback: a session it cannot serialise, a session id too long for a key', async () => {
    const store = new ExpressSessionStore(makeCache().cache);
    await expect(call((cb) => store.set('s', { cookie: { maxAge: MIN }, big: 1n } as unknown as SessionData, cb))).rejects.toThrow(/BigInt/);
    await expect(call((cb) => store.set('x'.repeat(2000), { cookie: { maxAge: MIN } } as unknown as SessionData, cb))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(call((cb) => store.destroy('x'.repeat(2000), cb))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses to be made without a CacheStore', () => {
    expect(() => new ExpressSessionStore(undefined as never)).toThrow('ExpressSessionStore needs a CacheStore: new ExpressSessionStore(app.get(CacheStore)), got undefined');
    expect(() => new ExpressSessionStore({} as never)).toThrow(/got an instance of Object/);
    expect(() => new ExpressSessionStore(makeCache().cache, { ttl: -1 })).toThrow(/ttl must be a positive number/);
  });

  it('serves express-session: a session saved by one request is read by the next, and destroyed', async () => {
    const store = new ExpressSessionStore(makeCache().cache);
    const app = express();
    app.use(session({ store, secret: 'a secret for this spec only', resave: false, saveUninitialized: false, cookie: { maxAge: 10 * MIN } }));
    app.post('/visit', (req, res) => {
      const data = req.session as unknown as { visits?: number };
      data.visits = (data.visits ?? 0) + 1;
      res.json({ visits: data.visits });
    });
    app.post('/end', (req, res) => req.session.destroy(() => res.json({ ended: true })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const first = await fetch(`${base}/visit`, { method: 'POST' });
      expect(await first.json()).toEqual({ visits: 1 });
      const cookie = first.headers.get('set-cookie')!.split(';')[0];
      expect(await (await fetch(`${base}/visit`, { method: 'POST', headers: { cookie } })).json()).toEqual({ visits: 2 });
      expect(await call((cb) => store.length(cb))).toBe(1);
      await fetch(`${base}/end`, { method: 'POST', headers: { cookie } });
      expect(await call((cb) => store.length(cb))).toBe(0);
      expect(await (await fetch(`${base}/visit`, { method: 'POST', headers: { cookie } })).json()).toEqual({ visits: 1 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
