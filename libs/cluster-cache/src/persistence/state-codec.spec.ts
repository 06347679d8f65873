import { pack } from 'msgpackr';
import type { EntryState } from '../store/entry';
import { encodeStoredKey } from '../codec/key-codec';
import { StateCodec } from './state-codec';
import { holdEncoding, releaseEncoding } from '../values/held-encodings';
import { encodeValue } from '../values/value-codec';
import { copyValue } from '../values/value-copy';

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

  it('settles the decoded value: frozen all the way down, binaries as Uint8Array, a Date or binary read as a copy', () => {
    const value = roundTrip(live).value as { user: { roles: string[] }; at: Date; raw: Uint8Array };
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.user)).toBe(true);
    expect(Object.isFrozen(value.user.roles)).toBe(true);
    expect(value.raw.constructor).toBe(Uint8Array);
    value.at.setTime(0);
    value.raw[0] = 0;
    expect(value).toEqual({ user: { id: 1, roles: ['admin'] }, at: new Date(5), raw: new Uint8Array(Buffer.from('hi')) });
  });

  it('writes the encoding a put holds without encoding the value again, byte for byte as it would', () => {
    const value = copyValue({ text: 'x'.repeat(1000), at: new Date(5) });
    const state = { ...live, value };
    const fresh = codec.encode(state);
    holdEncoding(value, encodeValue(value));
    try {
      expect(codec.encode(state)).toEqual(fresh);
    } finally {
      releaseEncoding(value);
    }
  });

  it('refuses a value MessagePack cannot encode', () => {
    expect(() => codec.encode({ ...live, value: { n: 2n ** 70n } })).toThrow(/cannot be encoded/);
  });

  it('refuses stored bytes that are not a state record, saying why', () => {
    const key = encodeStoredKey('ns', 'k');
    // Records of an earlier build (no checksum), read leniently.
    expect(() => codec.decode(key, pack({ a: 1 }), 1, false)).toThrow(/not a state record/);
    expect(() => codec.decode(key, pack([1, 2, 'o', 7, 'v']), 1, false)).toThrow(/neither a value nor a tombstone/);
    expect(() => codec.decode(key, pack(['1', 2, 'o', 0, 'v']), 1, false)).toThrow(/wrong type/);
    expect(() => codec.decode(key, Buffer.from([0x93, 1]), 1, false)).toThrow();
    expect(() => codec.decode(key, pack([1, 2, 'o', 1]), undefined, false)).toThrow(/version/);
  });

  describe('checksums', () => {
    const stored = codec.encode(live);

    it('starts every record with the marker 0xc1, which no record of an earlier build (a MessagePack array) starts with', () => {
      expect(stored.value[0]).toBe(0xc1);
      expect(pack([1, 0, 'o', 0, 'v'])[0]).toBe(0x95);
      expect(pack([1, 1, 'o', 1])[0]).toBe(0x94);
    });

    it.each([
      ['the value', (s: typeof stored) => ({ ...s, value: flip(s.value, s.value.length - 3) })],
      ['the checksum itself', (s: typeof stored) => ({ ...s, value: flip(s.value, 2) })],
      ['the key', (s: typeof stored) => ({ ...s, key: flip(s.key, 3) })],
      ['the version', (s: typeof stored) => ({ ...s, version: s.version + 1 })],
    ])('refuses a record whose bytes changed (%s)', (_, damage) => {
      const damaged = damage(stored);
      expect(() => codec.decode(damaged.key, damaged.value, damaged.version)).toThrow(/checksum does not match/);
    });

    it('refuses a record without a checksum unless told the table may hold an earlier build\'s records', () => {
      const key = encodeStoredKey('credentials', ['user', 1]);
      const legacy = pack([live.expiresAt, live.seen, live.origin, 0, live.value]);
      expect(() => codec.decode(key, legacy, live.version)).toThrow(/no checksum/);
      expect(codec.decode(key, legacy, live.version, false)).toEqual(live);
      // A checksummed record is checked in a lenient table too.
      expect(codec.decode(stored.key, stored.value, stored.version, false)).toEqual(live);
      expect(() => codec.decode(stored.key, flip(stored.value, 9), stored.version, false)).toThrow(/checksum does not match/);
    });
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] ^= 0x20;
  return copy;
}
