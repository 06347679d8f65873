import { bucketOf, MAX_BUCKETS } from './bucket-digests';
import { ManualClock } from './clock';
import type { EntryState } from './entry';
import type { NormalKey } from './key';
import { keyHash, stateHash } from './state-hash';
import { Store } from './store';
import type { Table } from './table';

const MIN = 60_000;

/** The digests computed from scratch over the table's live states: what the kept-up-to-date ones must equal. */
function fromScratch(table: Table, count: number, now: number): Uint32Array {
  const digests = new Uint32Array(count * 2);
  for (const state of table.states()) {
    if (state.expiresAt <= now) continue;
    const key = keyHash(state.ns, state.key);
    const hash = stateHash(key, state);
    digests[2 * bucketOf(key, count)] += hash;
    digests[2 * bucketOf(key, count) + 1] ^= hash;
  }
  return digests;
}

/** The first bucket whose digests differ, or -1 (jest's toEqual is slow on large typed arrays). */
function firstDifference(x: Uint32Array, y: Uint32Array): number {
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i >> 1;
  return -1;
}

describe('Table.liveDigests (bucket digests kept up to date on every change)', () => {
  it('equals a from-scratch digest after random writes, deletes, merges, expiry, sweeps and flushes', () => {
    const clock = new ManualClock();
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const a = new Store('a@h', clock);
    const b = new Store('b@h', clock);
    const ta = a.addTable('t', 'replicated');
    const tb = b.addTable('t', 'replicated');
    const keys: NormalKey[] = ['k0', 'k1', 'k2', 7, -0, 0.5, Object.freeze(['user', 1, 's']), Object.freeze(['user', '1', 's']), Object.freeze(['x', 2])];
    const fromB: EntryState[] = [];
    let expiredUnswept = 0;
    for (let step = 0; step < 3000; step++) {
      clock.advance(rand(400));
      const key = keys[rand(keys.length)];
      const ns = rand(4) === 0 ? 'other' : 'n';
      const ttl = 200 + rand(3000);
      const op = rand(5) === 0 ? { ns, key, delete: true as const, keepUntil: clock.now() + rand(ttl) } : { ns, key, value: step, expiresAt: clock.now() + ttl };
      const action = rand(10);
      if (action < 5) a.write(ta, [op]);
      else if (action < 8) fromB.push(...b.write(tb, [op]));
      else if (action === 8) a.merge(ta, fromB.splice(0, rand(20)));
      else if (rand(8) === 0) ta.sweep();
      if (rand(400) === 0) {
        ta.clear();
        a.merge(ta, [...tb.states()]);
      }
      if ([...ta.states()].some((s) => s.expiresAt <= clock.now())) expiredUnswept++;
      for (const count of step % 100 === 0 ? [64, 1024, MAX_BUCKETS] : [64, 1024]) {
        expect(firstDifference(ta.liveDigests(count), fromScratch(ta, count, clock.now()))).toBe(-1);
      }
    }
    expect(expiredUnswept).toBeGreaterThan(100);
  });

  it('leaves out states that expired but were not swept, and counts nothing twice', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    const empty = table.liveDigests(64);
    store.write(table, [{ ns: 'n', key: 'short', value: 1, expiresAt: clock.now() + 100 }]);
    store.write(table, [{ ns: 'n', key: 'long', value: 1, expiresAt: clock.now() + 10 * MIN }]);
    // Overwritten within the same expiry second: the first state stays listed in the expiry index.
    store.write(table, [{ ns: 'n', key: 'short', value: 2, expiresAt: clock.now() + 200 }]);
    clock.advance(300);
    expect(table.size).toBe(2);
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
    expect(firstDifference(table.liveDigests(64), empty)).not.toBe(-1);
    table.sweep();
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
    clock.advance(10 * MIN);
    expect(firstDifference(table.liveDigests(64), empty)).toBe(-1);
  });

  it('is made from the table on the first request, then kept up to date', () => {
    const clock = new ManualClock();
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    for (let i = 0; i < 100; i++) store.write(table, [{ ns: 'n', key: `k${i}`, value: i, expiresAt: clock.now() + MIN }]);
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
    for (let i = 50; i < 150; i++) store.write(table, [{ ns: 'n', key: `k${i}`, value: -i, expiresAt: clock.now() + MIN }]);
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
  });

  it('is kept for replicated tables only', () => {
    const store = new Store('a@h', new ManualClock());
    expect(() => store.addTable('jobs', 'local').liveDigests(64)).toThrow(/local/);
  });
});
