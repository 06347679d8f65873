import { deepFreeze } from './deep-freeze';
import { literalFactory } from './literal-factory';

/** String characters copied since the last `takeCopiedChars` (the size check of a put, without a walk of its own). */
let copiedChars = 0;

function countChars(chars: number): void {
  copiedChars += chars;
}

/** The string characters `frozenCopy` copied since the last call, and starts counting afresh. */
export function takeCopiedChars(): number {
  const chars = copiedChars;
  copiedChars = 0;
  return chars;
}

/** Deeper than this is taken for a cycle (values must be plain data, which has none). */
const MAX_DEPTH = 64;

/**
 * A deeply frozen copy of a value, so the caller's object can change later
 * without changing what the cache holds. Plain objects and arrays are copied
 * by hand (about ten times faster than `structuredClone` for session-sized
 * values), plain objects as one object literal per key list, which gives them
 * V8's compact layout (see `literalFactory`); anything else (Date, Map, Set,
 * typed arrays …) goes through
 * `structuredClone`. Functions, symbols and bigints are not data and throw.
 */
export function frozenCopy<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string') copiedChars += value.length;
    else if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') throw new TypeError(`a ${typeof value} is not data`);
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
    const keys = Object.keys(value);
    const make = literalFactory(keys);
    if (make !== undefined) return Object.freeze(make(value as Record<string, unknown>, frozenCopy, depth + 1, countChars)) as T;
    const copy: Record<string, unknown> = {};
    for (const key of keys) {
      const field = frozenCopy((value as Record<string, unknown>)[key], depth + 1);
      // An own `__proto__` key (JSON.parse makes them) is data: assigning it would set the prototype.
      if (key === '__proto__') Object.defineProperty(copy, key, { value: field, enumerable: true, writable: true, configurable: true });
      else copy[key] = field;
    }
    return Object.freeze(copy) as T;
  }
  return deepFreeze(structuredClone(value));
}
