import type { EntryState } from '../store/entry';
import { MessageCodec } from '../transport/frame-codec';
import { EncodedValue } from '../values/encoded-value';
import { decodeValue } from '../values/value-codec';
import { flatStates, fromFlat, putFlat, STATE_FIELDS } from './flat-states';

const live: EntryState = { ns: 'n', key: 'k', value: { nested: { list: [1, 'x'] }, none: null }, expiresAt: 1.8e12, version: 3.5e15 + 7, seen: 0, origin: 'a@h' };
const tombstone: EntryState = { ns: 'm', key: ['user', 1, 's'], value: undefined, expiresAt: 1.8e12 + 5, version: 3.5e15 + 9, seen: 3.5e15 + 9, origin: 'b@h' };
const nullValue: EntryState = { ns: '', key: 42, value: null, expiresAt: 1.8e12, version: 1, seen: 0, origin: 'a@h' };

/** Flattens `states`, sends them through a real message codec (records, as on a link), and reads them back. */
function overTheWire(states: EntryState[], valuesAsBytes = false): EntryState[] {
  const flat = flatStates(states.length);
  states.forEach((state, i) => putFlat(flat, i, state, states[i - 1]));
  const codec = new MessageCodec();
  const frame = codec.encode({ t: 'copy-chunk', id: 1, table: 't', states: flat });
  const message = codec.decode(frame.subarray(5)) as { states: unknown[] };
  return fromFlat(message.states, valuesAsBytes);
}

describe('flat states', () => {
  it('carry live states, tombstones and null values through the wire unchanged', () => {
    const received = overTheWire([live, tombstone, nullValue]);
    expect(received).toEqual([live, tombstone, nullValue]);
    // A tombstone stays a tombstone (undefined), apart from a stored null.
    expect('value' in received[1] && received[1].value === undefined).toBe(true);
    expect(received[2].value).toBeNull();
  });

  it('freeze array keys as every stored key is, and hand values to a store that keeps them at rest as their bytes', () => {
    const [state, tomb] = overTheWire([live, tombstone], true);
    expect(Object.isFrozen(tomb.key)).toBe(true);
    expect(state.value).toBeInstanceOf(EncodedValue);
    expect(decodeValue((state.value as EncodedValue).bytes())).toEqual(live.value);
    expect(tomb.value).toBeUndefined();
  });

  it('give states the field order of local writes (one hidden class for every stored state)', () => {
    expect(Object.keys(overTheWire([live])[0])).toEqual(['ns', 'key', 'value', 'expiresAt', 'version', 'seen', 'origin']);
  });

  it('send a namespace or origin equal to the previous state\'s as null, and restore it on arrival', () => {
    const second: EntryState = { ...live, key: 'k2', origin: 'c@h' };
    const third: EntryState = { ...live, key: 'k3', ns: 'other', origin: 'c@h' };
    const flat = flatStates(3);
    [live, second, third].forEach((state, i, all) => putFlat(flat, i, state, all[i - 1]));
    expect([flat[STATE_FIELDS], flat[STATE_FIELDS + 6], flat[2 * STATE_FIELDS], flat[2 * STATE_FIELDS + 6]]).toEqual([null, 'c@h', 'other', null]);
    expect(overTheWire([live, second, third])).toEqual([live, second, third]);
  });

  it('refuse a first state without its namespace or origin', () => {
    const flat = flatStates(1);
    putFlat(flat, 0, live, live);
    expect(() => fromFlat(flat)).toThrow(/first state has no namespace or origin/);
  });

  it('refuse an array that is not a whole number of states', () => {
    expect(() => fromFlat(new Array(STATE_FIELDS + 1).fill(0))).toThrow(/not a whole number of states/);
    expect(() => fromFlat({} as unknown as unknown[])).toThrow(/not a whole number of states/);
    expect(fromFlat([])).toEqual([]);
  });
});
