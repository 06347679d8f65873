import { ANY, compareKeys, keyProblem, normalizeKey, patternProblem } from './key';

describe('keys', () => {
  it('treats a one-element array as its element (Pow wraps keys in a list)', () => {
    expect(normalizeKey(['a'])).toBe('a');
    expect(normalizeKey('a')).toBe('a');
    expect(normalizeKey(['a', 1])).toEqual(['a', 1]);
    expect(Object.isFrozen(normalizeKey(['a', 1]))).toBe(true);
  });

  it('refuses keys that are not scalars or arrays of scalars', () => {
    expect(keyProblem('x')).toBeUndefined();
    expect(keyProblem(['x', 2])).toBeUndefined();
    expect(keyProblem([])).toMatch(/empty/);
    expect(keyProblem(NaN)).toMatch(/finite/);
    expect(keyProblem({ a: 1 })).toBeDefined();
    expect(keyProblem(['x', null])).toMatch(/every element/);
    expect(keyProblem(undefined)).toBeDefined();
  });

  it('refuses keys longer than MAX_KEY_BYTES (counted in UTF-8 bytes)', () => {
    expect(keyProblem('x'.repeat(1024))).toBeUndefined();
    expect(keyProblem('x'.repeat(1025))).toMatch(/at most 1024 bytes/);
    expect(keyProblem('é'.repeat(600))).toMatch(/this one has 1200/);
    expect(keyProblem(['user', 'y'.repeat(1100)])).toMatch(/at most 1024 bytes/);
  });

  it('orders numbers before strings, element by element, prefixes first', () => {
    const keys = [['b', 1], 'a', ['a', 'x'], ['a', 2], 10, 9, ['a', 2, 0]] as const;
    const sorted = [...keys].map((k) => normalizeKey(k)).sort(compareKeys);
    expect(sorted).toEqual([9, 10, 'a', ['a', 2], ['a', 2, 0], ['a', 'x'], ['b', 1]]);
  });

  it('accepts ANY in patterns only', () => {
    expect(patternProblem(ANY)).toBeUndefined();
    expect(patternProblem(['user', ANY])).toBeUndefined();
    expect(keyProblem(['user', ANY])).toBeDefined();
    expect(patternProblem([])).toBeDefined();
    expect(patternProblem([ANY, {}])).toBeDefined();
  });
});
