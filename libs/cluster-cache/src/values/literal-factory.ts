/**
 * Builds a copy of an object with the given keys as one object literal, so the
 * copy gets V8's exact layout: every property in-object. An object filled from
 * `{}` one property at a time keeps 4 in-object slots and moves the rest to a
 * separate property array (+32 B for an 8-field session value).
 *
 * Strings, numbers, booleans, `null` and `undefined` are taken as they are, in
 * line (a call per field cost more than the rest of the copy), with the two
 * checks the value model needs of them: `-0` becomes `0` (MessagePack has no
 * negative zero) and a string that is not well-formed UTF-16 (a lone
 * surrogate, which UTF-8 cannot hold) goes to `copyField`, which refuses it.
 * The size of the object is reported once through `count`: the characters of
 * its keys and string fields, and its slots (each key and each field; see
 * value-copy.ts). Every other field (objects, and what is not data:
 * `copyField` rejects it) goes through `copyField` with `depth`.
 */
export type LiteralFactory = (
  source: Record<string, unknown>,
  copyField: (value: unknown, depth: number) => unknown,
  depth: number,
  count: (chars: number, slots: number) => void,
) => Record<string, unknown>;

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
 * `__proto__` key, which a literal would turn into the prototype; a key that
 * is not well-formed UTF-16; code generation disabled; more than MAX_KEYS
 * keys; MAX_FACTORIES key lists made). Callers fall back to a generic copy,
 * which also refuses what the value model refuses.
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
  if (keys.includes('__proto__') || !keys.every(isWellFormed)) return undefined;
  let keyChars = 0;
  for (const key of keys) keyChars += key.length;
  const reads = keys.map(
    (key, i) =>
      `let v${i} = s[${JSON.stringify(key)}];\n` +
      `if (typeof v${i} === 'string') { n += v${i}.length; if (!v${i}.isWellFormed()) v${i} = c(v${i}, d); }\n` +
      `else if (v${i} === 0) v${i} = 0;\n` +
      `else if (typeof v${i} === 'object' ? v${i} !== null : typeof v${i} !== 'number' && typeof v${i} !== 'boolean' && v${i} !== undefined) v${i} = c(v${i}, d);`,
  );
  const fields = keys.map((key, i) => `${JSON.stringify(key)}: v${i}`).join(', ');
  // Slots: a key and a field per key (the object's own slot is its holder's).
  const body = `let n = ${keyChars};\n${reads.join('\n')}\nt(n, ${2 * keys.length});\nreturn { ${fields} };`;
  try {
    return { keys: [...keys], make: new Function('s', 'c', 'd', 't', body) as LiteralFactory };
  } catch {
    return undefined; // e.g. --disallow-code-generation-from-strings
  }
}

/** Whether a string is well-formed UTF-16 (no lone surrogate): `String.prototype.isWellFormed` (ES2024, Node 20). */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
