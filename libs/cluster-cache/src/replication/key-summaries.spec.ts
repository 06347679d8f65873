import { bucketOf } from '../store/bucket-digests';
import { ManualClock } from '../store/clock';
import type { EntryState } from '../store/entry';
import { keyHash } from '../store/state-hash';
import { Store } from '../store/store';
import type { Table } from '../store/table';
import { MessageCodec } from '../transport/frame-codec';
import { TRANSPORT_DEFAULTS } from '../transport/transport.constants';
import { SLICE } from '../util/slices';
import { differences, differencesInSlices, EXPIRY_MARGIN, joinParts, KeySummaries, keySummaries, keySummariesInSlices, SummaryPart, summaryParts } from './key-summaries';

const MIN = 60_000;
const ALL = Array.from({ length: 64 }, (_, b) => b);

function twoNodes() {
  const clock = new ManualClock();
  const a = new Store('a@h', clock);
  const b = new Store('b@h', clock);
  return { clock, a, b, ta: a.addTable('t', 'replicated'), tb: b.addTable('t', 'replicated') };
}

const put = (key: string, value: unknown, clock: ManualClock, ttl = 10 * MIN) => ({ ns: 'n', key, value, expiresAt: clock.now() + ttl });

/** differences() of two tables, as sets of key names. */
function diff(ta: Table, tb: Table, now: number): { wanted: string[]; offered: string[] } {
  const names = new Map<number, string>();
  for (const t of [ta, tb]) for (const s of t.states()) names.set(keyHash(s.ns, s.key), String(s.key));
  const { wanted, offered } = differences(keySummaries(ta, 64, ALL, now), keySummaries(tb, 64, ALL, now));
  return { wanted: [...wanted].map((k) => names.get(k)!).sort(), offered: [...offered].map((k) => names.get(k)!).sort() };
}

/**
 * What a merge heal does: the nodes compare summaries, then — `delay` ms
 * later — each sends the live states of the keys asked of it and merges what
 * it gets.
 */
function exchange(clock: ManualClock, a: Store, ta: Table, b: Store, tb: Table, delay: number): void {
  const { wanted, offered } = differences(keySummaries(ta, 64, ALL, clock.now()), keySummaries(tb, 64, ALL, clock.now()));
  clock.advance(delay);
  const statesOf = (t: Table, keys: Float64Array) => [...t.states()].filter((s) => s.expiresAt > clock.now() && keys.includes(keyHash(s.ns, s.key)));
  const fromB = statesOf(tb, wanted);
  const fromA = statesOf(ta, offered);
  a.merge(ta, fromB);
  b.merge(tb, fromA);
}

/** A seeded PRNG (mulberry32): an integer in [0, n). */
function random(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

/** Bytes of a typed array, to compare large ones quickly (jest's toEqual is slow on them). */
const bytes = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

describe('key summaries', () => {
  it('summarise the live states of the buckets asked for', () => {
    const { clock, a, ta } = twoNodes();
    for (let i = 0; i < 200; i++) a.write(ta, [put(`k${i}`, i, clock, i === 0 ? 1000 : 10 * MIN)]);
    a.write(ta, [put('soon', 1, clock, EXPIRY_MARGIN)]);
    clock.advance(2000); // k0 expired, not swept
    const buckets = [1, 5, 9];
    const summaries = keySummaries(ta, 64, buckets, clock.now());
    const expected = [...ta.states()].filter((s) => s.expiresAt > clock.now() && buckets.includes(bucketOf(keyHash(s.ns, s.key), 64)));
    expect(summaries.keys.length).toBe(expected.length);
    expect(new Set(summaries.keys)).toEqual(new Set(expected.map((s) => keyHash(s.ns, s.key))));
    const full = keySummaries(ta, 64, ALL, clock.now());
    expect(full.keys.length).toBe(200); // 199 live k*, plus "soon"
    const soon = full.keys.indexOf(keyHash('n', 'soon'));
    expect([...full.expiring].filter((e, i) => e === 1 && i !== soon)).toEqual([]);
    expect(full.expiring[soon]).toBe(1);
    expect(full.versions[soon]).toBe(ta.current('n', 'soon')!.version);
  });

  it('ask only for the state that wins, when the summaries can tell', () => {
    const { clock, a, b, ta, tb } = twoNodes();
    b.merge(tb, a.write(ta, [put('same', 1, clock), put('a-newer', 1, clock), put('b-newer', 1, clock), put('deleted-on-a', 1, clock)]));
    a.write(ta, [put('only-a', 1, clock)]);
    b.write(tb, [put('only-b', 1, clock)]);
    clock.advance(10);
    a.write(ta, [{ ns: 'n', key: 'deleted-on-a', delete: true, keepUntil: clock.now() + MIN }]);
    b.write(tb, [put('b-newer', 2, clock)]);
    clock.advance(10);
    a.write(ta, [put('a-newer', 2, clock)]);
    b.write(tb, [put('deleted-on-a', 'renewed later', clock)]); // newer, but it had not seen the delete
    expect(diff(ta, tb, clock.now())).toEqual({ wanted: ['b-newer', 'only-b'], offered: ['a-newer', 'deleted-on-a', 'only-a'] });
  });

  it('send both ways what only the merge can order: equal versions, states about to expire, keys that share a hash', () => {
    const { clock, a, b, ta, tb } = twoNodes();
    a.write(ta, [put('tie', 'a', clock), put('soon', 'a', clock, EXPIRY_MARGIN - 1)]); // same version on both nodes: the origin decides
    b.write(tb, [put('tie', 'b', clock)]);
    clock.advance(10);
    b.write(tb, [put('soon', 'b', clock)]);
    expect(diff(ta, tb, clock.now())).toEqual({ wanted: ['soon', 'tie'], offered: ['soon', 'tie'] });

    const summary = (keys: number[], hashes: number[], versions: number[]): KeySummaries => ({
      keys: new Float64Array(keys),
      hashes: new Uint32Array(hashes),
      seen: new Float64Array(keys.length),
      versions: new Float64Array(versions),
      expiring: new Uint8Array(keys.length),
    });
    // Two of their keys share hash 7; one of mine would win over either alone.
    const shared = differences(summary([7, 8], [1, 2], [10, 10]), summary([7, 7, 8], [3, 4, 2], [5, 5, 10]));
    expect([...shared.wanted]).toEqual([7]);
    expect([...shared.offered]).toEqual([7]);
    // Two of mine share hash 7.
    const mineShared = differences(summary([7, 7], [1, 2], [10, 10]), summary([7], [3], [5]));
    expect(new Set(mineShared.wanted)).toEqual(new Set([7]));
    expect(new Set(mineShared.offered)).toEqual(new Set([7]));
  });

  it('leave both nodes as a full merge both ways would, after random histories', () => {
    const rand = random(5);
    for (let round = 0; round < 100; round++) {
      const { clock, a, b, ta, tb } = twoNodes();
      for (let step = 0; step < 150; step++) {
        clock.advance(rand(2) === 0 ? 0 : rand(2000)); // writes in the same ms on both nodes get equal versions
        const [store, table] = rand(2) === 0 ? [a, ta] : [b, tb];
        const key = `k${rand(6)}`;
        const ttl = rand(2) === 0 ? rand(2 * EXPIRY_MARGIN) : 10 * MIN;
        const op = rand(4) === 0 ? { ns: 'n', key, delete: true as const, keepUntil: clock.now() + rand(ttl) } : put(key, step, clock, ttl);
        store.write(table, [op]);
        if (rand(10) === 0) b.merge(tb, [...ta.states()]); // replicated before the split
      }
      const before = [...ta.states(), ...tb.states()];
      // States may expire between the comparison and the sending, within a heal step's time.
      exchange(clock, a, ta, b, tb, rand(EXPIRY_MARGIN));
      const reference = new Store('r@h', clock);
      const tr = reference.addTable('t', 'replicated');
      reference.merge(tr, before);
      const live = (t: Table) => [...t.states()].filter((s) => s.expiresAt > clock.now()).sort((x, y) => String(x.key).localeCompare(String(y.key)));
      expect(live(ta)).toEqual(live(tr));
      expect(live(tb)).toEqual(live(tr));
      expect(ta.liveDigests(64)).toEqual(tb.liveDigests(64));
    }
  });

  it('go on the wire in parts that each fit in a frame, even when the whole does not', () => {
    const n = 1_500_000; // 29 bytes a key: ~41 MiB in all, over the 16 MiB frame limit
    const big: KeySummaries = {
      keys: Float64Array.from({ length: n }, (_, i) => i * 2 ** 20 + 7),
      hashes: Uint32Array.from({ length: n }, (_, i) => i ^ 0x5a5a5a5a),
      seen: Float64Array.from({ length: n }, (_, i) => (i % 3) * 4096),
      versions: Float64Array.from({ length: n }, (_, i) => i * 4096 + 1),
      expiring: Uint8Array.from({ length: n }, (_, i) => i % 2),
    };
    const codec = new MessageCodec();
    expect(() => codec.encode({ t: 'reply', id: 1, body: summaryParts(big, n) })).toThrow(/frame limit/);
    const received: SummaryPart[] = [];
    for (const part of summaryParts(big)) {
      const frame = new MessageCodec().encode({ t: 'reply-part', id: 1, body: part });
      expect(frame.length).toBeLessThan(TRANSPORT_DEFAULTS.maxFrameBytes);
      received.push((new MessageCodec().decode(frame.subarray(5)) as { body: SummaryPart }).body);
    }
    expect(received.length).toBe(6);
    const joined = joinParts(received);
    for (const field of ['keys', 'hashes', 'seen', 'versions', 'expiring'] as const) expect(bytes(joined[field]).equals(bytes(big[field]))).toBe(true);
  });

  it('are made and compared a slice per event-loop turn for a heal, as if made at once', async () => {
    const { clock, a, b, ta, tb } = twoNodes();
    const n = 2 * SLICE + 500;
    for (let i = 0; i < n; i += 1000) b.merge(tb, a.write(ta, Array.from({ length: Math.min(1000, n - i) }, (_, j) => put(`k${i + j}`, i + j, clock))));
    clock.advance(10);
    for (let i = 0; i < 100; i++) b.write(tb, [put(`k${i}`, 'on b', clock), put(`only-b${i}`, i, clock)]);
    for (let i = 0; i < 50; i++) a.write(ta, [put(`only-a${i}`, i, clock)]);
    const reference = { mine: keySummaries(ta, 64, ALL, clock.now()), theirs: keySummaries(tb, 64, ALL, clock.now()) };
    // States read from the table per event-loop turn.
    let read = 0;
    const states = ta.states.bind(ta);
    ta.states = function* () {
      for (const state of states()) {
        read++;
        yield state;
      }
    };
    const perTurn: number[] = [];
    let done = false;
    const spin = () => {
      perTurn.push(read);
      read = 0;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const mine = await keySummariesInSlices(ta, 64, ALL, clock.now()).finally(() => (done = true));
    expect(perTurn.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...perTurn, read)).toBeLessThanOrEqual(SLICE);
    for (const field of ['keys', 'hashes', 'seen', 'versions', 'expiring'] as const) expect(bytes(mine[field]).equals(bytes(reference.mine[field]))).toBe(true);

    const sliced = await differencesInSlices(mine, reference.theirs);
    const atOnce = differences(reference.mine, reference.theirs);
    expect([bytes(sliced.wanted).equals(bytes(atOnce.wanted)), bytes(sliced.offered).equals(bytes(atOnce.offered))]).toEqual([true, true]);
    expect([sliced.wanted.length, sliced.offered.length]).toEqual([200, 50]);
  }, 30_000);

  it('take in the states written while a sliced scan waits for its next turn', async () => {
    const { clock, a, ta } = twoNodes();
    for (let i = 0; i < SLICE + 10; i += 1000) a.write(ta, Array.from({ length: 1000 }, (_, j) => put(`k${i + j}`, i + j, clock)));
    const scanning = keySummariesInSlices(ta, 64, ALL, clock.now());
    // More new keys than the summaries had room for when the scan began.
    for (let i = 0; i < 2 * SLICE; i += 1000) a.write(ta, Array.from({ length: 1000 }, (_, j) => put(`new${i + j}`, i + j, clock)));
    const summaries = await scanning;
    expect(summaries.keys.length).toBe(ta.size);
    expect(new Set(summaries.keys)).toEqual(new Set([...ta.states()].map((s) => keyHash(s.ns, s.key))));
  }, 30_000);

  it('send an empty summary as one empty part', () => {
    const { ta, clock } = twoNodes();
    const parts = summaryParts(keySummaries(ta, 64, ALL, clock.now()));
    expect(parts).toHaveLength(1);
    expect(joinParts(parts).keys.length).toBe(0);
  });
});
