import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ANY } from '../store/key';
import { KeyvCacheStore } from './keyv.store';
import { CACHE_KINDS } from './testing/cache-backends';

const MIN = 60_000;

describe.each(CACHE_KINDS)('KeyvCacheStore on %s', (_, makeCache) => {
  it('serves Keyv: set, get, has, delete, with keys under the Keyv namespace', async () => {
    const { cache } = makeCache();
    const store = new KeyvCacheStore(cache, { ttl: MIN });
    const keyv = new Keyv({ store }); // namespace 'keyv'
    expect(store.namespace).toBe('keyv');

    expect(await keyv.set('user:1', { name: 'Ada', tags: ['x'], at: 1 })).toBe(true);
    expect(await keyv.get('user:1')).toEqual({ name: 'Ada', tags: ['x'], at: 1 });
    expect(await keyv.has('user:1')).toBe(true);
    expect(await keyv.get('nothing')).toBeUndefined();
    expect(await keyv.has('nothing')).toBe(false);
    // Stored as Keyv hands it over (its JSON of { value, expires }), under ['keyv', key].
    const [[key, raw]] = await store.cache.all(['keyv', ANY]);
    expect(key).toEqual(['keyv', 'user:1']);
    expect(JSON.parse(raw as string)).toMatchObject({ value: { name: 'Ada' } });

    expect(await keyv.delete('user:1')).toBe(true);
    expect(await keyv.delete('user:1')).toBe(false);
    expect(await keyv.get('user:1')).toBeUndefined();
  });

  it('takes TTLs in milliseconds, the default TTL for a set without one', async () => {
    const { cache, clock } = makeCache();
    const store = new KeyvCacheStore(cache, { ttl: 5 * MIN });
    const keyv = new Keyv({ store });
    await keyv.set('short', 1, 1_500);
    await keyv.set('default', 2);
    expect((await store.cache.expiresAt(['keyv', 'short']))! - clock.now()).toBe(1_500);
    expect((await store.cache.expiresAt(['keyv', 'default']))! - clock.now()).toBe(5 * MIN);
    clock.advance(1_500);
    expect(await keyv.get('short')).toBeUndefined(); // the cache's expiry, whatever Keyv's own clock says
    expect(await keyv.get('default')).toBe(2);
    // A Keyv-wide TTL is passed on each set.
    const withTtl = new Keyv({ store: new KeyvCacheStore(cache, { namespace: 'other' }), ttl: 2 * MIN });
    await withTtl.set('k', 'v');
    expect((await cache.namespace('other').expiresAt(['keyv', 'k']))! - clock.now()).toBe(2 * MIN);
  });

  it("falls back on the cache's TTL, and fails a set without any TTL with a message saying where to give one", async () => {
    const withModuleTtl = makeCache({ ttl: 3 * MIN });
    const store = new KeyvCacheStore(withModuleTtl.cache);
    await new Keyv({ store }).set('k', 'v');
    expect((await store.cache.expiresAt(['keyv', 'k']))! - withModuleTtl.clock.now()).toBe(3 * MIN);

    const keyv = new Keyv({ store: new KeyvCacheStore(makeCache().cache) });
    const errors: unknown[] = [];
    keyv.on('error', (error) => errors.push(error));
    expect(await keyv.set('k', 'v')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
    expect((errors[0] as Error).message).toBe(
      'KeyvCacheStore: no TTL for key "keyv:k": the cache keeps nothing forever; pass a ttl (ms) to set(), give CacheModule a ttl, or give one to new KeyvCacheStore(cache, { ttl })',
    );
    expect(await keyv.set('k', 'v', 1000)).toBe(true);
  });

  it('getMany, setMany (one atomic write), hasMany, deleteMany', async () => {
    const { cache } = makeCache();
    const store = new KeyvCacheStore(cache, { ttl: MIN });
    const keyv = new Keyv({ store });
    expect(await keyv.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 1000 }])).toEqual([true, true]);
    expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([1, 2, undefined]);
    expect(await keyv.hasMany(['a', 'c'])).toEqual([true, false]);
    expect(await keyv.deleteMany(['a', 'c'])).toBe(true);
    expect(await keyv.deleteMany(['a', 'c'])).toBe(false);
    expect(await keyv.get('b')).toBe(2);
  });

  it("clear() empties its own Keyv namespace only; iterator() lists one namespace's entries", async () => {
    const { cache } = makeCache();
    const pages = new Keyv({ store: new KeyvCacheStore(cache, { ttl: MIN }), namespace: 'pages' });
    const users = new Keyv({ store: new KeyvCacheStore(cache, { ttl: MIN }), namespace: 'users' });
    const bare = new Keyv({ store: new KeyvCacheStore(cache, { ttl: MIN }), namespace: undefined }); // as CacheModule makes it
    await pages.set('/a', 'A');
    await pages.set('/b:c', 'B');
    await users.set('1', 'Ada');
    await bare.set('/plain', 'P');
    await bare.set(':odd', 'O');

    const store = pages.store as KeyvCacheStore;
    const listed: unknown[][] = [];
    for await (const entry of store.iterator('pages')) listed.push(entry);
    expect(listed).toEqual([['pages:/a', expect.stringContaining('"A"')], ['pages:/b:c', expect.stringContaining('"B"')]]);

    await pages.clear();
    expect(await pages.get('/a')).toBeUndefined();
    expect(await users.get('1')).toBe('Ada');
    expect(await bare.get('/plain')).toBe('P');
    expect(await bare.get(':odd')).toBe('O');

    const everything: unknown[] = [];
    for await (const [key] of (bare.store as KeyvCacheStore).iterator()) everything.push(key);
    expect(everything.sort()).toEqual(['/plain', ':odd', 'users:1']);
    await bare.clear(); // no namespace: every entry of the store's cache namespace
    expect(await users.get('1')).toBeUndefined();
    expect(await store.cache.all([ANY, ANY])).toEqual([]);
  });

  it('serves cache-manager (what @nestjs/cache-manager builds on): set/get/ttl/wrap/del in milliseconds', async () => {
    const { cache, clock } = makeCache();
    const store = new KeyvCacheStore(cache);
    const manager = createCache({ stores: [new Keyv({ store, namespace: undefined })], ttl: 10 * MIN });
    await manager.set('GET /items', { items: [1, 2] });
    expect(await manager.get('GET /items')).toEqual({ items: [1, 2] });
    expect((await store.cache.expiresAt(['', 'GET /items']))! - clock.now()).toBe(10 * MIN);
    await manager.set('short', 'x', 2_000);
    expect((await store.cache.expiresAt(['', 'short']))! - clock.now()).toBe(2_000);
    const expires = await manager.ttl('short');
    expect(expires! - Date.now()).toBeGreaterThan(1_000);
    expect(expires! - Date.now()).toBeLessThanOrEqual(2_000);

    let computed = 0;
    const compute = async () => ++computed;
    expect(await manager.wrap('counter', compute)).toBe(1);
    expect(await manager.wrap('counter', compute)).toBe(1);
    expect(computed).toBe(1);
    await manager.del('counter');
    expect(await manager.wrap('counter', compute)).toBe(2);
  });

  it('fails a key too long for the cache through Keyv, which emits the error', async () => {
    const keyv = new Keyv({ store: new KeyvCacheStore(makeCache().cache, { ttl: MIN }) });
    const errors: unknown[] = [];
    keyv.on('error', (error) => errors.push(error));
    expect(await keyv.set('k'.repeat(2000), 'v')).toBe(false);
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses to be made without a CacheStore', () => {
    expect(() => new KeyvCacheStore(undefined as never)).toThrow(/KeyvCacheStore needs a CacheStore/);
    expect(() => new KeyvCacheStore(makeCache().cache, { ttl: 0 })).toThrow(/ttl must be a positive number/);
  });
});
