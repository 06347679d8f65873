import { literalFactory, MAX_KEYS } from './literal-factory';

const copyField = (value: unknown) => value;
const count = () => undefined;

describe('literalFactory', () => {
  it('builds an object with the same keys, in the same order, integer-like keys included', () => {
    const source = { b: 1, 2: 'two', a: { x: 1 }, 1: 'one' } as Record<string, unknown>;
    const copy = literalFactory(Object.keys(source))!(source, copyField, 0, count);
    expect(copy).toEqual(source);
    expect(Object.keys(copy)).toEqual(Object.keys(source));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('takes primitives as they are, counting characters and slots, and hands every other field to the copier with the depth', () => {
    const seen: Array<[unknown, number]> = [];
    const counted: Array<[number, number]> = [];
    const nested = { y: 1 };
    const fn = () => 1;
    const source = { a: 1, b: 'xyz', c: nested, d: null, e: undefined, f: true, g: 'ab', h: fn, i: [1] };
    const copy = literalFactory(Object.keys(source))!(source, (value, depth) => (seen.push([value, depth]), 'copied'), 3, (c, s) => counted.push([c, s]));
    expect(copy).toEqual({ a: 1, b: 'xyz', c: 'copied', d: null, e: undefined, f: true, g: 'ab', h: 'copied', i: 'copied' });
    expect(seen).toEqual([[nested, 3], [fn, 3], [[1], 3]]);
    // 9 one-character keys and 5 characters of strings; a key and a field per key.
    expect(counted).toEqual([[9 + 5, 18]]);
  });

  it('stores -0 as 0 and hands a string with a lone surrogate to the copier (which refuses it)', () => {
    const seen: unknown[] = [];
    const copy = literalFactory(['z', 's', 't'])!({ z: -0, s: 'a\uD800', t: 'ok \uD83D\uDE00' }, (value) => (seen.push(value), 'refused'), 0, count);
    expect(Object.is(copy.z, 0)).toBe(true);
    expect(seen).toEqual(['a\uD800']);
    expect(copy).toEqual({ z: 0, s: 'refused', t: 'ok \uD83D\uDE00' });
  });

  it('reuses one factory per key list; a key list that joins like another one gets none (callers fall back)', () => {
    const pq = literalFactory(['p', 'q']);
    expect(pq).toBeDefined();
    expect(literalFactory(['p', 'q'])).toBe(pq);
    expect(literalFactory(['p\u0000q'])).toBeUndefined();
  });

  it('tells apart key lists of the same length used in turn (the last factory per key count is only a shortcut)', () => {
    const ab = literalFactory(['a', 'b'])!;
    const ba = literalFactory(['b', 'a'])!;
    const cd = literalFactory(['c', 'd'])!;
    for (let i = 0; i < 3; i++) {
      expect(literalFactory(['a', 'b'])).toBe(ab);
      expect(Object.keys(literalFactory(['b', 'a'])!({ a: 1, b: 2 }, copyField, 0, count))).toEqual(['b', 'a']);
      expect(literalFactory(['c', 'd'])).toBe(cd);
    }
    expect(ba).not.toBe(ab);
  });

  it('makes none for a __proto__ key (a literal would set the prototype), a key with a lone surrogate or a very long key list', () => {
    expect(literalFactory(['a', '__proto__'])).toBeUndefined();
    expect(literalFactory(['\uDC00'])).toBeUndefined();
    expect(literalFactory(Array.from({ length: MAX_KEYS + 1 }, (_, i) => `k${i}`))).toBeUndefined();
  });

  it('quotes keys that are not identifiers', () => {
    const keys = ['a b', '"quoted"', '}; throw 1; ({', ''];
    const source = Object.fromEntries(keys.map((k, i) => [k, i]));
    expect(literalFactory(keys)!(source, copyField, 0, count)).toEqual(source);
  });
});
