import { EncodedValue } from './encoded-value';
import { encodingOf, heldEncoding } from './held-encodings';
import { decodeValue } from './value-codec';

/**
 * How a state's value goes in a cluster message (flat-states.ts). Most values
 * go in line, encoded with the rest of the message (msgpackr records: compact,
 * and fast to decode). A value goes as its value-codec bytes (a `bin`) instead
 * when:
 *
 * - it is itself a `Uint8Array` (in line a peer could not tell it from bytes);
 * - its put measured it exactly and still holds its encoding (a large value:
 *   those bytes are sent, not encoded again);
 * - it alone is too large for a frame in line (see message-split.ts).
 *
 * So on the wire a binary in a state's value field always means "these are
 * the value's bytes", and a peer decodes them with the value codec.
 */
export function toWire(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return encodingOf(value);
  return heldEncoding(value) ?? value;
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

/** The value of a state as its bytes, for a message that is too large with the value in line. */
export function asWireBytes(value: unknown): Uint8Array | undefined {
  if (value === undefined || (typeof value === 'object' && value !== null && ArrayBuffer.isView(value))) return undefined;
  return encodingOf(value);
}
