import type { EntryState } from '../store/entry';
import { flatStates, fromFlat, putFlat } from './flat-states';
import type { ReplicationMessage, WriteMessage } from './messages';
import { splitMessage } from './message-split';

const state = (i: number, ns = 'n', origin = 'a@h'): EntryState => ({ ns, key: `k${i}`, value: { i }, expiresAt: 1.8e12, version: 3.5e15 + i, seen: 0, origin });

function flat(states: EntryState[]) {
  const out = flatStates(states.length);
  states.forEach((s, i) => putFlat(out, i, s, states[i - 1]));
  return out;
}

/** Splits until every part holds one state; returns the parts in order. */
function splitAll(message: ReplicationMessage): ReplicationMessage[] {
  const parts = splitMessage(message);
  return parts === undefined ? [message] : parts.flatMap(splitAll);
}

describe('splitMessage', () => {
  const states = [state(0), state(1, 'n', 'b@h'), state(2, 'm', 'b@h'), state(3, 'm', 'b@h'), state(4, 'm', 'b@h')];

  it('splits a write into parts that carry its states in order, only the last one without `more`', () => {
    const message: WriteMessage = { t: 'write', id: 7, batches: [['t', flat(states.slice(0, 2))], ['u', flat(states.slice(2))]] };
    const parts = splitAll(message) as WriteMessage[];
    expect(parts).toHaveLength(5);
    expect(parts.map((p) => p.id)).toEqual([7, 7, 7, 7, 7]);
    expect(parts.map((p) => p.more)).toEqual([1, 1, 1, 1, undefined]);
    const received = parts.flatMap((p) => p.batches.map(([table, f]) => [table, fromFlat(f)] as const));
    expect(received.map(([table, s]) => [table, s.map((x) => x.key)])).toEqual([
      ['t', ['k0']],
      ['t', ['k1']],
      ['u', ['k2']],
      ['u', ['k3']],
      ['u', ['k4']],
    ]);
    // Namespaces and origins elided before the split are written out where a part begins.
    expect(received.flatMap(([, s]) => s)).toEqual(states);
  });

  it('splits a copy chunk into halves with the same id and table', () => {
    const parts = splitAll({ t: 'copy-chunk', id: 3, table: 't', states: flat(states) });
    expect(parts.map((p) => (p as { id: number }).id)).toEqual([3, 3, 3, 3, 3]);
    expect(parts.flatMap((p) => fromFlat((p as { states: unknown[] }).states))).toEqual(states);
  });

  it('cannot split a single state: its value already goes as its bytes', () => {
    const write: WriteMessage = { t: 'write', id: 1, batches: [['t', flat([state(0)])]], more: 1 };
    expect(write.batches[0][1][2]).toBeInstanceOf(Uint8Array);
    expect(splitMessage(write)).toBeUndefined();
    expect(splitMessage({ t: 'copy-chunk', id: 1, table: 't', states: flat([state(0)]) })).toBeUndefined();
    const tombstone = { ...state(0), value: undefined };
    expect(splitMessage({ t: 'copy-chunk', id: 1, table: 't', states: flat([tombstone]) })).toBeUndefined();
  });

  it('cannot split another kind of message', () => {
    expect(splitMessage({ t: 'copy-end', id: 1 })).toBeUndefined();
  });
});
