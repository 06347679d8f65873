import { frozenCopy } from './frozen-copy';

describe('frozenCopy', () => {
  it('copies plain data deeply and freezes the copy, leaving the original alone', () => {
    const original = { a: [1, { b: 'x' }], c: null, d: undefined, e: { f: true } };
    const copy = frozenCopy(original);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    expect(Object.isFrozen(copy) && Object.isFrozen(copy.a) && Object.isFrozen(copy.a[1]) && Object.isFrozen(copy.e)).toBe(true);
    expect(Object.isFrozen(original)).toBe(false);
  });

  it('copies other objects (Date, Map) through structuredClone', () => {
    const date = new Date(0);
    const copy = frozenCopy({ when: date, tags: new Map([['k', 1]]) });
    expect(copy.when).not.toBe(date);
    expect(copy.when.getTime()).toBe(0);
    expect(copy.tags.get('k')).toBe(1);
  });

  it('refuses what is not data', () => {
    expect(() => frozenCopy({ f: () => 1 })).toThrow(/function is not data/);
    expect(() => frozenCopy([Symbol('s')])).toThrow(/symbol is not data/);
    expect(() => frozenCopy(10n)).toThrow(/bigint/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => frozenCopy(cyclic)).toThrow(/cyclic/);
  });
});
