import { copyBytes } from '../../values/copy-bytes';

/**
 * A record, in 8-byte words from its first (`at`):
 *
 * - `at`, `at + 1`, `at + 2`: expiresAt, version, seen (float64);
 * - `at + 3`: the value's length in bytes (uint32, LENGTH_AT), then the flags
 *   word (uint32, FLAGS_AT): the origin's name id (bits 0–14), the
 *   namespace's name id (bits 15–29), DROPPED (bit 30), READ (bit 31);
 * - from `at + 4` (BYTES_AT): the value's bytes, padded to a whole word.
 */
export const BYTES_AT = 4;
/** Index of the length in the record's uint32 view (relative to `2 * at`). */
export const LENGTH_AT = 6;
/** Index of the flags word in the record's uint32 view (relative to `2 * at`). */
export const FLAGS_AT = 7;
/** Bits of a name id. */
export const ORIGIN_BITS = 15;
/** Most names (namespaces and origins together) a slab can refer to. */
export const MAX_NAMES = 1 << ORIGIN_BITS;
/** The table no longer holds the record's state (overwritten, swept, flushed). */
export const DROPPED = 1 << 30;
/** The value was decoded: its bytes no longer count. */
export const READ = 1 << 31;

/** Words a record of a value of `length` bytes takes. */
export function recordWords(length: number): number {
  return BYTES_AT + ((length + 7) >>> 3);
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
  ) {
    const buffer = new ArrayBuffer(words * 8);
    this.bytes = Buffer.from(buffer);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }

  /** Whether a record of a value of `length` bytes fits. */
  fits(length: number): boolean {
    return this.used + recordWords(length) <= this.words;
  }

  /** Appends a record (it must fit); returns its first word. */
  write(expiresAt: number, version: number, seen: number, flags: number, source: Uint8Array, start: number, end: number): number {
    const at = this.used;
    const length = end - start;
    this.f64[at] = expiresAt;
    this.f64[at + 1] = version;
    this.f64[at + 2] = seen;
    this.u32[2 * at + LENGTH_AT] = length;
    this.u32[2 * at + FLAGS_AT] = flags;
    copyBytes(source, start, end, this.bytes, 8 * (at + BYTES_AT));
    const words = recordWords(length);
    this.used += words;
    this.live += words;
    return at;
  }

  /** The value of the record at `at` was decoded: its bytes no longer count. */
  valueRead(at: number): void {
    const flags = this.u32[2 * at + FLAGS_AT];
    if ((flags & READ) !== 0) return;
    this.u32[2 * at + FLAGS_AT] = (flags | READ) >>> 0;
    if ((flags & DROPPED) === 0) this.live -= recordWords(this.u32[2 * at + LENGTH_AT]) - BYTES_AT;
  }

  /** The table let go of the record's state: none of it counts any more. */
  dropped(at: number): void {
    const flags = this.u32[2 * at + FLAGS_AT];
    if ((flags & DROPPED) !== 0) return;
    this.u32[2 * at + FLAGS_AT] = (flags | DROPPED) >>> 0;
    this.live -= (flags & READ) !== 0 ? BYTES_AT : recordWords(this.u32[2 * at + LENGTH_AT]);
  }
}
