/**
 * Copies `source[start, end)` into `target` at `at` without a Buffer view in
 * between: a Buffer's `subarray` or `copy` costs more than copying a
 * session's few hundred bytes one by one.
 */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start < 256) {
    for (let i = start; i < end; i++) target[at++] = source[i];
  } else {
    target.set(new Uint8Array(source.buffer, source.byteOffset + start, end - start), at);
  }
}
