/**
 * Builds a copy of an object with the given keys as one object literal, so the
 * copy gets V8's exact layout: every property in-object. An object filled from
 * `{}` one property at a time keeps 4 in-object slots and moves the rest to a
 * separate property array (+32 B for an 8-field session value).
 */
export type LiteralFactory = (source: Record<string, unknown>, copyField: (value: unknown, depth: number) => unknown, depth: number) => Record<string, unknown>;

/** Most key lists compiled; past that, callers fall back to their generic path. */
export const MAX_FACTORIES = 1024;
/** Longest key list compiled: bigger objects are rare and maps-in-disguise, not worth the code. */
export const MAX_KEYS = 64;

interface Compiled {
  readonly keys: readonly string[];
  readonly make: LiteralFactory;
}

/** By the keys joined with NUL; a hit is checked key by key, so keys holding NUL cannot mix shapes up. */
const factories = new Map<string, Compiled | undefined>();

/**
 * A factory for objects with exactly these own keys (in `Object.keys` order),
 * compiled once per key list; `undefined` when it cannot be made (a
 * `__proto__` key, which a literal would turn into the prototype; code
 * generation disabled; more than MAX_KEYS keys; MAX_FACTORIES key lists made).
 */
export function literalFactory(keys: readonly string[]): LiteralFactory | undefined {
  if (keys.length > MAX_KEYS) return undefined;
  // Most values of an app share a few shapes: try the last one of this key count before joining and hashing the keys.
  const last = lastByCount[keys.length];
  if (last !== undefined && sameKeys(last.keys, keys)) return last.make;
  const shape = keys.join('\u0000');
  let compiled = factories.get(shape);
  if (compiled === undefined) {
    if (factories.has(shape) || factories.size >= MAX_FACTORIES) return undefined;
    compiled = compile(keys);
    factories.set(shape, compiled);
    if (compiled === undefined) return undefined;
  }
  if (!sameKeys(compiled.keys, keys)) return undefined;
  lastByCount[keys.length] = compiled;
  return compiled.make;
}

/** The factory used last, per number of keys. */
const lastByCount: Array<Compiled | undefined> = [];

function sameKeys(known: readonly string[], keys: readonly string[]): boolean {
  if (known.length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) return false;
  return true;
}

function compile(keys: readonly string[]): Compiled | undefined {
  if (keys.includes('__proto__')) return undefined;
  const fields = keys.map((key) => `${JSON.stringify(key)}: c(s[${JSON.stringify(key)}], d)`).join(', ');
  try {
    return { keys: [...keys], make: new Function('s', 'c', 'd', `return { ${fields} };`) as LiteralFactory };
  } catch {
    return undefined; // e.g. --disallow-code-generation-from-strings
  }
}
