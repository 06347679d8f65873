import { endianness } from 'node:os';
import { decodeValue } from './value-codec';

/**
 * Decodes value-codec bytes (plain MessagePack) into a value whose strings
 * are flat copies, for a value that is kept: a value held from its first
 * read for as long as the entry lives.
 *
 * msgpackr reads the strings of a buffer in one batch and hands out slices of
 * that batch: every string of 13 characters or more is a V8 sliced string
 * that keeps the whole batch alive (a session decoded so took ~390 B of heap
 * instead of ~200 B). This decoder makes each string on its own. It covers
 * maps with string keys, arrays, strings, numbers, booleans and nil; bytes
 * with anything else (binaries and extensions — Date, nested undefined —
 * which settle into copying leaves; 64-bit integers; a `__proto__` key) go
 * to `decodeValue`, and so does anything it does not read to the end. The
 * result is settled as `decodeValue`'s is (without leaves: deeply frozen).
 */
export function decodeFlat<V = unknown>(bytes: Uint8Array, start = 0, end = bytes.length): V {
  const reader = new FlatReader(bytes, start, end);
  const value = reader.item();
  if (value === UNSUPPORTED || reader.at !== end) return decodeValue<V>(bytes.subarray(start, end));
  return value as V;
}

/** Slots of the cache of map keys (a power of two). */
const KEY_CACHE_SIZE = 1024;
const keyCache = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

/** Whether `s` is the ASCII text of `bytes` from `start`. */
function sameAscii(s: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/**
 * Constructors of plain objects, one per field count up to MAX_SIZED_FIELDS:
 * V8 sizes the objects of each constructor to the fields they get, as
 * `JSON.parse` does, while an object literal holds 4 fields in itself and
 * the rest in a second array (a decoded 8-field session took 32 B more than
 * the same session from `JSON.parse`). Their objects are plain:
 * `Object.prototype` is their prototype.
 */
const MAX_SIZED_FIELDS = 10;
const SIZED_OBJECTS = Array.from({ length: MAX_SIZED_FIELDS + 1 }, () => {
  const SizedObject = function SizedObject() {} as unknown as new () => Record<string, unknown>;
  SizedObject.prototype = Object.prototype;
  return SizedObject;
});

/** Where `float` turns MessagePack's big-endian bytes into a number, in the platform's byte order. */
const LITTLE_ENDIAN = endianness() === 'LE';
const SCRATCH = new ArrayBuffer(8);
const SCRATCH_BYTES = new Uint8Array(SCRATCH);
const SCRATCH_F64 = new Float64Array(SCRATCH);
const SCRATCH_F32 = new Float32Array(SCRATCH, 0, 1);

/** Node's Buffer has `utf8Slice` (undocumented, as msgpackr's `latin1Slice`): what `toString('utf8', …)` calls after sorting its arguments out. */
type SlicingBuffer = Buffer & { utf8Slice?(start: number, end: number): string };
const HAS_UTF8_SLICE = typeof (Buffer.prototype as SlicingBuffer).utf8Slice === 'function';

/** What `item` returns for what it does not read. */
const UNSUPPORTED: unique symbol = Symbol('unsupported');

/** Reads one item from `start`; containers are frozen as they are completed (inner ones first). */
class FlatReader {
  at: number;
  private buffer: Buffer | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    /** Where the item must end: nothing is read past it. */
    private readonly end: number,
  ) {
    this.at = start;
  }

  item(): unknown {
    const bytes = this.bytes;
    if (this.at >= this.end) return UNSUPPORTED;
    const b = bytes[this.at++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f);
    if (b <= 0x9f) return this.array(b & 0x0f);
    if (b <= 0xbf) return this.string(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xca: return this.float(4);
      case 0xcb: return this.float(8);
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xd0: { const v = this.u8(); return v > 0x7f ? v - 0x100 : v; }
      case 0xd1: { const v = this.u16(); return v > 0x7fff ? v - 0x10000 : v; }
      case 0xd2: return this.u32() | 0;
      case 0xd9: return this.string(this.u8());
      case 0xda: return this.string(this.u16());
      case 0xdb: return this.string(this.u32());
      case 0xdc: return this.array(this.u16());
      case 0xdd: return this.array(this.u32());
      case 0xde: return this.map(this.u16());
      case 0xdf: return this.map(this.u32());
      default: return UNSUPPORTED;
    }
  }

  private map(fields: number): unknown {
    const object: Record<string, unknown> = fields <= MAX_SIZED_FIELDS ? new SIZED_OBJECTS[fields]() : {};
    for (let i = 0; i < fields; i++) {
      const key = this.key();
      if (typeof key !== 'string' || key === '__proto__') return UNSUPPORTED;
      const value = this.item();
      if (value === UNSUPPORTED) return UNSUPPORTED;
      object[key] = value;
    }
    return Object.freeze(object);
  }

  /** A map's key: a short one from the cache of keys (values of one kind share their field names). */
  private key(): unknown {
    const bytes = this.bytes;
    const b = bytes[this.at];
    if (b < 0xa0 || b > 0xbf) return this.item();
    const length = b & 0x1f;
    const start = this.at + 1;
    if (start + length > this.end) return UNSUPPORTED;
    let hash = length;
    for (let i = start; i < start + length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    const slot = (hash >>> 0) & (KEY_CACHE_SIZE - 1);
    const cached = keyCache[slot];
    if (cached !== undefined && cached.length === length && sameAscii(cached, bytes, start)) {
      this.at = start + length;
      return cached;
    }
    const key = this.item();
    if (typeof key === 'string') keyCache[slot] = key;
    return key;
  }

  private array(length: number): unknown {
    if (length > this.end - this.at) return UNSUPPORTED;
    const array = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const value = this.item();
      if (value === UNSUPPORTED) return UNSUPPORTED;
      array[i] = value;
    }
    return Object.freeze(array);
  }

  private string(length: number): unknown {
    const start = this.at;
    if (start + length > this.end) return UNSUPPORTED;
    this.at = start + length;
    const bytes = this.bytes;
    this.buffer ??= Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // ≈ 18 ns less per string than `toString`.
    return HAS_UTF8_SLICE ? (this.buffer as Required<SlicingBuffer>).utf8Slice(start, start + length) : this.buffer.toString('utf8', start, start + length);
  }

  private float(size: 4 | 8): unknown {
    if (this.at + size > this.end) return UNSUPPORTED;
    // Big-endian bytes reversed into a scratch float: no DataView made per value read (a session's timestamps are float64s).
    const bytes = this.bytes;
    for (let i = 0; i < size; i++) SCRATCH_BYTES[LITTLE_ENDIAN ? size - 1 - i : i] = bytes[this.at + i];
    this.at += size;
    return size === 4 ? SCRATCH_F32[0] : SCRATCH_F64[0];
  }

  private u8(): number {
    return this.bytes[this.at++];
  }

  private u16(): number {
    const v = (this.bytes[this.at] << 8) | this.bytes[this.at + 1];
    this.at += 2;
    return v;
  }

  private u32(): number {
    const b = this.bytes;
    const v = ((b[this.at] << 24) | (b[this.at + 1] << 16) | (b[this.at + 2] << 8) | b[this.at + 3]) >>> 0;
    this.at += 4;
    return v;
  }
}
