import { ManualClock } from './clock';
import type { EntryState } from './entry';
import { Store } from './store';
import { TimedSlice } from '../util/slices';

const MIN = 60_000;

function twoNodes() {
  const clock = new ManualClock();
  const a = new Store('a@h', clock);
  const b = new Store('b@h', clock);
  return { clock, a, b, ta: a.addTable('t', 'replicated'), tb: b.addTable('t', 'replicated') };
}

describe('Store', () => {
  it('gives every op of one write the same version, newer than what the node saw', () => {
    const { a, ta, clock } = twoNodes();
    const s = a.write(ta, [
      { ns: 'n', key: 'x', value: 1, expiresAt: clock.now() + MIN },
      { ns: 'n', key: 'y', delete: true, keepUntil: 0 },
    ]);
    expect(s[0].version).toBe(s[1].version);
    expect(a.write(ta, [{ ns: 'n', key: 'x', value: 2, expiresAt: clock.now() + MIN }])[0].version).toBeGreaterThan(s[0].version);
  });

  it('keeps a tombstone until the deleted entry would have expired, then collects it', () => {
    const { a, ta, clock } = twoNodes();
    a.write(ta, [{ ns: 'n', key: 'x', value: 1, expiresAt: clock.now() + 10 * MIN }]);
    const [tomb] = a.write(ta, [{ ns: 'n', key: 'x', delete: true, keepUntil: clock.now() + MIN }]);
    expect(tomb.value).toBeUndefined();
    expect(tomb.expiresAt).toBe(clock.now() + 10 * MIN);
    clock.advance(9 * MIN);
    expect(ta.sweep()).toEqual([]);
    expect(ta.current('n', 'x')).toBe(tomb);
    clock.advance(MIN + 1000);
    expect(ta.sweep()).toEqual([tomb]);
    expect(ta.current('n', 'x')).toBeUndefined();
  });

  it('lets go of overwritten states at a sweep once a quarter of their expiry second is overwritten, and still expires the rest', () => {
    const { a, ta, clock } = twoNodes();
    const later = clock.now() + 10 * MIN;
    for (let i = 0; i < 12_000; i++) a.write(ta, [{ ns: 'n', key: `k${i}`, value: i, expiresAt: later }]);
    for (let i = 0; i < 2_999; i++) a.write(ta, [{ ns: 'n', key: `k${i}`, value: -i, expiresAt: clock.now() + MIN }]);
    expect(ta.listedForExpiry).toBe(14_999);
    ta.sweep();
    expect(ta.listedForExpiry).toBe(14_999); // 2,999 of the 12,000 listings of that second are stale: not yet
    a.write(ta, [{ ns: 'n', key: 'k2999', value: -2999, expiresAt: clock.now() + MIN }]);
    ta.sweep();
    expect(ta.listedForExpiry).toBe(12_000); // a quarter: that second keeps its 9,000 current states
    // Overwritten again, from the second they moved to: that one goes stale whole.
    for (let i = 0; i < 3_000; i++) a.write(ta, [{ ns: 'n', key: `k${i}`, value: 'last', expiresAt: clock.now() + 2 * MIN }]);
    ta.sweep();
    expect(ta.listedForExpiry).toBe(12_000);
    clock.advance(2 * MIN + 1000);
    const removed = ta.sweep();
    expect(removed.map((s) => s.key).sort()).toEqual(Array.from({ length: 3_000 }, (_, i) => `k${i}`).sort());
    expect(ta.current('n', 'k0')).toBeUndefined();
    expect(ta.current('n', 'k3000')?.value).toBe(3000);
    expect(ta.listedForExpiry).toBe(9_000);
    clock.advance(8 * MIN);
    expect(ta.sweep()).toHaveLength(9_000);
    expect(ta.listedForExpiry).toBe(0);
  });

  it('sweeps a slice at a time when given one, removing each expired state once and nothing live', () => {
    const { a, ta, clock } = twoNodes();
    for (let i = 0; i < 3_000; i++) a.write(ta, [{ ns: 'n', key: `k${i}`, value: i, expiresAt: clock.now() + (i % 3 === 0 ? 10 * MIN : MIN) }]);
    clock.advance(MIN + 1000);
    const removed: string[] = [];
    const slice = new TimedSlice(0); // over every 256 states
    let calls = 0;
    do {
      removed.push(...ta.sweep(clock.now(), undefined, slice).map((s) => s.key as string));
      slice.next();
      calls++;
    } while (!ta.sweepDone);
    expect(calls).toBeGreaterThan(3);
    expect(removed.sort()).toEqual(Array.from({ length: 3_000 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `k${i}`).sort());
    expect(ta.size).toBe(1_000);
    expect(ta.listedForExpiry).toBe(1_000);
  });

  it('keeps one key object per entry when it is overwritten, locally or from a peer', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const key = Object.freeze(['user', 'u1', 'h1']);
    a.write(ta, [{ ns: 'n', key, value: 1, expiresAt: clock.now() + MIN }]);
    // Equal copies of the key, as a caller or the wire hands them over: the stored one stays.
    const [local] = a.write(ta, [{ ns: 'n', key: Object.freeze(['user', 'u1', 'h1']), value: 2, expiresAt: clock.now() + MIN }]);
    expect(local.key).toBe(key);
    expect(ta.current('n', key)?.key).toBe(key);
    b.merge(tb, [{ ...local, key: Object.freeze(['user', 'u1', 'h1']) }]);
    const stored = tb.current('n', key)!.key;
    const [newer] = a.write(ta, [{ ns: 'n', key, value: 3, expiresAt: clock.now() + MIN }]);
    b.merge(tb, [{ ...newer, key: Object.freeze(['user', 'u1', 'h1']) }]);
    expect(tb.current('n', key)?.value).toBe(3);
    expect(tb.current('n', key)?.key).toBe(stored);
  });

  it('lets the newer of two concurrent writes win on both nodes (last writer wins)', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const sa = a.write(ta, [{ ns: 'n', key: 'k', value: 'a', expiresAt: clock.now() + MIN }]);
    clock.advance(1);
    const sb = b.write(tb, [{ ns: 'n', key: 'k', value: 'b', expiresAt: clock.now() + MIN }]);
    a.merge(ta, sb);
    b.merge(tb, sa);
    expect(ta.current('n', 'k')?.value).toBe('b');
    expect(tb.current('n', 'k')?.value).toBe('b');
  });

  it('breaks version ties by node name', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const sa = a.write(ta, [{ ns: 'n', key: 'k', value: 'a', expiresAt: clock.now() + MIN }]);
    const sb = b.write(tb, [{ ns: 'n', key: 'k', value: 'b', expiresAt: clock.now() + MIN }]);
    expect(sa[0].version).toBe(sb[0].version);
    a.merge(ta, sb);
    b.merge(tb, sa);
    expect(ta.current('n', 'k')?.value).toBe('b');
    expect(tb.current('n', 'k')?.value).toBe('b');
  });

  it('lets a delete win over a concurrent write that had not seen it, even a newer one', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const put = a.write(ta, [{ ns: 'n', key: 's', value: 'session', expiresAt: clock.now() + 30 * MIN }]);
    b.merge(tb, put);
    // Split: a revokes, b renews later in wall time without having seen the revoke.
    const del = a.write(ta, [{ ns: 'n', key: 's', delete: true, keepUntil: 0 }]);
    clock.advance(5_000);
    const renew = b.write(tb, [{ ns: 'n', key: 's', value: 'renewed', expiresAt: clock.now() + 30 * MIN }]);
    expect(renew[0].version).toBeGreaterThan(del[0].version);
    a.merge(ta, renew);
    b.merge(tb, del);
    expect(ta.current('n', 's')?.value).toBeUndefined();
    expect(tb.current('n', 's')?.value).toBeUndefined();
  });

  it('lets a write that saw the delete win over it', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const del = a.write(ta, [{ ns: 'n', key: 's', delete: true, keepUntil: clock.now() + MIN }]);
    b.merge(tb, del);
    clock.advance(1);
    const again = b.write(tb, [{ ns: 'n', key: 's', value: 'new', expiresAt: clock.now() + MIN }]);
    clock.advance(1);
    const again2 = b.write(tb, [{ ns: 'n', key: 's', value: 'newer', expiresAt: clock.now() + MIN }]);
    a.merge(ta, [...again, ...again2]);
    expect(ta.current('n', 's')?.value).toBe('newer');
    expect(again2[0].seen).toBe(del[0].version);
  });

  it('converges to the same state whatever order states arrive in', () => {
    // Random histories on three nodes, merged in random orders: the result per key must not depend on the order.
    const clock = new ManualClock();
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const nodes = ['a', 'b', 'c'].map((n) => new Store(n, clock));
    const tables = nodes.map((n) => n.addTable('t', 'replicated'));
    const history: EntryState[] = [];
    for (let step = 0; step < 400; step++) {
      const i = rand(3);
      clock.advance(rand(3));
      const key = `k${rand(4)}`;
      const op = rand(3) === 0
        ? { ns: 'n', key, delete: true as const, keepUntil: clock.now() + 10 * MIN }
        : { ns: 'n', key, value: step, expiresAt: clock.now() + 10 * MIN };
      history.push(...nodes[i].write(tables[i], [op]));
      if (rand(4) === 0) { // occasional partial sync
        const j = rand(3);
        nodes[j].merge(tables[j], history.slice(-rand(10)));
      }
    }
    const finals = [0, 1, 2].map(() => {
      const store = new Store('x', clock);
      const table = store.addTable('t', 'replicated');
      const shuffled = [...history];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rand(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      store.merge(table, shuffled);
      return ['k0', 'k1', 'k2', 'k3'].map((k) => table.current('n', k));
    });
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
  });

  it('never installs an expired state and lets a new write replace an expired tombstone', () => {
    const { a, b, ta, tb, clock } = twoNodes();
    const old = a.write(ta, [{ ns: 'n', key: 'k', value: 1, expiresAt: clock.now() + 1000 }]);
    clock.advance(2000);
    expect(b.merge(tb, old)).toEqual([]);
    const del = a.write(ta, [{ ns: 'n', key: 'k', delete: true, keepUntil: clock.now() + 1000 }]);
    b.merge(tb, del);
    clock.advance(2000);
    const fresh = { ns: 'n', key: 'k', value: 2, expiresAt: clock.now() + MIN, version: 1, seen: 0, origin: 'c' };
    expect(b.merge(tb, [fresh])).toEqual([fresh]);
  });
});
