import type { KeyPart, NormalKey } from '../store/key';

/**
 * The bytes a state is stored under: its namespace, then its key's parts.
 * Shared by the disk copy (persistence/) and the Redis backend (its key index).
 *
 * We encode keys ourselves instead of using lmdb's ordered-binary encoding:
 * ordered-binary writes strings of 64+ characters raw, so a control character
 * in them would be read back as an array separator, and it turns -0 into
 * garbage. This format is small, exact for every string and finite number, and
 * does not change when a dependency is upgraded (a key must always encode to
 * the same bytes, or a save would not overwrite the entry it replaces).
 *
 * Each element is a tag byte and its data:
 * - `0x01` + uint16 length + UTF-8 bytes: a string;
 * - `0x02` + float64 (big-endian): a finite number (`-0` is stored as `0`);
 * - `0x03` + uint16 length + UTF-16LE bytes: a string with lone surrogates,
 *   which UTF-8 cannot represent.
 * A scalar key is stored as `[ns, key]`, an array key as `[ns, ...key]`; as
 * normalised array keys have two or more elements, the two never collide.
 */

/** LMDB's largest key (lmdb-js default for 4 KiB pages). */
export const MAX_STORED_KEY_BYTES = 1978;

const UTF8 = 0x01;
const NUMBER = 0x02;
const UTF16 = 0x03;
const MAX_STRING_BYTES = 0xffff;
/** In a `u` regex a valid surrogate pair is one code point, so this finds only lone surrogates. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A decoded stored key. */
export interface DecodedKey {
  readonly ns: string;
  readonly key: NormalKey;
}

/**
 * Encodes a namespace and a normalised key.
 * @throws Error saying why the key cannot be stored (too long, not a valid key).
 */
export function encodeStoredKey(ns: string, key: NormalKey): Buffer {
  if (typeof ns !== 'string') throw new Error('the namespace is not a string');
  const parts: readonly KeyPart[] = typeof key === 'object' ? key : [key];
  if (parts.length === 0) throw new Error('an array key must not be empty');
  const out = encodeKeyElements([ns, ...parts]);
  if (out.length > MAX_STORED_KEY_BYTES) {
    throw new Error(`the key takes ${out.length} bytes on disk, more than the ${MAX_STORED_KEY_BYTES} that fit`);
  }
  return out;
}

/**
 * Encodes key elements in this format. The encoding of leading elements is a
 * byte prefix of the encoding of every longer list that starts with them, so
 * a sorted index can be walked by prefix (the Redis backend's key index).
 * @throws Error naming an element that is not a string or finite number.
 */
export function encodeKeyElements(elements: readonly KeyPart[]): Buffer {
  let size = 0;
  for (const element of elements) size += elementSize(element);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const element of elements) at = writeElement(out, at, element);
  return out;
}

function elementSize(part: unknown): number {
  if (typeof part === 'number') {
    if (!Number.isFinite(part)) throw new Error(`a key element must be a finite number, not ${part}`);
    return 9;
  }
  if (typeof part !== 'string') throw new Error(`a key element must be a string or a number, not ${typeof part}`);
  const bytes = LONE_SURROGATE.test(part) ? part.length * 2 : Buffer.byteLength(part, 'utf8');
  if (bytes > MAX_STRING_BYTES) throw new Error(`a key element takes ${bytes} bytes, more than the ${MAX_STRING_BYTES} allowed`);
  return 3 + bytes;
}

function writeElement(out: Buffer, at: number, part: KeyPart): number {
  if (typeof part === 'number') {
    out[at] = NUMBER;
    out.writeDoubleBE(part === 0 ? 0 : part, at + 1); // -0 === 0: store one zero
    return at + 9;
  }
  const utf16 = LONE_SURROGATE.test(part);
  out[at] = utf16 ? UTF16 : UTF8;
  const length = out.write(part, at + 3, utf16 ? 'utf16le' : 'utf8');
  out.writeUInt16BE(length, at + 1);
  return at + 3 + length;
}

/**
 * Decodes a stored key: the scalar or frozen array key it was saved as.
 * @throws Error saying what is wrong with the bytes.
 */
export function decodeStoredKey(bytes: Uint8Array): DecodedKey {
  const [ns, ...parts] = decodeKeyElements(bytes);
  if (typeof ns !== 'string') throw new Error('it does not start with a namespace');
  if (parts.length === 0) throw new Error('it has no key after the namespace');
  return { ns, key: parts.length === 1 ? parts[0] : Object.freeze(parts) };
}

/**
 * Decodes what `encodeKeyElements` wrote.
 * @throws Error saying what is wrong with the bytes.
 */
export function decodeKeyElements(bytes: Uint8Array): KeyPart[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: KeyPart[] = [];
  let at = 0;
  while (at < buf.length) {
    const tag = buf[at];
    if (tag === NUMBER) {
      if (at + 9 > buf.length) throw new Error('a number is cut short');
      const n = buf.readDoubleBE(at + 1);
      if (!Number.isFinite(n)) throw new Error('a number is not finite');
      elements.push(n);
      at += 9;
    } else if (tag === UTF8 || tag === UTF16) {
      if (at + 3 > buf.length) throw new Error('a string is cut short');
      const end = at + 3 + buf.readUInt16BE(at + 1);
      if (end > buf.length) throw new Error('a string is cut short');
      elements.push(buf.toString(tag === UTF8 ? 'utf8' : 'utf16le', at + 3, end));
      at = end;
    } else {
      throw new Error(`unknown element tag ${tag} at byte ${at}`);
    }
  }
  return elements;
}

/** A key for messages: `ns:key` with the key as JSON (numbers and strings stay apart). */
export function describeKey(ns: string, key: NormalKey): string {
  return `${ns}:${JSON.stringify(key)}`;
}

/** Stored key bytes for messages: decoded when possible, hex otherwise. */
export function describeStoredKey(bytes: Uint8Array): string {
  try {
    const { ns, key } = decodeStoredKey(bytes);
    return describeKey(ns, key);
  } catch {
    return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
  }
}
