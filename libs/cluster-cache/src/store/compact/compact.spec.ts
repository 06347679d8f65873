import { ManualClock } from '../clock';
import type { EntryState } from '../entry';
import { isTombstone, sameState } from '../entry';
import { Store } from '../store';
import type { Table } from '../table';
import { atOnce } from '../../util/slices';
import { EncodedValue } from '../../values/encoded-value';
import { itemEnd, mapFieldStart } from '../../values/msgpack-walk';
import { readValue } from '../../values/leaves';
import { readProblems, VALUE_CASES } from '../../values/testing/value-set';
import { copyValue } from '../../values/value-copy';
import { decodeValue, encodeValue } from '../../values/value-codec';
import { decodeFlat } from '../../values/flat-decode';
import { StateCodec } from '../../persistence/state-codec';
import { fieldOf } from './field-of';
import { RestingState } from './resting-state';

const MIN = 60_000;

function node() {
  const clock = new ManualClock();
  const store = new Store('a@h', clock);
  return { clock, store, table: store.addTable('t', 'replicated') };
}

/** A state from elsewhere whose value came as its bytes. */
function asBytes(key: string, value: unknown, expiresAt: number, version = 1, ns = 'n', origin = 'b@h'): EntryState {
  const bytes = encodeValue(value);
  return { ns, key, value: new EncodedValue(bytes, 0, bytes.length), expiresAt, version, seen: 0, origin };
}

function resting(table: Table, key: string, ns = 'n'): RestingState {
  const state = table.current(ns, key);
  expect(state).toBeInstanceOf(RestingState);
  return state as RestingState;
}

describe('resting states (values held as bytes until read)', () => {
  it.each(VALUE_CASES.map((c) => [c.name, c] as const))('gives back %s as a put stores it, on the first read and after', async (_name, c) => {
    const { clock, store, table } = node();
    const stored = copyValue(c.input());
    const [installed] = store.merge(table, [asBytes('k', stored, clock.now() + MIN, 7)]);
    const state = resting(table, 'k');
    // Each lookup makes an object of the record: the same state, not the same object.
    expect(installed).toBeInstanceOf(RestingState);
    expect(sameState(installed, state)).toBe(true);
    expect(state.wasRead).toBe(false);
    expect(isTombstone(state)).toBe(false);
    expect([state.ns, state.key, state.expiresAt, state.version, state.seen, state.origin]).toEqual(['n', 'k', clock.now() + MIN, 7, 0, 'b@h']);
    const first = state.value;
    expect(state.wasRead).toBe(true);
    expect(await readProblems(() => readValue(state.value), (c.expected ?? c.input)())).toEqual([]);
    // Settled as every stored value is: frozen, the same object on every read.
    if (typeof first === 'object' && first !== null && !ArrayBuffer.isView(first) && !(first instanceof Date)) expect(Object.isFrozen(first)).toBe(true);
    expect(state.value).toBe(first);
    // Woken by its first read: the namespace holds a live state with that value, and the record no longer counts.
    const woken = table.current('n', 'k')!;
    // A value too large to share a chunk gets one of its own, and its state object holds the key: it stays that object.
    if (state.index === undefined) expect(woken).toBe(state);
    else expect(woken).not.toBeInstanceOf(RestingState);
    expect(woken.value).toBe(first);
    expect([woken.ns, woken.key, woken.expiresAt, woken.version, woken.seen, woken.origin]).toEqual(['n', 'k', clock.now() + MIN, 7, 0, 'b@h']);
    expect(table.size).toBe(1);
  });

  it('finds the end of every value the cache accepts without decoding it', () => {
    for (const c of VALUE_CASES) {
      const bytes = encodeValue(copyValue(c.input()));
      expect(itemEnd(bytes, 0)).toBe(bytes.length);
    }
  });

  it('reads one field of a resting value without decoding the rest, and none of a value that is not a map', () => {
    const { clock, store, table } = node();
    store.merge(table, [asBytes('s', { metadata: { a: [1, 2] }, userId: 'ada', createdAt: 5 }, clock.now() + MIN), asBytes('p', { rotatedTo: 'x' }, clock.now() + MIN), asBytes('l', [1, 'userId'], clock.now() + MIN)]);
    expect(fieldOf(resting(table, 's'), 'userId')).toBe('ada');
    expect(fieldOf(resting(table, 'p'), 'userId')).toBeUndefined();
    expect(fieldOf(resting(table, 'l'), 'userId')).toBeUndefined();
    for (const key of ['s', 'p', 'l']) expect(resting(table, key).wasRead).toBe(false);
    expect(mapFieldStart(encodeValue('userId'), 'userId')).toBe(-2);
    // A read value answers from the object.
    expect(resting(table, 's').value).toEqual({ metadata: { a: [1, 2] }, userId: 'ada', createdAt: 5 });
    expect(fieldOf(table.current('n', 's')!, 'createdAt')).toBe(5);
  });

  it('orders, digests and persists resting states like any other, without decoding them', () => {
    const { clock, store, table } = node();
    const other = node();
    store.merge(table, [asBytes('k', { v: 1 }, clock.now() + MIN, 5)]);
    other.store.merge(other.table, [{ ns: 'n', key: 'k', value: { v: 1 }, expiresAt: clock.now() + MIN, version: 5, seen: 0, origin: 'b@h' }]);
    // Same state, same digests: a resting state hashes as the live one.
    expect(table.liveDigests(16)).toEqual(other.table.liveDigests(16));
    // An older state loses, a newer one wins and drops the record.
    expect(store.merge(table, [asBytes('k', { v: 0 }, clock.now() + MIN, 4)])).toEqual([]);
    const codec = new StateCodec();
    const saved = codec.encode(resting(table, 'k'));
    expect(resting(table, 'k').wasRead).toBe(false);
    expect(codec.decode(saved.key, saved.value, saved.version).value).toEqual({ v: 1 });
    const asRecord = codec.decode(saved.key, saved.value, saved.version, true, true);
    expect(asRecord.value).toBeInstanceOf(EncodedValue);
    expect(decodeValue((asRecord.value as EncodedValue).bytes())).toEqual({ v: 1 });
    expect(saved).toEqual(new StateCodec().encode(other.table.current('n', 'k')!));
    store.merge(table, [asBytes('k', { v: 2 }, clock.now() + MIN, 6)]);
    expect(resting(table, 'k').value).toEqual({ v: 2 });
  });

  it('takes a local write, a delete and a read over a resting entry as over any other', () => {
    const { clock, store, table } = node();
    store.merge(table, [asBytes('a', 1, clock.now() + MIN, 5), asBytes('b', 2, clock.now() + MIN, 5)]);
    const [put] = store.write(table, [{ ns: 'n', key: 'a', value: 3, expiresAt: clock.now() + MIN }]);
    expect(table.current('n', 'a')).toBe(put);
    const [tomb] = store.write(table, [{ ns: 'n', key: 'b', delete: true, keepUntil: 0 }]);
    expect(isTombstone(tomb)).toBe(true);
    // The tombstone is kept while the resting entry would have lived.
    expect(tomb.expiresAt).toBe(clock.now() + MIN);
  });

  it('expires entries that were never read, without reading them', () => {
    const { clock, store, table } = node();
    store.merge(table, [asBytes('short', 's', clock.now() + 1000), asBytes('long', 'l', clock.now() + MIN)]);
    const short = resting(table, 'short');
    clock.advance(2000);
    expect(table.sweep()).toEqual([short]);
    expect(short.wasRead).toBe(false);
    expect(table.current('n', 'short')).toBeUndefined();
    expect(resting(table, 'long').wasRead).toBe(false);
    clock.advance(MIN);
    expect(table.sweep().map((s) => s.key)).toEqual(['long']);
    expect(table.size).toBe(0);
  });

  it('compacts its slab in slices while writes, reads and sweeps go on, and every entry keeps its value', () => {
    const { clock, store, table } = node();
    const expected = new Map<string, unknown>();
    const value = (i: number, round: number) => ({ round, i, pad: 'x'.repeat(200 + (i % 7)) });
    const N = 20_000;
    const merge = (from: number, to: number, round: number, version: number) => {
      const states: EntryState[] = [];
      for (let i = from; i < to; i++) {
        states.push(asBytes(`k${i}`, value(i, round), clock.now() + (i % 10 === 0 ? 3000 : 10 * MIN), version));
        expected.set(`k${i}`, value(i, round));
      }
      store.merge(table, states);
    };
    merge(0, N, 0, 1);
    // Overwrite three in four by newer bytes, read some: garbage outweighs what counts.
    for (let i = 0; i < N; i += 4) merge(i + 1, i + 4, 1, 2);
    for (let i = 0; i < N; i += 4) merge(i + 1, i + 4, 2, 3);
    for (let i = 0; i < N; i += 8) expect(table.current('n', `k${i}`)!.value).toEqual(expected.get(`k${i}`));
    expect(table.wantsCompaction).toBe(true);
    const before = table.slabBytes;
    const steps = table.compaction(0); // a slice every 256 states, whatever the machine's speed
    let turn = 0;
    for (let step = steps.next(); !step.done; step = steps.next(), turn++) {
      // The chunks records are moved out of still count until the compaction ends (they are still held).
      expect(table.slabBytes).toBeGreaterThanOrEqual(before);
      if (turn >= 40) continue; // enough slices with work in between; the rest of the compaction runs alone
      // Between slices: new resting entries, overwrites of resting ones by bytes and by local writes, reads, deletes, a sweep.
      merge(N + turn * 10, N + turn * 10 + 10, 3, 4);
      merge(turn * 4 + 1, turn * 4 + 2, 4, 5);
      const [put] = store.write(table, [{ ns: 'n', key: `k${turn * 4 + 3}`, value: { local: turn }, expiresAt: clock.now() + 10 * MIN }]);
      expected.set(put.key as string, { local: turn });
      store.write(table, [{ ns: 'n', key: `k${turn * 4 + 2}`, delete: true, keepUntil: 0 }]);
      expected.delete(`k${turn * 4 + 2}`);
      expect(table.current('n', `k${turn * 4 + 5}`)?.value).toEqual(expected.get(`k${turn * 4 + 5}`));
    }
    expect(turn).toBeGreaterThan(40);
    clock.advance(5000);
    table.sweep();
    expect(table.slabBytes).toBeLessThan(before);
    expect(table.wantsCompaction).toBe(false);
    // Reading every entry wakes the resting ones: their records become garbage for the next compaction.
    for (const [key, v] of expected) {
      const state = table.current('n', key);
      if (state !== undefined && state.expiresAt > clock.now()) expect(state.value).toEqual(v);
      else expect(Number(key.slice(1)) % 10).toBe(0); // only the short-lived ones expired
    }
    expect(table.wantsCompaction).toBe(true);
    // Every record is garbage now, the chunk written last too: the compaction frees them all.
    atOnce(table.compaction());
    expect(table.slabBytes).toBe(0);
  });

  it('moves records only out of chunks at least half garbage, once their garbage is a quarter of the slab', () => {
    const { clock, store, table } = node();
    const value = (i: number) => ({ i, pad: 'y'.repeat(300) });
    const N = 42_000;
    const merge = (from: number, to: number, expiresAt: number) => store.merge(table, Array.from({ length: to - from }, (_, j) => asBytes(`k${from + j}`, value(from + j), expiresAt)));
    // Sessions that expire in the order they came: whole chunks of each group.
    merge(0, N / 10, clock.now() + MIN);
    merge(N / 10, N / 3, clock.now() + 2 * MIN);
    merge(N / 3, N, clock.now() + 10 * MIN);
    clock.advance(MIN + 1000);
    table.sweep();
    expect(table.wantsCompaction).toBe(false); // a tenth of the slab is garbage
    clock.advance(MIN);
    table.sweep();
    expect(table.size).toBe(N - N / 3);
    expect(table.wantsCompaction).toBe(true); // a third
    const chunkOf = (i: number) => resting(table, `k${i}`).chunk;
    const later = Array.from({ length: 1000 }, (_, j) => N / 3 + 20 * j);
    const before = new Map(later.map((i) => [i, chunkOf(i)]));
    const bytes = table.slabBytes;
    atOnce(table.compaction());
    // The chunks of the sessions still held were not sparse: their records stayed where they were.
    const moved = later.filter((i) => chunkOf(i) !== before.get(i));
    expect(moved.length).toBeLessThan(later.length / 10); // at most those of the one chunk the groups share
    expect(table.slabBytes).toBeLessThan(bytes);
    expect(table.wantsCompaction).toBe(false);
    for (let i = N / 3; i < N; i += 97) expect(table.current('n', `k${i}`)!.value).toEqual(value(i));
  });

  it('starts over after a flush: the states read before it still read their values', () => {
    const { clock, store, table } = node();
    store.merge(table, [asBytes('k', { v: 1 }, clock.now() + MIN)]);
    const before = resting(table, 'k');
    table.clear();
    expect(table.slabBytes).toBe(0);
    store.merge(table, [asBytes('k', { v: 2 }, clock.now() + MIN)]);
    expect(before.value).toEqual({ v: 1 });
    expect(resting(table, 'k').value).toEqual({ v: 2 });
    expect(atOnce(table.compaction())).toBeUndefined();
  });
});

describe('decodeFlat', () => {
  it('decodes every value the cache accepts as decodeValue does', async () => {
    for (const c of VALUE_CASES) {
      const bytes = encodeValue(copyValue(c.input()));
      expect(await readProblems(() => readValue(decodeFlat(bytes)), (c.expected ?? c.input)())).toEqual([]);
    }
    const session = decodeFlat<{ userAgent: string; nested: { list: unknown[] } }>(encodeValue({ userAgent: 'Mozilla/5.0 Firefox/133.0', nested: { list: [1, -2, 1.5, 'é€𝄞', null, true] }, __x: -300, big: 70_000, neg: -70_000 }));
    expect(session).toEqual({ userAgent: 'Mozilla/5.0 Firefox/133.0', nested: { list: [1, -2, 1.5, 'é€𝄞', null, true] }, __x: -300, big: 70_000, neg: -70_000 });
    expect(Object.isFrozen(session) && Object.isFrozen(session.nested) && Object.isFrozen(session.nested.list)).toBe(true);
    // Floats of both sizes (float32 written by hand: the codec writes float64s) and strings, from a plain Uint8Array at an offset.
    const floats = encodeValue({ at: 1795658400005, tenth: -0.1, s: 'Grüße', pi: Math.PI });
    const framed = new Uint8Array(floats.length + 9);
    framed.set(floats, 3);
    expect(decodeFlat(framed, 3, 3 + floats.length)).toEqual({ at: 1795658400005, tenth: -0.1, s: 'Grüße', pi: Math.PI });
    expect(decodeFlat(Uint8Array.of(0x92, 0xca, 0x3f, 0xc0, 0, 0, 0xca, 0xc1, 0x20, 0, 0))).toEqual([1.5, -10]);
    // A key that would set the prototype is left to msgpackr.
    expect(Object.getPrototypeOf(decodeFlat(encodeValue(JSON.parse('{"__proto__":{"x":1}}'))))).toBe(Object.prototype);
  });
});
