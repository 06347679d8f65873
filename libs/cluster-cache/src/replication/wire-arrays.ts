import { endianness } from 'node:os';

/**
 * Arrays of hashes on the wire: their bytes, little-endian, which msgpack
 * sends as one `bin` — 8 or 4 bytes per number and no per-number encoding,
 * where a number[] costs 5–9 bytes and a type check per element each way.
 */

const BIG_ENDIAN = endianness() === 'BE';

export function float64Bytes(array: Float64Array): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return BIG_ENDIAN ? Buffer.from(bytes).swap64() : bytes;
}

export function uint32Bytes(array: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return BIG_ENDIAN ? Buffer.from(bytes).swap32() : bytes;
}

/** The numbers in `bytes` (copied: received bytes need not be aligned for a typed-array view). */
export function float64sOf(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw new Error(`${bytes.byteLength} bytes are not a list of 8-byte numbers`);
  const array = new Float64Array(bytes.byteLength / 8);
  const copy = new Uint8Array(array.buffer);
  copy.set(bytes);
  if (BIG_ENDIAN) Buffer.from(copy.buffer).swap64();
  return array;
}

export function uint32sOf(bytes: Uint8Array): Uint32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`${bytes.byteLength} bytes are not a list of 4-byte numbers`);
  const array = new Uint32Array(bytes.byteLength / 4);
  const copy = new Uint8Array(array.buffer);
  copy.set(bytes);
  if (BIG_ENDIAN) Buffer.from(copy.buffer).swap32();
  return array;
}
