/**
 * One set of values every backend and every path must give back exactly as a
 * put stored them (a peer over TCP, a join copy, the disk copy, Redis): each
 * with the value a put takes and the value every read returns.
 */
export interface ValueCase {
  readonly name: string;
  readonly input: () => unknown;
  /** What reads return, when it differs from the input (`-0` → `0`, Buffer → Uint8Array, holes → undefined). */
  readonly expected?: () => unknown;
}

const bytes = (...values: number[]) => new Uint8Array(values);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

export const VALUE_CASES: readonly ValueCase[] = [
  { name: 'null', input: () => null },
  { name: 'booleans', input: () => [true, false] },
  { name: 'a string', input: () => 'héllo € 𝄞 \u0000 end' },
  { name: 'an empty string', input: () => '' },
  {
    name: 'numbers',
    input: () => ({ int: 42, negative: -7, float: 1.5, big: 2 ** 60, unsafe: 2 ** 53 + 2, max: Number.MAX_VALUE, tiny: Number.MIN_VALUE, nan: NaN, inf: Infinity, ninf: -Infinity }),
  },
  { name: 'negative zero (stored as 0)', input: () => ({ z: -0, list: [-0] }), expected: () => ({ z: 0, list: [0] }) },
  { name: 'nested undefined and a sparse array', input: () => ({ a: undefined, list: [1, , 3] }), expected: () => ({ a: undefined, list: [1, undefined, 3] }) },
  { name: 'integer-like keys, in key order', input: () => JSON.parse('{"b":1,"10":"ten","a":{"z":[1,{"y":2}]},"1":"one","":0}') as unknown },
  { name: 'a null-prototype object (stored as a plain one)', input: () => Object.assign(Object.create(null) as object, { k: 1 }), expected: () => ({ k: 1 }) },
  { name: 'an object of many keys', input: () => Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, i])) },
  {
    name: 'a session',
    input: () => ({ userId: 'ada', metadata: { userAgent: 'Mozilla/5.0', roles: ['admin', 'ops'], mfa: true }, createdAt: 1_700_000_000_000, signedIn: 1_700_000_000_000 }),
  },
  { name: 'a Uint8Array', input: () => bytes(0, 1, 2, 254, 255) },
  { name: 'an empty Uint8Array', input: () => bytes() },
  { name: 'a Buffer (stored as a Uint8Array)', input: () => Buffer.from('hi'), expected: () => bytes(0x68, 0x69) },
  { name: 'a Uint8Array inside an object and an array', input: () => ({ avatar: bytes(1, 2, 3), parts: [bytes(4), 'x', bytes()] }) },
  { name: 'a Date', input: () => new Date(1_700_000_000_123) },
  { name: 'Dates inside, before 1970 and invalid', input: () => ({ at: new Date(0), before: new Date(-1), never: new Date(NaN), list: [new Date(86_400_000)] }) },
  { name: 'nesting 60 levels deep', input: () => nest(60) },
  { name: 'an array of 200k numbers', input: () => Array.from({ length: 200_000 }, (_, i) => i * 1.5) },
  // 3 bytes per character at most: 18 MB bounds it, so the put encodes it to measure it (6 MB) and sends those bytes.
  { name: 'a 6 MB text (measured exactly)', input: () => ({ text: 'x'.repeat(6_000_000) }) },
];

function nest(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = i % 2 ? { down: value } : [value];
  return value;
}

/** Values a put refuses on every backend, with what the message says. */
export const REFUSED_CASES: ReadonlyArray<{ name: string; input: () => unknown; message: RegExp }> = [
  { name: 'a cyclic object', input: () => cyclicObject(), message: /cyclic/ },
  { name: 'a cyclic Map', input: () => cyclicMap(), message: /a Map is not one of the types/ },
  { name: 'a 20 MiB Uint8Array', input: () => new Uint8Array(20 * 1024 * 1024), message: /is at least \d+ bytes encoded; values are limited to/ },
  { name: 'an array of 3M numbers', input: () => Array.from({ length: 3_000_000 }, (_, i) => i + 0.5), message: /is \d+ bytes encoded; values are limited to/ },
  { name: 'a Set', input: () => ({ tags: new Set(['a']) }), message: /a Set is not one of the types.*\(at \.tags\)/ },
  { name: 'a class instance', input: () => [new Point(1, 2)], message: /an instance of Point is not one of the types.*\(at \[0\]\)/ },
  { name: 'a Float32Array', input: () => new Float32Array(2), message: /a Float32Array is not one of the types/ },
  { name: 'a function', input: () => ({ f: () => 1 }), message: /a function is not data/ },
  { name: 'a bigint', input: () => 10n, message: /a bigint is not data/ },
  { name: 'an own __proto__ key', input: () => JSON.parse('{"a":{"__proto__":{"admin":true}}}') as unknown, message: /__proto__.*\(at \.a\)/ },
  { name: 'a lone surrogate', input: () => ({ name: 'ab\uD800' }), message: /lone surrogate.*\(at \.name\)/ },
  { name: 'nesting 65 levels deep', input: () => nest(65), message: /nested deeper than 64/ },
];

function cyclicObject(): unknown {
  const value: Record<string, unknown> = { name: 'loop', inner: { list: [] as unknown[] } };
  (value.inner as { list: unknown[] }).list.push(value);
  return value;
}

function cyclicMap(): unknown {
  const map = new Map<string, unknown>();
  map.set('self', map);
  return { map };
}

/**
 * Whether `actual` is exactly `expected` as the value model holds it: equal,
 * every binary a plain Uint8Array (not a Buffer), every array and object
 * frozen, with plain prototypes.
 * @returns the problems found (the first few), empty when none.
 */
export function valueProblems(actual: unknown, expected: unknown): string[] {
  const problems: string[] = [];
  // The path to where a walk is, joined only when there is a problem (values of a million elements are walked).
  const path: Array<string | number> = [];
  const report = (what: string) => problems.push(`${path.length === 0 ? 'value' : path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${what}`);
  const walk = (a: unknown, e: unknown): void => {
    if (problems.length > 10) return;
    if (typeof e !== 'object' || e === null) {
      if (!Object.is(a, e)) report(`${String(a)} is not ${String(e)}`);
      return;
    }
    if (typeof a !== 'object' || a === null) return void report('not an object');
    if (e instanceof Uint8Array) {
      if (a.constructor !== Uint8Array) report(`a ${a.constructor.name}, not a Uint8Array`);
      else if (Buffer.compare(a as Uint8Array, e) !== 0) report('other bytes');
      return;
    }
    if (e instanceof Date) {
      if (!(a instanceof Date)) report('not a Date');
      else if (!Object.is(a.getTime(), e.getTime())) report(`${a.getTime()} is not ${e.getTime()}`);
      return;
    }
    if (!Object.isFrozen(a)) report('not frozen');
    if (Array.isArray(e)) {
      if (!Array.isArray(a) || Object.getPrototypeOf(a) !== Array.prototype) return void report('not an array');
      if (a.length !== e.length) return void report(`${a.length} elements, not ${e.length}`);
      for (let i = 0; i < e.length; i++) {
        path.push(i);
        walk(a[i], e[i]);
        path.pop();
      }
      return;
    }
    if (Object.getPrototypeOf(a) !== Object.prototype) report('not a plain object');
    const keys = Object.keys(e);
    if (Object.keys(a).join('\u0000') !== keys.join('\u0000')) return void report(`keys ${Object.keys(a).join(',')} are not ${keys.join(',')}`);
    for (const key of keys) {
      path.push(key);
      walk((a as Record<string, unknown>)[key], (e as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  walk(actual, expected);
  return problems;
}

/**
 * What is wrong with what `read` returns, against `expected` (see
 * valueProblems), also after changing every Uint8Array and Date the first read
 * returned: a second read must be unchanged (they are copies).
 */
export async function readProblems(read: () => unknown, expected: unknown): Promise<string[]> {
  const first = await read();
  const problems = valueProblems(first, expected);
  if (problems.length > 0 || mutateLeaves(first) === 0) return problems;
  return valueProblems(await read(), expected).map((problem) => `after changing what a read returned: ${problem}`);
}

/** Changes every Uint8Array and Date of a value (fill with 7, time 123); returns how many. */
export function mutateLeaves(value: unknown): number {
  let count = 0;
  const walk = (node: unknown): void => {
    if (node instanceof Uint8Array) {
      node.fill(7);
      count++;
    } else if (node instanceof Date) {
      node.setTime(123);
      count++;
    } else if (Array.isArray(node)) for (let i = 0; i < node.length; i++) walk(node[i]);
    else if (typeof node === 'object' && node !== null) for (const key of Object.keys(node)) walk((node as Record<string, unknown>)[key]);
  };
  walk(value);
  return count;
}
