import { deepFreeze } from './deep-freeze';

describe('deepFreeze', () => {
  it('freezes a value and everything reachable from it, primitives left as they are', () => {
    const inner = { tags: ['a', { deep: 1 }] };
    const key = { k: 1 };
    const value = { n: 1, s: 'x', b: true, none: null, inner, map: new Map<object, object>([[key, { v: 1 }]]), set: new Set([{ w: 2 }]) };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(inner) && Object.isFrozen(inner.tags) && Object.isFrozen(inner.tags[1])).toBe(true);
    expect(Object.isFrozen(key) && Object.isFrozen(value.map.get(key))).toBe(true);
    expect(Object.isFrozen([...value.set][0])).toBe(true);
    expect(deepFreeze('text')).toBe('text');
  });

  it('leaves typed arrays writable (they cannot be frozen) and stops at what is frozen already', () => {
    const bytes = new Uint8Array([1, 2]);
    const frozen = Object.freeze({ open: { x: 1 } });
    deepFreeze({ bytes, frozen });
    expect(Object.isFrozen(bytes)).toBe(false);
    expect(Object.isFrozen(frozen.open)).toBe(false);
  });
});
