import { Test } from '@nestjs/testing';
import { ANY, ClusterCache } from '@app/cluster-cache';
import { ClusterCacheTestingModule, ManualClock } from '@app/cluster-cache/testing';
import { ClusterThrottlerStorage } from './cluster-throttler-storage';

const MINUTE = 60_000;

describe('ClusterThrottlerStorage', () => {
  let clock: ManualClock;
  let cache: ClusterCache;
  let close: () => Promise<void>;

  beforeEach(async () => {
    clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({ imports: [ClusterCacheTestingModule.forRoot({ clock, ttl: MINUTE })] }).compile();
    cache = moduleRef.get(ClusterCache).namespace('throttle');
    close = () => moduleRef.close();
  });

  afterEach(() => close());

  /** `n` hits of `key` on `storage`, one after the other; the records. */
  async function hit(storage: ClusterThrottlerStorage, n: number, key = 'k', limit = 10) {
    const records = [];
    for (let i = 0; i < n; i++) records.push(await storage.increment(key, MINUTE, limit, MINUTE, 'default'));
    return records;
  }

  it('lets `limit` hits through in a window, blocks the next for blockDuration, then starts afresh', async () => {
    const storage = new ClusterThrottlerStorage(cache, 'a@127.0.0.1');
    const first = await hit(storage, 10);
    expect(first.map((r) => r.totalHits)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.every((r) => !r.isBlocked && r.timeToExpire === 60)).toBe(true);
    const eleventh = await storage.increment('k', MINUTE, 10, MINUTE, 'default');
    expect(eleventh).toEqual({ totalHits: 11, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 60 });
    clock.advance(30_000);
    expect(await storage.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
    // Other keys and other throttlers are counted apart.
    expect(await storage.increment('other', MINUTE, 10, MINUTE, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await storage.increment('k', MINUTE, 10, MINUTE, 'another')).toMatchObject({ totalHits: 1, isBlocked: false });
    clock.advance(30_000);
    expect(await storage.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('slides its window: a hit counts for ttl ms after it was made', async () => {
    const storage = new ClusterThrottlerStorage(cache, 'a@127.0.0.1');
    await hit(storage, 5);
    clock.advance(40_000);
    const later = await hit(storage, 5);
    expect(later.at(-1)).toMatchObject({ totalHits: 10, isBlocked: false, timeToExpire: 20 });
    expect(await storage.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ isBlocked: true });
    clock.advance(MINUTE);
    // The first five went out of the window 40 s ago, the next five now.
    expect(await storage.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('counts the hits of every node, each node writing only its own entry', async () => {
    const a = new ClusterThrottlerStorage(cache, 'a@127.0.0.1');
    const b = new ClusterThrottlerStorage(cache, 'b@127.0.0.1');
    const totals: number[] = [];
    for (let i = 0; i < 5; i++) {
      totals.push((await a.increment('k', MINUTE, 10, MINUTE, 'default')).totalHits);
      totals.push((await b.increment('k', MINUTE, 10, MINUTE, 'default')).totalHits);
    }
    expect(totals).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await a.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ totalHits: 11, isBlocked: true });
    // The block is seen on the other node at once.
    expect(await b.increment('k', MINUTE, 10, MINUTE, 'default')).toMatchObject({ isBlocked: true });
    const keys = cache.all(['hits', ANY, ANY]).map(([key]) => key);
    expect(keys).toEqual([
      ['hits', 'default:k', 'a@127.0.0.1'],
      ['hits', 'default:k', 'b@127.0.0.1'],
    ]);
  });

  it('loses no hit when one node counts several requests at once', async () => {
    const storage = new ClusterThrottlerStorage(cache, 'a@127.0.0.1');
    const records = await Promise.all(Array.from({ length: 8 }, () => storage.increment('k', MINUTE, 10, MINUTE, 'default')));
    expect(records.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps at most limit + 1 hit times per node and key, and nothing once they expired', async () => {
    const storage = new ClusterThrottlerStorage(cache, 'a@127.0.0.1');
    await hit(storage, 11, 'k', 3);
    expect(cache.get(['hits', 'default:k', 'a@127.0.0.1'])).toHaveLength(4);
    await hit(storage, 2, 'k2', 3);
    expect(cache.get(['hits', 'default:k2', 'a@127.0.0.1'])).toHaveLength(2);
    clock.advance(MINUTE);
    expect(cache.all(['hits', ANY, ANY])).toEqual([]);
    expect(cache.all(['blocked', ANY])).toEqual([]);
  });
});
