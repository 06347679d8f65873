import { localCache } from '../cache/testing/local-cache';
import { LiveValues } from './live-values';

const SEC = 1000;
const MIN = 60 * SEC;
/** The fast-read window an engine sweep opens: twice localCache's 1 s sweep interval, plus 1 s. */
const WINDOW = 3 * SEC;

const state = (value: unknown, expiresAt: number) => ({ ns: 'n', key: 'k', value, expiresAt, version: 1, seen: 0, origin: 'a' });

describe('LiveValues', () => {
  it('holds a value only when filled before `until` and live until then, and answers only before `until`', () => {
    const live = new LiveValues();
    live.fill('k', state('v', 10_000), 0);
    expect(live.get('k', 0)).toBeUndefined(); // until = 0: nothing is surely live yet, nothing was held
    live.extend(5_000);
    live.fill('k', state('v', 10_000), 5_000); // a read at `until` is too late to fill
    expect(live.get('k', 4_999)).toBeUndefined();
    live.fill('k', state('v', 10_000), 100);
    expect(live.get('k', 4_999)).toBe('v');
    expect(live.get('k', 5_000)).toBeUndefined();
    live.drop('k');
    live.fill('k', state('short', 4_000), 100); // expires before `until`
    expect(live.get('k', 100)).toBeUndefined();
    live.fill('k', state(undefined, 20_000), 100); // a tombstone
    expect(live.get('k', 100)).toBeUndefined();
    live.extend(1_000); // never moves back
    expect(live.until).toBe(5_000);
  });
});

describe('ClusterCache reads through LiveValues (after a sweep)', () => {
  async function swept() {
    const local = localCache({ ttl: 30 * MIN });
    const { cache, engine, table } = local;
    await cache.put('long', 'L');
    await cache.put('short', 'S', { ttl: 2 * SEC });
    engine.sweep();
    return { ...local, live: table.namespace('cache').live, cache };
  }

  it('serves long-lived values from the fast path once read, and keeps soon-expiring ones out of it', async () => {
    const { cache, clock, live } = await swept();
    expect(live.get('long', clock.now())).toBeUndefined(); // never read: no slot
    expect(cache.get('long')).toBe('L');
    expect(live.get('long', clock.now())).toBe('L');
    expect(live.get('short', clock.now())).toBeUndefined();
    expect(cache.get('short')).toBe('S');
    clock.advance(2 * SEC);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('long')).toBe('L');
  });

  it('sees overwrites, deletes and short TTLs written after the sweep', async () => {
    const { cache, clock, live } = await swept();
    expect(cache.get('long')).toBe('L');
    await cache.put('long', 'L2');
    expect(live.get('long', clock.now())).toBeUndefined(); // the overwrite dropped the old value
    expect(cache.get('long')).toBe('L2');
    expect(live.get('long', clock.now())).toBe('L2');
    await cache.put('long', 'brief', { ttl: SEC });
    expect(live.get('long', clock.now())).toBeUndefined();
    clock.advance(SEC);
    expect(cache.get('long')).toBeUndefined();
    await cache.put('other', 'O');
    await cache.delete('other');
    expect(cache.get('other')).toBeUndefined();
  });

  it('sees states merged from another node and a flush', async () => {
    const { cache, engine, table, clock } = await swept();
    expect(cache.get('long')).toBe('L');
    const b = localCache({ ttl: 30 * MIN, node: 'b@127.0.0.1', clock });
    await b.cache.put('long', 'from b');
    engine.merge(table, [b.table.current('cache', 'long')!]);
    expect(cache.get('long')).toBe('from b');
    table.clear();
    expect(cache.get('long')).toBeUndefined();
  });

  it('falls back to the state when no sweep ran for longer than the window', async () => {
    const { cache, clock, live } = await swept();
    expect(cache.get('long')).toBe('L');
    clock.advance(WINDOW);
    expect(live.get('long', clock.now())).toBeUndefined();
    expect(cache.get('long')).toBe('L');
    clock.advance(30 * MIN);
    expect(cache.get('long')).toBeUndefined();
  });

  it('is not fooled by an older state of the key still listed for expiry', async () => {
    const { cache, engine, clock, live } = await swept();
    await cache.put('k', 'old', { ttl: 2 * SEC });
    await cache.put('k', 'new'); // the old state stays in its expiry bucket
    expect(cache.get('k')).toBe('new');
    engine.sweep();
    expect(live.get('k', clock.now())).toBe('new');
  });
});
