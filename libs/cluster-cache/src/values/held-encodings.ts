import { encodeValue } from './value-codec';

/**
 * Encodings a put made of its values (those it had to measure exactly, see
 * write-plan.ts), held while the write is handed to the disk copy and the
 * replication, so neither encodes the value again. The put releases them as
 * soon as the write is handed over: a value is held twice (object and bytes)
 * only while it is being written.
 */
const held = new WeakMap<object, Uint8Array>();
/** Encodings held now: while 0 (almost always), a lookup costs one comparison. */
let holding = 0;

/** Holds the encoding of `value` (an object a put stores) until {@link releaseEncoding}. */
export function holdEncoding(value: object, bytes: Uint8Array): void {
  if (!held.has(value)) holding++;
  held.set(value, bytes);
}

export function releaseEncoding(value: unknown): void {
  if (holding !== 0 && typeof value === 'object' && value !== null && held.delete(value)) holding--;
}

/** The encoding of `value` held by its put, if any. */
export function heldEncoding(value: unknown): Uint8Array | undefined {
  return holding === 0 || typeof value !== 'object' || value === null ? undefined : held.get(value);
}

/** The encoding of `value`: the one its put holds, or a new one. */
export function encodingOf(value: unknown): Uint8Array {
  return heldEncoding(value) ?? encodeValue(value);
}
