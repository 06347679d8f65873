import { ManualClock } from '../clock';
import { type EntryState, isTombstone } from '../entry';
import { Store } from '../store';
import { atOnce, TimedSlice } from '../../util/slices';
import { EncodedValue } from '../../values/encoded-value';
import { encodeValue } from '../../values/value-codec';
import { RestingState } from './resting-state';

const MIN = 60_000;

function node(name = 'a@h') {
  const clock = new ManualClock();
  const store = new Store(name, clock);
  const table = store.addTable('t', 'replicated');
  return { clock, store, table, ns: table.namespace('n') };
}

function asBytes(key: EntryState['key'], value: unknown, expiresAt: number, version = 1): EntryState {
  const bytes = encodeValue(value);
  return { ns: 'n', key, value: new EncodedValue(bytes, 0, bytes.length), expiresAt, version, seen: 0, origin: 'b@h' };
}

const keyOf = (i: number) => `session-${i.toString(36).padStart(8, '0')}`;

describe('the resting index (string keys at rest without an object per key)', () => {
  it('holds Latin-1 string keys in its slots and every other key in the Map, and reads them all', () => {
    const { clock, store, table, ns } = node();
    const N = 5000;
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), { i }, clock.now() + MIN)));
    store.merge(table, [asBytes(42, 'number', clock.now() + MIN), asBytes(['a', 1], 'array', clock.now() + MIN), asBytes('clé€', 'wide chars', clock.now() + MIN), asBytes('café', 'latin-1', clock.now() + MIN)]);
    expect(ns.resting.size).toBe(N + 1);
    expect(ns.scalars.size).toBe(2);
    expect(table.size).toBe(N + 4);
    for (let i = 0; i < N; i += 7) expect(table.current('n', keyOf(i))!.value).toEqual({ i });
    expect([42, ['a', 1], 'clé€', 'café'].map((k) => table.current('n', k)!.value)).toEqual(['number', 'array', 'wide chars', 'latin-1']);
    expect(table.current('n', 'session-absent')).toBeUndefined();
    // The reads woke what they read: those keys moved to the Map, the rest still rests.
    expect(ns.resting.size).toBe(N - Math.ceil(N / 7));
    expect(table.size).toBe(N + 4);
    let scanned = 0;
    for (const _ of table.states()) scanned++;
    expect(scanned).toBe(N + 4);
  });

  it('replaces a resting state by newer bytes, by a local write and by a delete, and bytes replace a live state', () => {
    const { clock, store, table, ns } = node();
    store.merge(table, ['a', 'b', 'c'].map((k) => asBytes(k, `${k}1`, clock.now() + MIN, 5)));
    store.merge(table, [asBytes('a', 'a0', clock.now() + MIN, 4), asBytes('a', 'a2', clock.now() + MIN, 6)]);
    expect(table.current('n', 'a')!.version).toBe(6);
    const [put] = store.write(table, [{ ns: 'n', key: 'b', value: 'b-local', expiresAt: clock.now() + MIN }]);
    expect(table.current('n', 'b')).toBe(put);
    const [tomb] = store.write(table, [{ ns: 'n', key: 'c', delete: true, keepUntil: 0 }]);
    expect(isTombstone(table.current('n', 'c')!)).toBe(true);
    expect(ns.resting.size).toBe(1);
    // Newer bytes over the live write: the key rests again, out of the Map.
    store.merge(table, [asBytes('b', 'b-peer', clock.now() + MIN, put.version + 1)]);
    expect(ns.scalars.has('b')).toBe(false);
    expect(table.current('n', 'b')).toBeInstanceOf(RestingState);
    expect(table.current('n', 'b')!.value).toBe('b-peer');
    expect(table.current('n', 'a')!.value).toBe('a2');
    expect(tomb.expiresAt).toBe(clock.now() + MIN);
    expect(table.size).toBe(3);
  });

  it('gives back what a stale object read without waking it: the table keeps the newer state', () => {
    const { clock, store, table, ns } = node();
    store.merge(table, [asBytes('k', 'old', clock.now() + MIN, 1)]);
    const stale = table.current('n', 'k')!;
    store.merge(table, [asBytes('k', 'new', clock.now() + MIN, 2)]);
    expect(stale.value).toBe('old');
    expect(ns.resting.size).toBe(1);
    expect(table.current('n', 'k')!.value).toBe('new');
    expect(ns.resting.size).toBe(0);
  });

  it('expires, digests and observes entries that were never read, through record references', () => {
    const { clock, store, table, ns } = node();
    const other = node();
    const installed: string[] = [];
    const removed: string[] = [];
    ns.observe({ installed: (s) => installed.push(s.key as string), removed: (s) => removed.push(s.key as string), cleared: () => undefined });
    const states = Array.from({ length: 300 }, (_, i) => asBytes(keyOf(i), { i }, clock.now() + (i % 3 === 0 ? 2000 : MIN)));
    store.merge(table, states);
    other.store.merge(other.table, states.map((s) => ({ ...s, value: { i: Number.parseInt((s.key as string).slice(8), 36) } })));
    expect(installed).toHaveLength(300);
    expect(table.liveDigests(64)).toEqual(other.table.liveDigests(64));
    clock.advance(3000);
    other.clock.advance(3000);
    // Expired, not swept yet: left out of the digests all the same.
    expect(table.liveDigests(64)).toEqual(other.table.liveDigests(64));
    const swept = table.sweep();
    expect(swept.map((s) => s.key).sort()).toEqual(states.filter((_, i) => i % 3 === 0).map((s) => s.key).sort());
    expect(swept.every((s) => s instanceof RestingState && !s.wasRead)).toBe(true);
    expect(removed.sort()).toEqual(swept.map((s) => s.key as string).sort());
    expect(ns.resting.size).toBe(200);
    other.table.sweep();
    expect(table.liveDigests(64)).toEqual(other.table.liveDigests(64));
  });

  it('filters the listings of woken records out of the expiry index once a quarter of their second is stale, and expires the woken states', () => {
    const { clock, store, table, ns } = node();
    const N = 3000;
    const expiresAt = clock.now() + MIN; // one second of the expiry index
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), { i }, expiresAt)));
    expect(table.listedForExpiry).toBe(N);
    // A read wakes a record into an object, listed anew: its record's listing is stale.
    const woken = N / 3; // a quarter of the N + woken listings
    for (let i = 0; i < woken - 1; i++) table.current('n', keyOf(i))!.value;
    table.sweep();
    expect(table.listedForExpiry).toBe(N + woken - 1); // not a quarter yet
    table.current('n', keyOf(woken - 1))!.value;
    table.sweep();
    expect(table.listedForExpiry).toBe(N);
    expect(ns.resting.size).toBe(N - woken);
    clock.advance(MIN + 1000);
    expect(table.sweep()).toHaveLength(N);
    expect(table.size).toBe(0);
    expect(table.listedForExpiry).toBe(0);
  });

  it('keeps every reference right through growth, compaction, an expiry index tidied and a flush', () => {
    const { clock, store, table, ns } = node();
    const N = 20_000;
    const big = (i: number, round: number) => ({ i, round, pad: 'x'.repeat(150) });
    const expected = new Map<string, unknown>();
    for (let round = 0; round < 3; round++) {
      store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), big(i, round), clock.now() + MIN + i, round + 1)));
      for (let i = 0; i < N; i++) expected.set(keyOf(i), big(i, round));
    }
    // Three records per key, two dropped: the slab wants a compaction, and the expiry index lists 3N.
    expect(table.wantsCompaction).toBe(true);
    expect(table.listedForExpiry).toBe(3 * N);
    // A sweep filters the overwritten records out of the expiry index: references stay references.
    table.sweep();
    expect(table.listedForExpiry).toBe(N);
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), big(i, 3), clock.now() + MIN + i, 4)));
    for (let i = 0; i < N; i++) expected.set(keyOf(i), big(i, 3));
    const before = table.slabBytes;
    const steps = table.compaction(0);
    let turn = 0;
    for (let step = steps.next(); !step.done; step = steps.next(), turn++) {
      // Between slices: new keys (the slots grow), overwrites by bytes and live writes, reads.
      if (turn < 30) {
        store.merge(table, [asBytes(`new-${turn}`, turn, clock.now() + MIN), asBytes(keyOf(turn * 7), big(turn * 7, 9), clock.now() + MIN, 10)]);
        expected.set(`new-${turn}`, turn);
        expected.set(keyOf(turn * 7), big(turn * 7, 9));
        store.write(table, [{ ns: 'n', key: keyOf(turn * 7 + 1), value: 'local', expiresAt: clock.now() + MIN }]);
        expected.set(keyOf(turn * 7 + 1), 'local');
        expect(table.current('n', keyOf(turn * 11 + 3))!.value).toEqual(expected.get(keyOf(turn * 11 + 3)));
      }
    }
    expect(turn).toBeGreaterThan(30);
    expect(table.slabBytes).toBeLessThan(0.6 * before); // a third of the records counts; new chunks are whole 4 MiB ones
    // The compaction unlisted the references of records the table let go of.
    expect(table.listedForExpiry).toBeLessThan(1.01 * table.size);
    for (const [key, value] of expected) expect(table.current('n', key)!.value).toEqual(value);
    clock.advance(2 * MIN);
    expect(table.sweep()).toHaveLength(expected.size);
    expect(table.size).toBe(0);
    expect(ns.resting.size).toBe(0);
    store.merge(table, [asBytes('after', 1, clock.now() + MIN)]);
    table.clear();
    expect(table.size).toBe(0);
    expect(atOnce(table.compaction())).toBeUndefined();
  });

  it('lets a scan that yields see every key held throughout, while keys are added past a growth of its slots', () => {
    const { clock, store, table, ns } = node();
    const N = 1000;
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), i, clock.now() + MIN)));
    const seen = new Set<unknown>();
    let added = 0;
    for (const state of ns.states()) {
      seen.add(state.key);
      if (added < 5 * N) {
        store.merge(table, Array.from({ length: 50 }, (_, j) => asBytes(`extra-${added + j}`, 0, clock.now() + MIN)));
        added += 50;
      }
      // Writes over keys already seen and not seen: the scan carries on.
      if (seen.size % 97 === 0) store.write(table, [{ ns: 'n', key: keyOf(seen.size % N), value: 'w', expiresAt: clock.now() + MIN }]);
    }
    for (let i = 0; i < N; i++) if (table.current('n', keyOf(i)) instanceof RestingState) expect(seen.has(keyOf(i))).toBe(true);
    expect(ns.resting.size).toBeGreaterThan(5 * N);
  });

  it('gives its slots back once most keys left, at the sweep after', () => {
    const { clock, store, table, ns } = node();
    const N = 10_000;
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), i, clock.now() + (i < N - 10 ? 1000 : MIN))));
    const full = ns.resting.slots;
    expect(full).toBeGreaterThanOrEqual(2 * N);
    clock.advance(2000);
    table.sweep();
    expect(ns.resting.size).toBe(10);
    expect(ns.resting.slots).toBeLessThan(full / 100);
    for (let i = N - 10; i < N; i++) expect(table.current('n', keyOf(i))!.value).toBe(i);
  });

  it('gives its slots back a slice at a time, keeping every key set, replaced, moved or deleted between the slices', () => {
    const { clock, store, table, ns } = node();
    const N = 20_000;
    const LEFT = 2000;
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), i, clock.now() + (i < N - LEFT ? 1000 : MIN), 2)));
    const full = ns.resting.slots;
    const expected = new Map<string, unknown>();
    for (let i = N - LEFT; i < N; i++) expected.set(keyOf(i), i);
    clock.advance(2000);
    const tidying = () => (ns.resting as unknown as { tidying?: unknown }).tidying !== undefined;
    const slice = new TimedSlice(0); // over every 256 steps
    let between = 0;
    let next = N;
    for (let calls = 0; ; calls++) {
      expect(calls).toBeLessThan(1000);
      slice.next();
      table.sweep(clock.now(), undefined, slice);
      if (table.sweepDone) break;
      if (!tidying()) continue;
      // Between two slices of the tidy: new keys, newer bytes over old ones, a read (the key leaves for the Map), a delete.
      between++;
      // Each kind of change has a quarter of the keys left to itself.
      const quarter = LEFT / 4;
      const fresh = [next++, next++, next++];
      store.merge(table, fresh.map((i) => asBytes(keyOf(i), i, clock.now() + MIN, 2)));
      for (const i of fresh) expected.set(keyOf(i), i);
      const old = N - LEFT + ((between * 7) % quarter);
      store.merge(table, [asBytes(keyOf(old), `newer ${between}`, clock.now() + MIN, 3 + between)]);
      expected.set(keyOf(old), `newer ${between}`);
      const read = N - LEFT + quarter + ((between * 13) % quarter);
      expect(table.current('n', keyOf(read))!.value).toBe(expected.get(keyOf(read)));
      const gone = N - LEFT + 2 * quarter + ((between * 29) % quarter);
      store.write(table, [{ ns: 'n', key: keyOf(gone), delete: true, keepUntil: 0 }]);
      expected.set(keyOf(gone), undefined);
      // Records moved by a compaction meanwhile.
      if (between === 3) atOnce(table.compaction());
    }
    expect(between).toBeGreaterThan(3);
    expect(ns.resting.slots).toBeLessThan(full / 4);
    for (const [key, value] of expected) expect([key, table.current('n', key)?.value]).toEqual([key, value]);
    let resting = 0;
    ns.resting.forEach(() => resting++);
    expect(resting).toBe(ns.resting.size);
  });

  it('keeps its slots while a scan that began during a tidy runs, and swaps the new ones in at the sweep after', () => {
    const { clock, store, table, ns } = node();
    const N = 20_000;
    store.merge(table, Array.from({ length: N }, (_, i) => asBytes(keyOf(i), i, clock.now() + (i < N - 100 ? 1000 : MIN))));
    const full = ns.resting.slots;
    clock.advance(2000);
    const slice = new TimedSlice(0);
    let scan: IterableIterator<unknown> | undefined;
    for (let calls = 0; !table.sweepDone || scan === undefined; calls++) {
      expect(calls).toBeLessThan(1000);
      slice.next();
      table.sweep(clock.now(), undefined, slice);
      if (scan === undefined && ns.resting.size === 100 && !table.sweepDone) {
        scan = ns.resting.states();
        scan.next();
      }
    }
    expect(ns.resting.slots).toBe(full);
    scan.return!();
    table.sweep(clock.now(), undefined, slice);
    expect(table.sweepDone).toBe(true);
    expect(ns.resting.slots).toBeLessThan(full / 4);
    for (let i = N - 100; i < N; i++) expect(table.current('n', keyOf(i))!.value).toBe(i);
  });
});
