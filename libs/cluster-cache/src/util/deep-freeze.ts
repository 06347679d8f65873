/**
 * Freezes a value and everything reachable from it, so a value the cache hands
 * out cannot be changed behind its back. Returns the value.
 */
export function deepFreeze<T>(value: T): T {
  // Typed arrays with elements cannot be frozen; the cache stores its own copy of them.
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k);
      deepFreeze(v);
    }
  } else if (value instanceof Set) {
    for (const v of value) deepFreeze(v);
  } else {
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      // Primitives need nothing: no call for them (most fields of a session are).
      if (typeof field === 'object' && field !== null) deepFreeze(field);
    }
  }
  return value;
}
