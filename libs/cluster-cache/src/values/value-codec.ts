import { Packr, Unpackr } from 'msgpackr';
import { settleValue } from './settle';

/**
 * The one encoding of values outside a cluster message: the bytes a put is
 * measured by (`MAX_VALUE_BYTES`), the disk copy (`StateCodec`), Redis, and a
 * value that travels in a message as its bytes (wire-value.ts).
 *
 * Plain MessagePack without msgpackr's records: every value decodes on its
 * own, with no structure table that could be lost. Plain objects are maps
 * (decoded as objects), arrays are arrays, `Uint8Array` is `bin`, `Date` is a
 * timestamp, nested `undefined` msgpackr's own extension. The options are
 * those the disk copy always had, so existing disk copies still decode.
 */
const packr = new Packr({ useRecords: false });
// copyBuffers: a decoded Uint8Array must not pin (or share) the buffer it was read from (LMDB reuses its buffers).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

/** The bytes of a value (one the value model accepted: see value-copy.ts). @throws Error from msgpackr for what it cannot encode. */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** A value from its bytes, settled as every stored value is (see `settleValue`). @throws Error when the bytes are not MessagePack. */
export function decodeValue<V = unknown>(bytes: Uint8Array): V {
  return settleValue(unpackr.unpack(bytes) as V);
}

/**
 * A value-codec record (an array) whose last element is a value already
 * encoded: the same bytes as `encodeValue([...head, value])`, without encoding
 * the value again. `head` must be plain numbers and strings.
 */
export function encodeWithTail(head: readonly unknown[], tail: Uint8Array): Buffer {
  if (head.length >= 15) throw new Error('encodeWithTail: at most 14 head elements');
  const front = packr.pack(head);
  // A fixarray header (0x90 | n) of the head, one more element for the tail.
  const out = Buffer.allocUnsafe(front.length + tail.length);
  front.copy(out, 0);
  out[0] = 0x90 | (head.length + 1);
  out.set(tail, front.length);
  return out;
}

/** The unpackr of the value codec, for records around values (`StateCodec`): decode with it, then settle the value. */
export function unpackRecord(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}
