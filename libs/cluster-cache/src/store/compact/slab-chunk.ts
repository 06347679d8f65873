import { copyBytes } from '../../values/copy-bytes';

/**
 * A record, in 8-byte words from its first (`at`):
 *
 * - `at`, `at + 1`, `at + 2`: expiresAt, version, seen (float64);
 * - `at + 3`: the value's length in bytes (uint32, LENGTH_AT), then the flags
 *   word (uint32, FLAGS_AT): the origin's name id (bits 0–14), the
 *   namespace's name id (bits 15–29), DROPPED (bit 30), READ (bit 31);
 * - `at + 4`: the key's length in bytes (uint32, KEY_LENGTH_AT; 0 when the
 *   state holding the record keeps its key), then the key's hash (KEY_HASH_AT);
 * - from `at + 5` (BYTES_AT): the key's bytes (one per char: keys in the
 *   resting index are Latin-1 strings), then the value's bytes, padded to a
 *   whole word.
 */
export const BYTES_AT = 5;
/** Index of the length in the record's uint32 view (relative to `2 * at`). */
export const LENGTH_AT = 6;
/** Index of the flags word in the record's uint32 view (relative to `2 * at`). */
export const FLAGS_AT = 7;
/** Index of the key's length in the record's uint32 view (relative to `2 * at`). */
export const KEY_LENGTH_AT = 8;
/** Index of the key's hash in the record's uint32 view (relative to `2 * at`). */
export const KEY_HASH_AT = 9;
/** Bits of a name id. */
export const ORIGIN_BITS = 15;
/** Most names (namespaces and origins together) a slab can refer to. */
export const MAX_NAMES = 1 << ORIGIN_BITS;
/** The table no longer holds the record's state (overwritten, swept, flushed). */
export const DROPPED = 1 << 30;
/** The value was decoded: its bytes no longer count. */
export const READ = 1 << 31;

/**
 * A record's reference, one int32 (what the resting index and the expiry
 * index hold instead of an object): its chunk's id times 2^REF_AT_BITS plus
 * its first word. Only chunks of at most 2^REF_AT_BITS words hold referenced
 * records, and at most MAX_CHUNK_IDS chunks have ids at once.
 */
export const REF_AT_BITS = 19;
/** A record's first word in its reference (`ref & AT_MASK`; its chunk's id is `ref >>> REF_AT_BITS`). */
export const AT_MASK = (1 << REF_AT_BITS) - 1;
export const MAX_CHUNK_IDS = 1 << (31 - REF_AT_BITS);

/** Words a record of a key of `keyLength` and a value of `length` bytes takes. */
export function recordWords(length: number, keyLength = 0): number {
  return BYTES_AT + ((keyLength + length + 7) >>> 3);
}

/**
 * One buffer of a slab: records written one after the other, never
 * overwritten (a state's record is immutable; compaction copies it to
 * another chunk). Counts the words that still count (`live`): records of
 * states the table holds, less the bytes of values already decoded.
 */
export class SlabChunk {
  /** The chunk's bytes (a Buffer view: string decoding reads it in place). */
  readonly bytes: Buffer;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  /** Words written. */
  used = 0;
  /** Words of records that still count. */
  live = 0;
  /** Set while a compaction moves this chunk's records out. */
  evacuating = false;

  constructor(
    /** The slab's names, shared by all its chunks (ids index it; it only grows). */
    readonly names: readonly string[],
    /** Capacity in words. */
    readonly words: number,
    /** The chunk's id in record references (see REF_AT_BITS), or -1 if it has none (any more). */
    public id = -1,
  ) {
    const buffer = new ArrayBuffer(words * 8);
    this.bytes = Buffer.from(buffer);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }

  /** Whether a record of a value of `length` bytes and a key of `keyLength` fits. */
  fits(length: number, keyLength = 0): boolean {
    return this.used + recordWords(length, keyLength) <= this.words;
  }

  /**
   * Appends a record (it must fit) of the value `source[start, end)` and,
   * if given, the key (Latin-1 chars) and its hash; returns its first word.
   */
  write(expiresAt: number, version: number, seen: number, flags: number, source: Uint8Array, start: number, end: number, key?: string, keyHash = 0): number {
    const at = this.used;
    const length = end - start;
    const keyLength = key === undefined ? 0 : key.length;
    this.f64[at] = expiresAt;
    this.f64[at + 1] = version;
    this.f64[at + 2] = seen;
    this.u32[2 * at + LENGTH_AT] = length;
    this.u32[2 * at + FLAGS_AT] = flags;
    this.u32[2 * at + KEY_LENGTH_AT] = keyLength;
    this.u32[2 * at + KEY_HASH_AT] = keyHash;
    let to = 8 * (at + BYTES_AT);
    for (let i = 0; i < keyLength; i++) this.bytes[to++] = key!.charCodeAt(i);
    copyBytes(source, start, end, this.bytes, to);
    const words = recordWords(length, keyLength);
    this.used += words;
    this.live += words;
    return at;
  }

  /** Copies the record at `at` of `from` here (without its value's bytes once they were read); returns its first word. */
  copy(from: SlabChunk, at: number): number {
    const flags = from.u32[2 * at + FLAGS_AT];
    const keyLength = from.u32[2 * at + KEY_LENGTH_AT];
    const length = (flags & READ) !== 0 ? 0 : from.u32[2 * at + LENGTH_AT];
    const to = this.used;
    const words = recordWords(length, keyLength);
    // Words, not bytes: the header, the key and the value are whole words together. A loop, not
    // `set(subarray)`: a view per record moved would be garbage that brings scavenges into the slices.
    const source = from.f64;
    const target = this.f64;
    for (let i = 0; i < words; i++) target[to + i] = source[at + i];
    if (length === 0) this.u32[2 * to + LENGTH_AT] = 0;
    this.used += words;
    // Counted in full where it lands, even a record the table let go of: a state that is still
    // listed (overwritten, waiting in the expiry index) holds it until the index lets go.
    this.live += words;
    return to;
  }

  /** Where the value's bytes of the record at `at` begin (a byte offset). */
  valueStart(at: number): number {
    return 8 * (at + BYTES_AT) + this.u32[2 * at + KEY_LENGTH_AT];
  }

  /** The expiry of the record at `at`. */
  expiresAt(at: number): number {
    return this.f64[at];
  }

  /** The version of the record at `at`. */
  version(at: number): number {
    return this.f64[at + 1];
  }

  /** The `seen` of the record at `at`. */
  seen(at: number): number {
    return this.f64[at + 2];
  }

  /** The namespace of the record at `at`. */
  ns(at: number): string {
    return this.names[(this.u32[2 * at + FLAGS_AT] >>> ORIGIN_BITS) & 0x7fff];
  }

  /** The origin of the record at `at`. */
  origin(at: number): string {
    return this.names[this.u32[2 * at + FLAGS_AT] & 0x7fff];
  }

  /** The key's hash (`restingKeyHash`) of the record at `at` (a resting index's record). */
  keyHash(at: number): number {
    return this.u32[2 * at + KEY_HASH_AT] | 0;
  }

  /** Where the key's bytes of the record at `at` begin (a byte offset), and their length. */
  keyStart(at: number): number {
    return 8 * (at + BYTES_AT);
  }

  keyLength(at: number): number {
    return this.u32[2 * at + KEY_LENGTH_AT];
  }

  /** The key of the record at `at` (a resting index's record: see `write`). */
  key(at: number): string {
    const start = this.keyStart(at);
    return this.bytes.toString('latin1', start, start + this.keyLength(at));
  }

  /** Whether the record at `at` holds `key` (whose hash matched). */
  holdsKey(at: number, key: string): boolean {
    if (this.u32[2 * at + KEY_LENGTH_AT] !== key.length) return false;
    const bytes = this.bytes;
    const start = 8 * (at + BYTES_AT);
    for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The value of the record at `at` was decoded: its bytes no longer count. */
  valueRead(at: number): void {
    const flags = this.u32[2 * at + FLAGS_AT];
    if ((flags & READ) !== 0) return;
    this.u32[2 * at + FLAGS_AT] = (flags | READ) >>> 0;
    if ((flags & DROPPED) === 0) this.live -= recordWords(this.u32[2 * at + LENGTH_AT], this.u32[2 * at + KEY_LENGTH_AT]) - recordWords(0, this.u32[2 * at + KEY_LENGTH_AT]);
  }

  /** The table let go of the record's state: none of it counts any more. */
  dropped(at: number): void {
    const flags = this.u32[2 * at + FLAGS_AT];
    if ((flags & DROPPED) !== 0) return;
    this.u32[2 * at + FLAGS_AT] = (flags | DROPPED) >>> 0;
    const keyLength = this.u32[2 * at + KEY_LENGTH_AT];
    this.live -= recordWords((flags & READ) !== 0 ? 0 : this.u32[2 * at + LENGTH_AT], keyLength);
  }

  /** Whether the table let go of the record's state. */
  isDropped(at: number): boolean {
    return (this.u32[2 * at + FLAGS_AT] & DROPPED) !== 0;
  }
}
