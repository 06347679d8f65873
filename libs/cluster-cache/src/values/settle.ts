import { leavesToGetters, noteLeafValue } from './leaves';

/**
 * A decoded value (from a peer, the disk copy or Redis) made into what the
 * store holds, in place: binaries become `Uint8Array`s (msgpackr decodes them
 * as Buffers), mutable leaves inside arrays and objects become getters that
 * copy (see leaves.ts), and every array and object is frozen. Returns the
 * value to hold, which differs from `value` only when `value` itself is a
 * binary. A value that is already frozen (one this node made) is returned as
 * it is.
 *
 * Decoded data has no cycles (MessagePack has no references), so the walk
 * needs no guard; what it costs a value without leaves is what a deep freeze costs.
 */
export function settleValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    noteLeafValue();
    return asUint8Array(value) as T;
  }
  if (value instanceof Date) {
    noteLeafValue();
    return value;
  }
  if (Object.isFrozen(value)) return value;
  settleTree(value as Record<string, unknown>);
  return value;
}

/** Settles an array or object that is not frozen yet: its fields first, then it. */
function settleTree(container: Record<string, unknown>): void {
  let leaves = false;
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const field = container[i] as unknown;
      if (typeof field === 'object' && field !== null) leaves = settleField(container, i, field) || leaves;
    }
  } else {
    for (const key of Object.keys(container)) {
      const field = container[key];
      // Primitives need nothing: no call for them (most fields of a session are).
      if (typeof field === 'object' && field !== null) leaves = settleField(container, key, field) || leaves;
    }
  }
  if (leaves) leavesToGetters(container);
  Object.freeze(container);
}

/** Settles one object field of `container`; true when it is a mutable leaf. */
function settleField(container: Record<string | number, unknown>, key: string | number, field: object): boolean {
  if (ArrayBuffer.isView(field)) {
    container[key] = asUint8Array(field);
    return true;
  }
  if (field instanceof Date) return true;
  if (!Object.isFrozen(field)) settleTree(field as Record<string, unknown>);
  return false;
}

/**
 * Bytes as a plain `Uint8Array` of their own: a Buffer that owns its memory
 * (what a decoder with `copyBuffers` makes) is viewed as one; a view into a
 * larger buffer is copied, so it does not pin (or share) the rest of it.
 */
function asUint8Array(view: ArrayBufferView): Uint8Array {
  if (view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  if (view instanceof Uint8Array && view.constructor === Uint8Array) return view;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
