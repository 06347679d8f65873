/**
 * A value still in its value-codec bytes (values/value-codec.ts), as a peer
 * sent it or the disk copy holds it. The store keeps such a value as bytes
 * (store/compact/) instead of decoding it: most entries a node copies at a
 * join, loads at a restart or receives from a peer are never read on it.
 * Whoever needs the value decodes it with `decodeValue`.
 */
export class EncodedValue {
  constructor(
    /** Holds the value's bytes at `start` to `end`; it may be reused later: copy the bytes to keep them. */
    readonly source: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  /** The bytes, as a view of `source`. */
  bytes(): Uint8Array {
    return this.source.subarray(this.start, this.end);
  }
}

/** Whether a state's value field holds bytes not decoded yet. */
export function isEncoded(value: unknown): value is EncodedValue {
  return value instanceof EncodedValue;
}
