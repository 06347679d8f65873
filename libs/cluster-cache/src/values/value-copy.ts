import { isHeldLeaf, leavesToGetters, noteLeafValue } from './leaves';
import { isWellFormed, literalFactory } from './literal-factory';

/**
 * The value model: what a value may hold, and the copy a put stores. Every
 * backend and every node holds the same value for the same input, because a
 * value holds only what the value codec (value-codec.ts) and the cluster
 * messages (msgpackr) both carry unchanged:
 *
 * | type | stored as |
 * |---|---|
 * | `null`, `true`, `false` | themselves |
 * | numbers | themselves, `NaN` and `±Infinity` included; `-0` as `0` (MessagePack has no negative zero) |
 * | strings | themselves, if well-formed UTF-16 (a lone surrogate is refused: UTF-8 cannot hold it) |
 * | `undefined` inside an array or object | itself (a hole of a sparse array becomes `undefined`) |
 * | arrays | a frozen copy of their elements |
 * | plain objects (prototype `Object.prototype` or `null`) | a frozen copy of their own enumerable string keys, in order (an own `__proto__` key is refused) |
 * | `Uint8Array` (and Buffer) | a `Uint8Array` copy, handed out as a fresh copy on every read (see leaves.ts) |
 * | `Date` | a copy, handed out as a fresh copy on every read |
 *
 * Everything else is refused: Map, Set, other typed arrays, ArrayBuffer,
 * DataView, class instances (RegExp, Error, boxed primitives …), functions,
 * symbols, bigints, nesting deeper than MAX_DEPTH, cycles.
 */

/** Deepest nesting of arrays and objects a value may have: deeper is refused, which is also what stops a cycle. */
export const MAX_DEPTH = 64;

/**
 * Slots a copy has seen (a slot is a container, an object key, an object field
 * or an array element), the UTF-16 characters of its strings and keys, and the
 * bytes of its binaries: what bounds its encoded size (see {@link sizeBounds}).
 */
let slots = 0;
let chars = 0;
let binary = 0;
/** Stop the copy once its encoding surely exceeds this (the current copy's limit: every copy sets it). */
let limit = Infinity;

function count(c: number, s: number): void {
  chars += c;
  slots += s;
  if (slots + chars + binary > limit) throw new ValueTooLargeError(slots + chars + binary);
}

/** Why a value cannot be stored (the message says what, and where in the value). */
export class ValueError extends TypeError {}

/** The value's encoding is larger than the limit: at least `bytes` bytes. */
export class ValueTooLargeError extends ValueError {
  constructor(readonly bytes: number) {
    super(`at least ${bytes} bytes encoded`);
  }
}

/**
 * The bounds of the encoded size of the value copied last, from what the copy
 * counted. Each slot encodes in 1 to 16 bytes besides its text or bytes
 * (MessagePack: a number ≤ 9, a string, binary, array or map header ≤ 5, a
 * Date ≤ 15, `undefined` 3, and in a cluster message a record definition
 * adds ≤ 4 to a map's header), and a UTF-16 character in 1 to 3 UTF-8 bytes.
 * So `upper` holds for the value codec and for msgpackr's records alike.
 */
export function sizeBounds(): { lower: number; upper: number } {
  return { lower: slots + chars + binary, upper: 16 * slots + 3 * chars + binary };
}

/** The upper bound of {@link sizeBounds}, without an object. */
export function upperSizeBound(): number {
  return 16 * slots + 3 * chars + binary;
}

/**
 * A copy of `value` as the store holds it (see the table above): deeply
 * frozen, mutable leaves as copying getters, its size counted for
 * {@link sizeBounds}. Plain objects are copied as one object literal per key
 * list (V8's compact layout, see `literalFactory`); a value without leaves
 * costs no more than a plain deep copy and freeze.
 *
 * @param maxBytes stop early (ValueTooLargeError) once the encoding surely exceeds it.
 * @throws ValueError saying what is not allowed, and where (`at .a[2]`).
 */
export function copyValue<T>(value: T, maxBytes = Infinity): T {
  // The value's own slot; every other slot is counted by the array or object holding it.
  slots = 1;
  chars = 0;
  binary = 0;
  limit = maxBytes;
  try {
    const out = copy(value, 0);
    if (typeof out === 'object' && out !== null && isHeldLeaf(out)) noteLeafValue();
    return out;
  } catch (error) {
    if (error instanceof ValueTooLargeError || !(error instanceof ValueError)) throw error;
    // Only now find where the problem is: the copy itself keeps no path.
    throw new ValueError(`${error.message}${pathOfProblem(value)}`);
  }
}

function copy<T>(value: T, depth: number): T {
  if (typeof value !== 'object' || value === null) return primitive(value);
  if (depth >= MAX_DEPTH) throw new ValueError(`it is nested deeper than ${MAX_DEPTH} arrays and objects (or cyclic)`);
  if (Array.isArray(value)) {
    const length = value.length;
    count(0, length);
    const out = new Array<unknown>(length);
    let leaves = false;
    for (let i = 0; i < length; i++) {
      const element = copy(value[i] as unknown, depth + 1);
      out[i] = element;
      if (typeof element === 'object' && element !== null && isHeldLeaf(element)) leaves = true;
    }
    if (leaves) leavesToGetters(out as unknown as Record<string, unknown>);
    return Object.freeze(out) as T;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null || isForeignObjectPrototype(proto)) return plainObject(value as Record<string, unknown>, depth);
  return leaf(value);
}

function primitive<T>(value: T): T {
  if (value === null) return value;
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw new ValueError('a string with a lone surrogate (not well-formed UTF-16) cannot be encoded as UTF-8: use str.toWellFormed()');
      chars += value.length;
      return value;
    case 'number':
      return (value === 0 ? 0 : value) as T;
    case 'boolean':
    case 'undefined':
      return value;
    default:
      throw new ValueError(`a ${typeof value} is not data`);
  }
}

/** A held leaf of the copy that `value` makes, or ValueError. */
function leaf<T>(value: T & object): T {
  if (ArrayBuffer.isView(value)) {
    if (tagOf(value) !== 'Uint8Array') throw new ValueError(`a ${tagOf(value)} is not one of the types a value may hold (of binary data, only Uint8Array)`);
    const view = value as unknown as Uint8Array;
    binary += view.byteLength;
    count(0, 0);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice() as T;
  }
  const time = dateTime(value);
  if (time !== undefined) return new Date(time) as T;
  throw new ValueError(`${describeKind(value)} is not one of the types a value may hold (null, booleans, numbers, strings, arrays, plain objects, Uint8Array, Date)`);
}

function plainObject<T>(value: Record<string, unknown>, depth: number): T {
  const keys = Object.keys(value);
  const make = literalFactory(keys);
  let out: Record<string, unknown>;
  let leaves = false;
  if (make !== undefined) {
    const before = leafCount;
    out = make(value, copyField, depth + 1, count);
    // Fields that are objects went through copyField: look for leaves among them only if it made any (here or deeper).
    if (leafCount !== before) leaves = hasLeafField(out);
  } else {
    out = {};
    let keyChars = 0;
    for (const key of keys) {
      // An own `__proto__` key (JSON.parse makes them) would arrive on a peer as `__proto_` (msgpackr's guard against prototype pollution).
      if (key === '__proto__') throw new ValueError('an own "__proto__" key cannot be stored (peers would not get it back)');
      if (!isWellFormed(key)) throw new ValueError('a key with a lone surrogate (not well-formed UTF-16) cannot be encoded as UTF-8');
      keyChars += key.length;
      const field = copy(value[key], depth + 1);
      if (typeof field === 'object' && field !== null && isHeldLeaf(field)) leaves = true;
      out[key] = field;
    }
    count(keyChars, 2 * keys.length);
  }
  if (leaves) leavesToGetters(out);
  return Object.freeze(out) as T;
}

/** Leaves copyField has made (it only grows: a change tells an object that it may hold one). */
let leafCount = 0;

function copyField(value: unknown, depth: number): unknown {
  const field = copy(value, depth);
  if (typeof field === 'object' && field !== null && isHeldLeaf(field)) leafCount = (leafCount + 1) | 0;
  return field;
}

function hasLeafField(out: Record<string, unknown>): boolean {
  for (const key of Object.keys(out)) {
    const field = out[key];
    if (typeof field === 'object' && field !== null && isHeldLeaf(field)) return true;
  }
  return false;
}

/** A plain object's prototype from another realm (a vm context, Jest's sandbox): `Object.prototype` there. */
function isForeignObjectPrototype(proto: object): boolean {
  if (Object.getPrototypeOf(proto) !== null) return false;
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
  return typeof ctor === 'function' && ctor.name === 'Object' && Object.getOwnPropertyDescriptor(ctor, 'prototype')?.value === proto;
}

/** The time of a Date (of any realm), or undefined for anything else. */
function dateTime(value: object): number | undefined {
  if (value instanceof Date) return value.getTime();
  try {
    return Date.prototype.getTime.call(value);
  } catch {
    return undefined;
  }
}

function tagOf(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function describeKind(value: object): string {
  if (value instanceof Map || tagOf(value) === 'Map') return 'a Map';
  if (value instanceof Set || tagOf(value) === 'Set') return 'a Set';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `an instance of ${name}` : `an object with a prototype (${tagOf(value)})`;
}

/**
 * Where in `value` the first thing the copy refused is, as ` at .a[2].b`, or
 * `''` at the top. Walks again, with a path, only once a put was refused;
 * says "cyclic" when the path comes back to an object it holds.
 */
function pathOfProblem(value: unknown): string {
  const path: string[] = [];
  const holding = new Set<object>();
  const find = (node: unknown, depth: number): string | undefined => {
    if (typeof node !== 'object' || node === null) {
      try {
        primitive(node);
        return undefined;
      } catch {
        return '';
      }
    }
    if (holding.has(node)) return ' (it is cyclic)';
    if (depth >= MAX_DEPTH) return '';
    const proto = Object.getPrototypeOf(node) as object | null;
    const isArray = Array.isArray(node);
    if (!isArray && proto !== Object.prototype && proto !== null && !isForeignObjectPrototype(proto)) {
      try {
        leaf(node);
        return undefined;
      } catch {
        return '';
      }
    }
    holding.add(node);
    const keys = isArray ? Array.from({ length: (node as unknown[]).length }, (_, i) => i) : Object.keys(node);
    for (const key of keys) {
      if (key === '__proto__' || (typeof key === 'string' && !isWellFormed(key))) return '';
      path.push(typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      const found = find((node as Record<string | number, unknown>)[key], depth + 1);
      if (found !== undefined) return found;
      path.pop();
    }
    holding.delete(node);
    return undefined;
  };
  const cycle = find(value, 0) ?? '';
  return (path.length === 0 ? '' : ` (at ${path.join('')})`) + cycle;
}
