import { EncodedValue } from './encoded-value';
import { encodingOf } from './held-encodings';
import { decodeValue } from './value-codec';

/**
 * How a state's value goes in a cluster message (flat-states.ts): as its
 * value-codec bytes (a `bin`), for every value. The receiving store keeps
 * those bytes at rest until the value is read there (store/compact/), so a
 * peer's write costs that node no decode and no object, and a value never
 * meets the link's msgpackr record limits. A put that measured its value
 * exactly still holds the encoding (a large value): those bytes are sent, not
 * encoded again. A tombstone's `undefined` goes as it is.
 *
 * So on the wire a binary in a state's value field always means "these are
 * the value's bytes", and a peer decodes them with the value codec (a value
 * in line, from a node that sent values so, is taken as it is).
 */
export function toWire(value: unknown): unknown {
  return value === undefined ? undefined : encodingOf(value);
}

/** A value of a state as a peer sent it; settled by the store when it wins a merge (a binary is decoded and settled here). */
export function fromWire(field: unknown): unknown {
  return typeof field === 'object' && field !== null && ArrayBuffer.isView(field) ? decodeValue(field as Uint8Array) : field;
}

/**
 * A value of a state as a peer sent it, for a store that keeps values as
 * bytes until they are read (store/compact/): a binary (the value's bytes)
 * stays bytes, an `EncodedValue` that the store copies into its slab.
 */
export function fromWireAsBytes(field: unknown): unknown {
  if (typeof field !== 'object' || field === null || !ArrayBuffer.isView(field)) return field;
  const bytes = field as Uint8Array;
  return new EncodedValue(bytes, 0, bytes.byteLength);
}
