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

describe('frozenCopy of plain objects (one literal per key list)', () => {
  it('keeps key order, integer-like keys and null-prototype data; an own __proto__ key stays data', () => {
    const source = JSON.parse('{"b":1,"10":"ten","a":{"z":[1,{"y":2}]},"1":"one"}') as Record<string, unknown>;
    const copy = frozenCopy(source);
    expect(copy).toEqual(source);
    expect(Object.keys(copy)).toEqual(Object.keys(source));
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 1 });
    expect({ ...frozenCopy(bare) }).toEqual({ k: 1 });
    const withProto = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copied = frozenCopy(withProto);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.keys(copied)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(copied, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('copies objects of the same shape independently', () => {
    const a = frozenCopy({ id: 1, tags: ['x'] });
    const b = frozenCopy({ id: 2, tags: ['y'] });
    expect([a, b]).toEqual([{ id: 1, tags: ['x'] }, { id: 2, tags: ['y'] }]);
    expect(Object.isFrozen(b.tags)).toBe(true);
  });
});
