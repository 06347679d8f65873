import { decodeStoredKey, describeStoredKey, encodeStoredKey, MAX_STORED_KEY_BYTES } from './key-codec';

describe('stored keys', () => {
  const roundTrip = (ns: string, key: string | number | readonly (string | number)[]) => decodeStoredKey(encodeStoredKey(ns, key));

  it('gives back a scalar key as the scalar', () => {
    expect(roundTrip('ns', 'x')).toEqual({ ns: 'ns', key: 'x' });
    expect(roundTrip('ns', 42)).toEqual({ ns: 'ns', key: 42 });
  });

  it('gives back an array key as a frozen array', () => {
    const { key } = roundTrip('ns', Object.freeze(['user', 7, '']));
    expect(key).toEqual(['user', 7, '']);
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('keeps numbers and strings apart', () => {
    expect(encodeStoredKey('ns', 1).equals(encodeStoredKey('ns', '1'))).toBe(false);
    expect(roundTrip('ns', 1).key).toBe(1);
    expect(roundTrip('ns', '1').key).toBe('1');
  });

  it('keeps a scalar key apart from an array key and from other namespaces', () => {
    expect(encodeStoredKey('ns', 'a').equals(encodeStoredKey('ns', ['a', 'b']))).toBe(false);
    expect(encodeStoredKey('a', 'b').equals(encodeStoredKey('ab', ''))).toBe(false);
  });

  it('stores every string exactly, control characters and lone surrogates included', () => {
    const strings = ['', '\u0000', 'a\u0000b'.repeat(40), '\u001b', 'é😀', 'lone \ud800 surrogate', '\udfff'];
    for (const s of strings) {
      expect(roundTrip(s, [s, s]).key).toEqual([s, s]);
      expect(roundTrip('ns', s).key).toBe(s);
    }
  });

  it('stores every finite number exactly, and -0 as 0', () => {
    for (const n of [0, 1, -1, 0.1, 2 ** 53 + 2, -(2 ** 60), Number.MAX_VALUE, -Number.MIN_VALUE]) {
      expect(roundTrip('ns', n).key).toBe(n);
    }
    expect(Object.is(roundTrip('ns', -0).key, 0)).toBe(true);
    expect(encodeStoredKey('ns', -0).equals(encodeStoredKey('ns', 0))).toBe(true);
  });

  it('refuses keys that do not fit or are not keys', () => {
    expect(() => encodeStoredKey('ns', 'x'.repeat(MAX_STORED_KEY_BYTES))).toThrow(/bytes on disk/);
    expect(() => encodeStoredKey('ns', Number.NaN)).toThrow(/finite/);
    expect(() => encodeStoredKey('ns', [])).toThrow(/empty/);
  });

  it('refuses malformed bytes with a reason', () => {
    expect(() => decodeStoredKey(Buffer.from([9, 1, 2]))).toThrow(/unknown element tag/);
    expect(() => decodeStoredKey(Buffer.from([1, 0, 5, 0x61]))).toThrow(/cut short/);
    expect(() => decodeStoredKey(encodeStoredKey('ns', 1).subarray(0, 5))).toThrow(/no key/);
  });

  it('describes keys for messages, as JSON when they decode and as hex when not', () => {
    expect(describeStoredKey(encodeStoredKey('credentials', ['u', 1]))).toBe('credentials:["u",1]');
    expect(describeStoredKey(Buffer.from([9, 9]))).toBe('0x0909');
  });
});
