import type { EntryState } from './entry';
import { keyHash, stateHash } from './state-hash';

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

describe('stateHash', () => {
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
