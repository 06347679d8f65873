import { pack } from 'msgpackr';
import type { EntryState } from '../store/entry';
import { encodeStoredKey } from './key-codec';
import { StateCodec } from './state-codec';

const live: EntryState = {
  ns: 'credentials',
  key: Object.freeze(['user', 1]),
  value: { user: { id: 1, roles: ['admin'] }, at: new Date(5), raw: Buffer.from('hi') },
  expiresAt: 2_000,
  version: 4096 * 123 + 7,
  seen: 12,
  origin: 'a@127.0.0.1',
};

describe('StateCodec', () => {
  const codec = new StateCodec();
  const roundTrip = (state: EntryState) => {
    const stored = codec.encode(state);
    return codec.decode(stored.key, stored.value, stored.version);
  };

  it('gives back a live state field for field', () => {
    expect(roundTrip(live)).toEqual(live);
  });

  it('gives back a tombstone without a value', () => {
    const tombstone: EntryState = { ...live, value: undefined, seen: live.version };
    expect(roundTrip(tombstone)).toEqual(tombstone);
  });

  it('freezes the decoded value all the way down', () => {
    const value = roundTrip(live).value as { user: { roles: string[] }; at: Date };
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.user)).toBe(true);
    expect(Object.isFrozen(value.user.roles)).toBe(true);
    expect(Object.isFrozen(value.at)).toBe(true);
  });

  it('refuses a value MessagePack cannot encode', () => {
    expect(() => codec.encode({ ...live, value: { n: 2n ** 70n } })).toThrow(/cannot be encoded/);
  });

  it('refuses stored bytes that are not a state record, saying why', () => {
    const key = encodeStoredKey('ns', 'k');
    expect(() => codec.decode(key, pack({ a: 1 }), 1)).toThrow(/not a state record/);
    expect(() => codec.decode(key, pack([1, 2, 'o', 7, 'v']), 1)).toThrow(/neither a value nor a tombstone/);
    expect(() => codec.decode(key, pack(['1', 2, 'o', 0, 'v']), 1)).toThrow(/wrong type/);
    expect(() => codec.decode(key, Buffer.from([0x93, 1]), 1)).toThrow();
    expect(() => codec.decode(key, pack([1, 2, 'o', 1]), undefined)).toThrow(/version/);
  });
});
