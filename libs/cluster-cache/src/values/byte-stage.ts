import { copyBytes } from './copy-bytes';
import { EncodedValue } from './encoded-value';

/** Bytes per staging buffer. */
const STAGE_BYTES = 1 << 20;

/**
 * Copies value bytes out of buffers that are reused (LMDB's, while a load
 * reads records) into a few large buffers, handing out `EncodedValue`s over
 * them: a load keeps a million values as bytes without a buffer per value.
 * A staging buffer is freed once no value refers to it (the store copies the
 * bytes into its slab), or written over after `reuse`.
 */
export class ByteStage {
  private buffer: Buffer = Buffer.alloc(0);
  private used = 0;

  stage(source: Uint8Array, start: number, end: number): EncodedValue {
    const length = end - start;
    if (this.used + length > this.buffer.length) {
      this.buffer = Buffer.allocUnsafeSlow(Math.max(STAGE_BYTES, length));
      this.used = 0;
    }
    const at = this.used;
    copyBytes(source, start, end, this.buffer, at);
    this.used = at + length;
    return new EncodedValue(this.buffer, at, at + length);
  }

  /** Every value staged so far is dropped by its holders: the current buffer is written over from its start. */
  reuse(): void {
    this.used = 0;
  }
}
