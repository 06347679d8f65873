import { deepFreeze } from './deep-freeze';

/** Deeper than this is taken for a cycle (values must be plain data, which has none). */
const MAX_DEPTH = 64;

/**
 * A deeply frozen copy of a value, so the caller's object can change later
 * without changing what the cache holds. Plain objects and arrays are copied
 * by hand (about ten times faster than `structuredClone` for session-sized
 * values); anything else (Date, Map, Set, typed arrays …) goes through
 * `structuredClone`. Functions, symbols and bigints are not data and throw.
 */
export function frozenCopy<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') throw new TypeError(`a ${typeof value} is not data`);
    return value;
  }
  if (depth > MAX_DEPTH) throw new TypeError(`nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = frozenCopy(value[i], depth + 1);
    return Object.freeze(copy) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = frozenCopy((value as Record<string, unknown>)[key], depth + 1);
    return Object.freeze(copy) as T;
  }
  return deepFreeze(structuredClone(value));
}
