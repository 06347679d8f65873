import { inspect } from 'node:util';

/**
 * Mutable leaves: the two allowed types whose content `Object.freeze` cannot
 * protect (a `Uint8Array`'s bytes, a `Date`'s time). The cache never hands
 * out the one it holds:
 *
 * - inside an array or object, the leaf is an enumerable getter that returns
 *   a fresh copy on every read (`value.avatar !== value.avatar`); the object
 *   around it is frozen as usual;
 * - a value that is itself a leaf is held as it is (unfrozen) and `readValue`
 *   copies it on every read.
 *
 * So a value without leaves — every session, every JSON-like value — costs a
 * read nothing extra: it is handed out as it is held.
 */

/** Whether `value` (an object) is a mutable leaf as the store holds it: a `Uint8Array` (not a Buffer) or a `Date`. */
export function isHeldLeaf(value: object): value is Uint8Array | Date {
  return value instanceof Uint8Array || value instanceof Date;
}

/** A copy of a held leaf: what a read gets. */
export function copyLeaf<T>(leaf: T): T {
  if (leaf instanceof Uint8Array) return leaf.slice() as T;
  if (leaf instanceof Date) return new Date(leaf.getTime()) as T;
  return leaf;
}

/**
 * Whether this process ever made a value that is itself a leaf. Until it does
 * (most apps never store a bare Uint8Array or Date), `readValue` does not look
 * at the value at all: looking loads the value's map, a cache miss per read of
 * a large table when the caller does not read the value itself.
 */
let leafValues = false;

/** A value that is itself a leaf was made (a put's copy, or a decoded value): reads check from now on. */
export function noteLeafValue(): void {
  leafValues = true;
}

/**
 * What a read of a stored value returns: the value itself, or a copy of it when
 * it is a mutable leaf. Costs one flag test until a leaf value exists (see
 * `leafValues`), then two `instanceof` checks (`Object.isFrozen` would cost
 * ≈ 25 ns on a frozen object).
 */
export function readValue<V>(value: V): V {
  return leafValues && typeof value === 'object' && value !== null && isHeldLeaf(value) ? copyLeaf(value) : value;
}

/**
 * Turns the leaves held in `container` (an array or a plain object, not yet
 * frozen) into getters that return copies; the caller freezes it afterwards.
 */
export function leavesToGetters(container: Record<string, unknown>): void {
  for (const key of Object.keys(container)) {
    const field = container[key];
    if (typeof field !== 'object' || field === null || !isHeldLeaf(field)) continue;
    Object.defineProperty(container, key, { get: leafGetter(field), enumerable: true, configurable: true });
  }
  // util.inspect (console.log) would show the getters as `[Getter]`: show the data instead.
  Object.defineProperty(container, inspect.custom, { value: inspectData });
}

function leafGetter(leaf: Uint8Array | Date): () => Uint8Array | Date {
  if (leaf instanceof Date) {
    const time = leaf.getTime();
    return () => new Date(time);
  }
  return () => leaf.slice();
}

function inspectData(this: object, _depth: number, options: object): string {
  const data: unknown = Array.isArray(this) ? [...this] : { ...this };
  return inspect(data, options);
}
