import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import { encodingOf } from '../values/held-encodings';
import { decodeValue } from '../values/value-codec';
import { MAX_VALUE_BYTES } from '../values/value-limits';

/**
 * Values as Redis stores them: the value codec (values/value-codec.ts), the
 * encoding the mesh measures every put by and keeps its disk copy in, so a
 * value reads back on Redis exactly as on the mesh (the same allowed types,
 * see values/value-copy.ts). Decoded values are settled as on the mesh:
 * deeply frozen, binaries as Uint8Array, Dates and binaries inside handed out
 * as copies.
 */

/**
 * The bytes of a value (one the value model copied: `planWrite` or
 * `frozenCopy`). A put's value was measured already; other values (session
 * metadata) are checked against the same limit here.
 * @throws InvalidArgumentError when the encoding exceeds MAX_VALUE_BYTES.
 */
export function packValue(value: unknown): Buffer {
  const bytes = encodingOf(value);
  if (bytes.length > MAX_VALUE_BYTES) throw new InvalidArgumentError(messages.valueTooLarge('(session metadata)', bytes.length, MAX_VALUE_BYTES));
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A settled value from its bytes. */
export function unpackValue<V>(bytes: Buffer): V {
  return decodeValue<V>(bytes);
}
