import type { EntryState } from './entry';
import { keyHash, keyHashOfBytes, stateHash, writeHash } from './state-hash';

const state = (fields: Partial<EntryState> = {}): EntryState => ({ ns: 'n', key: 'k', value: 1, expiresAt: 1, version: 4096 * 1e9, seen: 0, origin: 'a@h', ...fields });

describe('keyHash', () => {
  it('tells apart keys whose text would be the same', () => {
    const hashes = [
      keyHash('n', 1),
      keyHash('n', '1'),
      keyHash('n', ['a', 1]),
      keyHash('n', ['a', '1']),
      keyHash('a', 'bc'),
      keyHash('ab', 'c'),
      keyHash('n', ['a', 'b']),
      keyHash('n', ['ab']),
      keyHash('n', 'ab'),
      keyHash('n', ['a,b']),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('hashes equal keys alike (0 and -0 are one key, as in a Map)', () => {
    expect(keyHash('n', -0)).toBe(keyHash('n', 0));
    expect(keyHash('n', Object.freeze(['u', 1]))).toBe(keyHash('n', ['u', 1]));
    expect(keyHash('sessions', 'session:1234')).toBe(keyHash('sessions', `session:${1234}`));
  });

  it('is a non-negative integer of at most 52 bits, spread over its low bits', () => {
    const buckets = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const hash = keyHash('n', `key-${i}`);
      expect(Number.isSafeInteger(hash) && hash >= 0 && hash < 2 ** 52).toBe(true);
      buckets.add(hash & 255);
    }
    expect(buckets.size).toBe(256);
  });
});

describe('keyHashOfBytes', () => {
  it("equals keyHash of the string whose chars are the bytes (a record at rest's key)", () => {
    const keys = ['', 'k', 'x'.repeat(43), 'sess-ÿé\u0080\u00ff', Array.from({ length: 64 }, (_, i) => String.fromCharCode((i * 37) & 0xff)).join('')];
    for (const ns of ['', 'n', 'sessions']) {
      for (const key of keys) {
        const bytes = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(key, 'latin1'), Buffer.from([4])]);
        expect(keyHashOfBytes(ns, bytes, 3, key.length)).toBe(keyHash(ns, key));
      }
    }
    expect(keyHashOfBytes('n', Buffer.from('1'), 0, 1)).not.toBe(keyHash('n', 1));
  });
});

describe('stateHash', () => {
  it('is writeHash of its fields', () => {
    const live = state();
    expect(stateHash(7, live)).toBe(writeHash(7, live.version, live.seen, live.origin, false));
    const tombstone = state({ value: undefined, seen: 5 });
    expect(stateHash(7, tombstone)).toBe(writeHash(7, tombstone.version, 5, tombstone.origin, true));
  });

  it('changes with every field that identifies a write', () => {
    const key = keyHash('n', 'k');
    const base = stateHash(key, state());
    for (const other of [state({ version: 4096 * 1e9 + 1 }), state({ seen: 1 }), state({ origin: 'b@h' }), state({ value: undefined })]) {
      expect(stateHash(key, other)).not.toBe(base);
    }
    expect(stateHash(keyHash('n', 'other'), state())).not.toBe(base);
    // The value and expiry do not count: the write's identity stands for them.
    expect(stateHash(key, state({ value: 2, expiresAt: 5 }))).toBe(base);
  });
});
