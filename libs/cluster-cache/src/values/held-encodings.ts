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

/**
 * Holds an encoding of each object value of `states` that holds none yet (a
 * write both saved and sent to peers: the disk record and the message reuse
 * it); returns the values it holds, for {@link releaseEncoding} once both took them.
 */
export function holdEncodings(states: readonly { readonly value: unknown }[]): object[] {
  const held: object[] = [];
  for (const { value } of states) {
    if (typeof value !== 'object' || value === null || heldEncoding(value) !== undefined) continue;
    holdEncoding(value, encodeValue(value));
    held.push(value);
  }
  return held;
}

/** The encoding of `value` held by its put, if any. */
export function heldEncoding(value: unknown): Uint8Array | undefined {
  return holding === 0 || typeof value !== 'object' || value === null ? undefined : held.get(value);
}

/** The encoding of `value`: the one its put holds, or a new one. */
export function encodingOf(value: unknown): Uint8Array {
  return heldEncoding(value) ?? encodeValue(value);
}
