/**
 * The payload every store benchmark uses, built the same way for every side of
 * a comparison:
 *
 * - key: `"session:" + uuid` (44 B), a flat sequential string (the `+` would make
 *   a cons string; `flat()` copies it into one sequential string);
 * - value: an 8-field session object whose JSON is ~203 B (like the anchor's),
 *   made by `JSON.parse` of a per-entry JSON text. JSON.parse gives flat,
 *   per-entry strings and an object with exactly 8 in-object fields. Every
 *   string field is ≥ 11 chars, because V8's JSON.parse *internalises* (dedupes)
 *   string values of ≤ 10 chars, which would make equal short strings free on
 *   one side (Map) and not on the other (the cache's structuredClone copies).
 *
 * Everything is derived from a seeded PRNG, so runs and processes see the same data.
 */
import { flat, prng } from './harness';


const HEX = '0123456789abcdef';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Some fixed wall time so values are the same in every run. */
export const CREATED_AT = Date.UTC(2026, 10, 26, 2, 0, 0);

function randChars(rand: () => number, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

const hex8 = (rand: () => number) => Math.floor(rand() * 4294967296).toString(16).padStart(8, '0');

/** A v4-shaped UUID from the PRNG (36 chars). */
export function uuidFrom(rand: () => number): string {
  const a = hex8(rand);
  const b = hex8(rand);
  const c = hex8(rand);
  const d = hex8(rand);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${'89ab'[Math.floor(rand() * 4)]}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

const keyBuf = Buffer.from('session:xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx', 'latin1');
const HEX_CODES = Buffer.from(HEX, 'latin1');

/**
 * One `"session:" + uuid` key (44 B) from the PRNG, written byte by byte into a
 * scratch Buffer and decoded once: a flat sequential string, no cons string.
 */
export function sessionKey(rand: () => number): string {
  for (let i = 8; i < 44; i++) {
    if (i === 16 || i === 21 || i === 26 || i === 31 || i === 22) continue; // dashes and the version nibble
    keyBuf[i] = HEX_CODES[Math.floor(rand() * 16)];
  }
  keyBuf[27] = HEX_CODES[8 + Math.floor(rand() * 4)]; // variant 8..b
  return keyBuf.toString('latin1');
}

/** `n` distinct flat `"session:" + uuid` keys (44 B each). */
export function sessionKeys(n: number, seed = 1): string[] {
  const rand = prng(seed);
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = sessionKey(rand);
  return keys;
}

/** A base64url string of `n` chars from the PRNG (e.g. a 43-char SHA-256 handle). */
export function token(rand: () => number, n: number): string {
  return flat(randChars(rand, B64URL, n));
}

/** 64 Ki random base64url chars; a 22-char csrf token is a window of it (JSON.parse copies it out). */
let pool: string | undefined;
function csrf(rand: () => number): string {
  pool ??= randChars(prng(99), B64URL, 65536);
  const at = Math.floor(rand() * (pool.length - 22));
  return pool.substring(at, at + 22);
}

/** The JSON text of session `i` (~203 B). */
export function sessionJson(i: number, rand: () => number): string {
  const ip = `192.168.${(i >>> 8) & 255}.${i & 255}`;
  return (
    `{"userId":"user-${String(i % 1e10).padStart(10, '0')}","csrf":"${csrf(rand)}",` +
    `"createdAt":${CREATED_AT + (i % 1_000_000)},"seenAt":${CREATED_AT + 60_000 + (i % 1_000_000)},` +
    `"ip":"${ip}","userAgent":"Mozilla/5.0 Firefox/133.0","roles":"user,editor","mfa":true}`
  );
}

export interface SessionValue {
  userId: string;
  csrf: string;
  createdAt: number;
  seenAt: number;
  ip: string;
  userAgent: string;
  roles: string;
  mfa: boolean;
}

/** Session `i` as an object (fresh flat strings, 8 in-object fields). */
export function sessionValue(i: number, rand: () => number): SessionValue {
  return JSON.parse(sessionJson(i, rand)) as SessionValue;
}

/** `n` session values. */
export function sessionValues(n: number, seed = 2): SessionValue[] {
  const rand = prng(seed);
  const values = new Array<SessionValue>(n);
  for (let i = 0; i < n; i++) values[i] = sessionValue(i, rand);
  return values;
}

/**
 * The metadata a SessionCache session carries so that its stored value
 * `{ userId, metadata, createdAt }` has the same 8 leaf fields (~216 B of JSON,
 * 13 B more than the flat value because of the `"metadata":{}` wrapper).
 */
export function sessionMetadata(i: number, rand: () => number): Omit<SessionValue, 'userId' | 'createdAt'> {
  return JSON.parse(
    `{"csrf":"${csrf(rand)}","seenAt":${CREATED_AT + 60_000 + (i % 1_000_000)},"ip":"192.168.${(i >>> 8) & 255}.${i & 255}",` +
      `"userAgent":"Mozilla/5.0 Firefox/133.0","roles":"user,editor","mfa":true}`,
  ) as Omit<SessionValue, 'userId' | 'createdAt'>;
}

/** Mean JSON length of the first `n` values (for the report header). */
export function meanJsonBytes(n = 10_000): number {
  const rand = prng(2);
  let total = 0;
  for (let i = 0; i < n; i++) total += Buffer.byteLength(JSON.stringify(sessionValue(i * 97, rand)));
  return total / n;
}
