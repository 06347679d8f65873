/**
 * Keys and patterns.
 *
 * A key is a scalar (string or finite number) or an array of scalars. As in Pow,
 * a one-element array is the same key as its element (`'a'` and `['a']`), so
 * `all(ANY)` finds every scalar key. Keys order element by element, numbers
 * before strings, a shorter key before the longer keys it prefixes.
 */

/** One element of a key. @publicApi */
export type KeyPart = string | number;

/** A cache key: a scalar or an array of scalars. @publicApi */
export type CacheKey = KeyPart | readonly KeyPart[];

/**
 * The wildcard of `all()` patterns: matches exactly one key element (Pow's `:_`).
 * @publicApi
 */
export const ANY: unique symbol = Symbol.for('nest-cluster-cache.ANY');

/** A pattern element: a scalar that must be equal, or `ANY`. @publicApi */
export type PatternPart = KeyPart | typeof ANY;

/** A pattern for `all()`: like a key, with `ANY` in some places. @publicApi */
export type KeyPattern = PatternPart | readonly PatternPart[];

/** A key after normalisation: a scalar, or a frozen array of two or more scalars. */
export type NormalKey = KeyPart | readonly KeyPart[];

/** Longest key, in UTF-8 bytes of its strings: what every node (and the disk copy) can store. */
export const MAX_KEY_BYTES = 1024;

/** Why a key is not acceptable, or `undefined` when it is. */
export function keyProblem(key: unknown): string | undefined {
  if (isKeyPart(key)) return typeof key === 'string' && key.length * 3 > MAX_KEY_BYTES ? sizeProblem([key]) : undefined;
  if (!Array.isArray(key)) return 'a key must be a string, a finite number or an array of them';
  if (key.length === 0) return 'a key must not be an empty array';
  let chars = 0;
  for (const part of key) {
    if (!isKeyPart(part)) return 'every element of an array key must be a string or a finite number';
    chars += typeof part === 'string' ? part.length : 24;
  }
  return chars * 3 > MAX_KEY_BYTES ? sizeProblem(key) : undefined;
}

/** Counts bytes only for keys long enough to be near the limit (the usual key never pays for it). */
function sizeProblem(parts: readonly unknown[]): string | undefined {
  let bytes = 0;
  for (const part of parts) bytes += typeof part === 'string' ? Buffer.byteLength(part) : 24;
  return bytes > MAX_KEY_BYTES ? `a key must be at most ${MAX_KEY_BYTES} bytes long, this one has ${bytes}` : undefined;
}

function isKeyPart(value: unknown): value is KeyPart {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Unwraps one-element arrays and freezes array keys (callers validated the key). */
export function normalizeKey(key: CacheKey): NormalKey {
  if (typeof key !== 'object') return key;
  if (key.length === 1) return key[0];
  return Object.isFrozen(key) ? key : Object.freeze(key.slice());
}

/** The string an array key is stored under (JSON keeps `1` and `'1'` apart). */
export function encodeArrayKey(key: readonly KeyPart[]): string {
  return JSON.stringify(key);
}

/** Total order of normalised keys (see the module comment). */
export function compareKeys(a: NormalKey, b: NormalKey): number {
  const aArr = typeof a === 'object';
  const bArr = typeof b === 'object';
  if (!aArr && !bArr) return compareParts(a, b);
  const x = aArr ? a : [a];
  const y = bArr ? b : [b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareParts(x[i], y[i]);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

function compareParts(a: KeyPart, b: KeyPart): number {
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Why a pattern is not acceptable, or `undefined` when it is. */
export function patternProblem(pattern: unknown): string | undefined {
  if (pattern === ANY || isKeyPart(pattern)) return undefined;
  if (!Array.isArray(pattern) || pattern.length === 0) {
    return 'a pattern must be a key, ANY, or a non-empty array of key elements and ANY';
  }
  for (const part of pattern) {
    if (part !== ANY && !isKeyPart(part)) return 'every element of a pattern must be a string, a finite number or ANY';
  }
  return undefined;
}

/** A pattern as an array (one-element arrays and scalars alike). */
export function patternParts(pattern: KeyPattern): readonly PatternPart[] {
  return typeof pattern === 'object' ? pattern : [pattern];
}
