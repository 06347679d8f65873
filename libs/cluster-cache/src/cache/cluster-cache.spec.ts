import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { ANY } from '../store/key';
import { localCache } from './testing/local-cache';
import { heldEncoding } from '../values/held-encodings';
import { MAX_VALUE_BYTES } from './write-plan';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe('ClusterCache', () => {
  it('puts, gets and deletes', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.put('k', { a: 1 });
    expect(cache.get('k')).toEqual({ a: 1 });
    expect(cache.get(['k'])).toEqual({ a: 1 });
    await cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
    await expect(cache.delete('never-there')).resolves.toBeUndefined();
  });

  it('keeps numbers and strings apart in keys', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.put(1, 'number');
    await cache.put('1', 'string');
    await cache.put(['u', 1], 'array-number');
    await cache.put(['u', '1'], 'array-string');
    expect([cache.get(1), cache.get('1'), cache.get(['u', 1]), cache.get(['u', '1'])]).toEqual(['number', 'string', 'array-number', 'array-string']);
  });

  it('refuses a write without any TTL, naming the namespace', async () => {
    const { cache } = localCache();
    await expect(cache.put('k', 1)).rejects.toThrow(/no TTL .*namespace "cache"/);
    await expect(cache.put('k', 1, { ttl: -5 })).rejects.toThrow(InvalidArgumentError);
    await expect(cache.put('k', 1, { ttl: MIN })).resolves.toBeUndefined();
    expect(cache.get('k')).toBe(1);
  });

  it('hides an expired entry before any sweep removed it', async () => {
    const { cache, table, clock } = localCache({ ttl: MIN });
    await cache.put('k', 'v', { ttl: 1000 });
    clock.advance(999);
    expect(cache.get('k')).toBe('v');
    clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.all(ANY)).toEqual([]);
    expect(table.size).toBe(1); // still stored: nothing swept yet
  });

  it('keeps a 30-day TTL (past the 24.8-day limit of Node timers)', async () => {
    const { cache, clock, engine } = localCache();
    await cache.put('k', 'v', { ttl: 30 * DAY });
    clock.advance(29 * DAY);
    engine.sweep();
    expect(cache.get('k')).toBe('v');
    clock.advance(DAY + 1000);
    expect(cache.get('k')).toBeUndefined();
    expect(engine.sweep()).toBe(1);
  });

  it('sweeps only what expired', async () => {
    const { cache, clock, engine, table } = localCache({ ttl: 10 * MIN });
    await cache.putMany(Array.from({ length: 100 }, (_, i) => [`long${i}`, i] as const));
    await cache.putMany(Array.from({ length: 5 }, (_, i) => [`short${i}`, i] as const), { ttl: 1000 });
    clock.advance(5_000);
    expect(engine.sweep()).toBe(5);
    expect(table.size).toBe(100);
  });

  it('matches ANY against exactly one element and sorts results by key', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.putMany([
      [['user', 2], 'u2'],
      [['user', 1], 'u1'],
      [['user', 1, 'session', 'b'], 's1b'],
      [['user', 1, 'session', 'a'], 's1a'],
      ['key2', 'k2'],
      ['key1', 'k1'],
      [['namespace', 'key'], 'nk'],
    ]);
    expect(cache.all(ANY)).toEqual([['key1', 'k1'], ['key2', 'k2']]);
    expect(cache.all(['user', ANY])).toEqual([[['user', 1], 'u1'], [['user', 2], 'u2']]);
    expect(cache.all(['user', 1, 'session', ANY])).toEqual([
      [['user', 1, 'session', 'a'], 's1a'],
      [['user', 1, 'session', 'b'], 's1b'],
    ]);
    expect(cache.all([ANY, 1, ANY, ANY])).toHaveLength(2);
    expect(cache.all(['namespace', ANY])).toEqual([[['namespace', 'key'], 'nk']]);
    expect(cache.all('key1')).toEqual([['key1', 'k1']]);
    expect(() => cache.all([{} as never])).toThrow(/invalid pattern/);
  });

  it('keeps namespaces apart', async () => {
    const { cache } = localCache({ ttl: MIN });
    const other = cache.namespace('other', { ttl: MIN });
    await cache.put('k', 'default');
    await other.put('k', 'other');
    await other.put(['x', 1], 'x');
    expect(cache.get('k')).toBe('default');
    expect(other.get('k')).toBe('other');
    expect(cache.all(['x', ANY])).toEqual([]);
    expect(other.all(ANY)).toEqual([['k', 'other']]);
    await other.delete('k');
    expect(cache.get('k')).toBe('default');
  });

  it('uses the namespace default TTL and lets a write override it', async () => {
    const { cache, clock } = localCache();
    const ns = cache.namespace('short', { ttl: 1000 });
    await ns.put('a', 1);
    await ns.put('b', 2, { ttl: 5000 });
    clock.advance(2000);
    expect(ns.get('a')).toBeUndefined();
    expect(ns.get('b')).toBe(2);
    expect(() => cache.namespace('bad', { ttl: 0 })).toThrow(/ttl must be a positive/);
  });

  it('refuses a value too large for one cluster frame, naming the key and the limit, and keeps large ones below it', async () => {
    const { cache } = localCache({ ttl: MIN });
    const big = 'x'.repeat(MAX_VALUE_BYTES / 2);
    await cache.put('fits', { a: big, b: 'y'.repeat(1000) });
    expect((cache.get('fits') as { a: string }).a).toHaveLength(MAX_VALUE_BYTES / 2);
    const tooLarge = cache.put('huge', { a: big, b: big, c: 'z'.repeat(1000) });
    await expect(tooLarge).rejects.toThrow(InvalidArgumentError);
    await expect(tooLarge).rejects.toThrow(new RegExp(`value for key "huge" is (at least )?\\d+ bytes encoded; values are limited to ${MAX_VALUE_BYTES} bytes`));
    await expect(cache.putMany([['small', 1], ['huge', 'é'.repeat(MAX_VALUE_BYTES / 2 + 1)]])).rejects.toThrow(/limited to/);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('small')).toBeUndefined();
    await cache.put('after', 'small values are not measured'); // the character count starts afresh per value
    expect(cache.get('after')).toBe('small values are not measured');
  });

  it('measures a value exactly when its bound is above the limit: many small numbers fit, 3M floats do not; the encoding is let go after the write', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.put('small numbers', Array.from({ length: 1_200_000 }, (_, i) => i % 100)); // bound 19 MB, 1.2 MB encoded
    expect((cache.get('small numbers') as number[]).length).toBe(1_200_000);
    expect(heldEncoding(cache.get('small numbers'))).toBeUndefined();
    const floats = cache.put('floats', Array.from({ length: 3_000_000 }, (_, i) => i + 0.5));
    await expect(floats).rejects.toThrow(`the value for key "floats" is 27000005 bytes encoded; values are limited to ${MAX_VALUE_BYTES} bytes`);
    await expect(cache.put('bytes', new Uint8Array(20 * 1024 * 1024))).rejects.toThrow(/"bytes" is at least 20971521 bytes encoded/);
  });

  it('hands out a Uint8Array or Date value as a fresh copy on every read, by scalar or array key and from all()', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.putMany([['bytes', new Uint8Array([1])], [['at', 1], new Date(5)]]);
    for (let i = 0; i < 3; i++) (cache.get('bytes') as Uint8Array)[0] = 9; // the fast path never holds it
    (cache.get(['at', 1]) as Date).setTime(0);
    (cache.all(['at', ANY])[0][1] as Date).setTime(0);
    expect(cache.get('bytes')).toEqual(new Uint8Array([1]));
    expect(cache.all(ANY)).toEqual([['bytes', new Uint8Array([1])]]);
    expect(cache.get(['at', 1])).toEqual(new Date(5));
  });

  it('writes putMany atomically: nothing at all when one element is invalid', async () => {
    const { cache, table } = localCache({ ttl: MIN });
    await expect(cache.putMany([['a', 1], [{} as never, 2], ['c', 3]])).rejects.toThrow(/invalid key/);
    await expect(cache.putMany([['a', 1], ['b', undefined as never]])).rejects.toThrow(/undefined/);
    await expect(cache.putMany([['a', 1], ['b', () => 1]])).rejects.toThrow(/cannot be stored/);
    expect(cache.get('a')).toBeUndefined();
    expect(table.size).toBe(0);
    await cache.putMany([['a', 1], ['b', 2]]);
    expect(cache.all(ANY)).toEqual([['a', 1], ['b', 2]]);
  });

  it('gives every entry of a putMany one expiry', async () => {
    const { cache, clock } = localCache({ ttl: MIN });
    await cache.putMany([['a', 1], ['b', 2]]);
    expect(cache.expiresAt('a')).toBe(clock.now() + MIN);
    expect(cache.expiresAt('b')).toBe(cache.expiresAt('a'));
  });

  it('deletes deleteMany atomically: nothing when one key is invalid', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.putMany([['a', 1], ['b', 2]]);
    await expect(cache.deleteMany(['a', null as never])).rejects.toThrow(/invalid key/);
    expect(cache.get('a')).toBe(1);
    await cache.deleteMany(['a', 'b']);
    expect(cache.all(ANY)).toEqual([]);
    await expect(cache.deleteMany([])).rejects.toThrow(/at least one/);
  });

  it('hands out values that cannot be changed, and is not changed by the caller keeping theirs', async () => {
    const { cache } = localCache({ ttl: MIN });
    const original = { roles: ['user'], profile: { name: 'Ada' } };
    await cache.put('k', original);
    original.roles.push('admin');
    original.profile.name = 'Eve';
    const value = cache.get('k') as typeof original;
    expect(value).toEqual({ roles: ['user'], profile: { name: 'Ada' } });
    // (matched by message: structuredClone makes objects outside Jest's realm, so instanceof TypeError fails)
    expect(() => value.roles.push('admin')).toThrow(/not extensible/);
    expect(() => {
      (value.profile as { name: string }).name = 'Eve';
    }).toThrow(/read only/);
  });

  it('writes puts and deletes of one write() together', async () => {
    const { cache } = localCache({ ttl: MIN });
    await cache.put('old', 1);
    await cache.write({ put: [['new', 2]], delete: ['old'] });
    expect(cache.all(ANY)).toEqual([['new', 2]]);
  });
});
