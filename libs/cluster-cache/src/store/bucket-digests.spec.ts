import { atOnce, SLICE } from '../util/slices';
import { EncodedValue } from '../values/encoded-value';
import { encodeValue } from '../values/value-codec';
import { BucketDigests, bucketOf, MAX_BUCKETS } from './bucket-digests';
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

/**
 * Runs `table.prepareDigests()`, calling `between(turn)` between event-loop
 * turns; returns the calls of `spies` (states the digests took in) per turn.
 */
async function digestsPerTurn(table: Table, spies: jest.SpyInstance[], between: (turn: number) => void): Promise<number[]> {
  const perTurn: number[] = [];
  let done = false;
  let turn = 0;
  const spin = () => {
    perTurn.push(spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0));
    spies.forEach((spy) => spy.mockClear());
    between(turn++);
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  try {
    await table.prepareDigests();
  } finally {
    done = true;
    spies.forEach((spy) => spy.mockRestore());
  }
  return perTurn;
}

describe('Table.liveDigests (bucket digests kept up to date on every change)', () => {
  it('equals a from-scratch digest after random writes (one op or two, on one key or two), deletes, merges, expiry, sweeps and flushes', () => {
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
      // Some writes carry a second op, often on the same key (each replaces what the key holds by then).
      if (action < 5) a.write(ta, rand(4) === 0 ? [op, { ns, key: rand(2) === 0 ? key : keys[rand(keys.length)], value: -step, expiresAt: clock.now() + ttl }] : [op]);
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

  it('is made a slice of states per event-loop turn by prepareDigests, exact although the table changes in between', async () => {
    const clock = new ManualClock();
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    const n = 3 * SLICE + 7;
    for (let i = 0; i < n; i += 1000) {
      store.write(table, Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ ns: 'n', key: `k${i + j}`, value: i + j, expiresAt: clock.now() + (i + j < 500 ? 1000 : MIN) })));
    }
    // States the digests take in per event-loop turn (a full scan of a large table in one turn blocks heartbeats).
    const perTurn = await digestsPerTurn(table, [jest.spyOn(BucketDigests.prototype, 'add')], (turn) => {
      // Between slices: overwrites of states added already and of states not added yet, removals, new keys.
      if (turn === 1) {
        store.write(table, [{ ns: 'n', key: 'k1', value: 'new', expiresAt: clock.now() + MIN }]);
        store.write(table, [{ ns: 'n', key: `k${n - 1}`, value: 'new', expiresAt: clock.now() + MIN }]);
        store.write(table, [{ ns: 'n', key: 'brand-new', value: 1, expiresAt: clock.now() + MIN }]);
        store.write(table, [{ ns: 'n', key: `k${n - 2}`, delete: true, keepUntil: clock.now() + MIN }]);
        clock.advance(2000);
        expect(table.sweep().length).toBe(499); // k0..k499 but k1 expired
      }
    });
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(SLICE + 4); // a slice, and the four writes made during the turn
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
    expect(firstDifference(table.liveDigests(MAX_BUCKETS), fromScratch(table, MAX_BUCKETS, clock.now()))).toBe(-1);
  }, 30_000);

  it('adds states at rest by their records a slice per turn, exact through writes, wakes, sweeps and a compaction in between', async () => {
    const clock = new ManualClock();
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    const n = 3 * SLICE + 7;
    const bytes = (key: string, value: unknown, expiresAt: number, version: number): EntryState => {
      const encoded = encodeValue(value);
      return { ns: 'n', key, value: new EncodedValue(encoded, 0, encoded.length), expiresAt, version, seen: 0, origin: 'b@h' };
    };
    for (let i = 0; i < n; i += 1000) {
      store.merge(table, Array.from({ length: Math.min(1000, n - i) }, (_, j) => bytes(`r${i + j}`, { i: i + j }, clock.now() + (i + j < 500 ? 1000 : MIN), 1e15 + i + j)));
    }
    store.write(table, [{ ns: 'n', key: 'live', value: 1, expiresAt: clock.now() + MIN }]);
    expect(table.namespace('n').resting.size).toBe(n);
    const spies = [jest.spyOn(BucketDigests.prototype, 'add'), jest.spyOn(BucketDigests.prototype, 'addHashed')];
    const perTurn = await digestsPerTurn(table, spies, (turn) => {
      if (turn === 1) {
        // Records added already and not yet: overwritten here and by a peer, read (woken), deleted; a new key; a sweep.
        store.write(table, [{ ns: 'n', key: 'r600', value: 'new', expiresAt: clock.now() + MIN }]);
        store.write(table, [{ ns: 'n', key: `r${n - 1}`, value: 'new', expiresAt: clock.now() + MIN }]);
        store.merge(table, [bytes('r700', 'newer', clock.now() + MIN, 2e15), bytes(`r${n - 3}`, 'newer', clock.now() + MIN, 2e15)]);
        expect(table.current('n', `r${n - 4}`)!.value).toEqual({ i: n - 4 });
        store.write(table, [{ ns: 'n', key: `r${n - 2}`, delete: true, keepUntil: clock.now() + MIN }]);
        store.write(table, [{ ns: 'n', key: 'brand-new', value: 1, expiresAt: clock.now() + MIN }]);
        clock.advance(2000);
        expect(table.sweep().length).toBe(500);
      }
      // Records move, and the chunks they left are freed (and may be reused) before the digests have added them.
      if (turn === 2) atOnce(table.compaction());
    });
    expect(perTurn.filter((count) => count > 0).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(SLICE + 12); // a slice, and the writes made during the turn
    for (const count of [64, MAX_BUCKETS]) expect(firstDifference(table.liveDigests(count), fromScratch(table, count, clock.now()))).toBe(-1);
  }, 30_000);

  it('is finished at once by liveDigests, and dropped by clear, while prepareDigests is under way', async () => {
    const clock = new ManualClock();
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    const fill = (tag: string) => {
      for (let i = 0; i < SLICE + 1000; i += 1000) store.write(table, Array.from({ length: 1000 }, (_, j) => ({ ns: 'n', key: `${tag}${i + j}`, value: i, expiresAt: clock.now() + MIN })));
    };
    fill('a');
    const preparing = table.prepareDigests();
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);
    await preparing;
    expect(firstDifference(table.liveDigests(64), fromScratch(table, 64, clock.now()))).toBe(-1);

    const empty = store.addTable('u', 'replicated').liveDigests(64);
    const other = store.addTable('v', 'replicated');
    for (let i = 0; i < SLICE + 1000; i += 1000) store.write(other, Array.from({ length: 1000 }, (_, j) => ({ ns: 'n', key: `b${i + j}`, value: i, expiresAt: clock.now() + MIN })));
    const cleared = other.prepareDigests();
    other.clear();
    await cleared;
    expect(firstDifference(other.liveDigests(64), empty)).toBe(-1);
    store.write(other, [{ ns: 'n', key: 'after', value: 1, expiresAt: clock.now() + MIN }]);
    expect(firstDifference(other.liveDigests(64), fromScratch(other, 64, clock.now()))).toBe(-1);
  }, 30_000);

  it('is kept for replicated tables only', () => {
    const store = new Store('a@h', new ManualClock());
    expect(() => store.addTable('jobs', 'local').liveDigests(64)).toThrow(/local/);
    return expect(store.addTable('queue', 'local').prepareDigests()).rejects.toThrow(/local/);
  });
});
