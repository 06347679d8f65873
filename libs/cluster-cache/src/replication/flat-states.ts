import { RestingState } from '../store/compact/resting-state';
import type { EntryState } from '../store/entry';
import { fromWire, fromWireAsBytes, toWire } from '../values/wire-value';

/**
 * States as one flat array, `STATE_FIELDS` values per state:
 * `ns, key, value, expiresAt, version, seen, origin` (`value` undefined for a
 * tombstone; msgpackr keeps undefined apart from null; a binary `value` is the
 * value's bytes, see values/wire-value.ts). Replicated writes and
 * copies send states by the million: one array per write batch or copy chunk
 * costs neither side an object per state, and msgpackr encodes and decodes a
 * flat array faster than records or tuples. A state whose `ns` or `origin`
 * equals the previous state's carries `null` there instead (most do: a batch
 * is mostly one node's writes to one namespace), which spares both sides a
 * string per field.
 */
export type FlatStates = unknown[];

/** Values per state in {@link FlatStates}. */
export const STATE_FIELDS = 7;

/** Room for `count` states (an array made at its final size is filled faster than one grown by pushes). */
export function flatStates(count: number): FlatStates {
  return new Array<unknown>(count * STATE_FIELDS);
}

/**
 * Writes `state` as the `index`-th state of `flat`. Its value goes as its
 * bytes (values/wire-value.ts), which the peer keeps at rest instead of
 * decoding; a value at rest here (store/compact/) as the bytes it is held
 * in, without reading it.
 * @param previous the state written at `index - 1`, if any.
 */
export function putFlat(flat: FlatStates, index: number, state: EntryState, previous?: EntryState): void {
  const at = index * STATE_FIELDS;
  flat[at] = previous !== undefined && previous.ns === state.ns ? null : state.ns;
  flat[at + 1] = state.key;
  flat[at + 2] = wireValueOf(state);
  flat[at + 3] = state.expiresAt;
  flat[at + 4] = state.version;
  flat[at + 5] = state.seen;
  flat[at + 6] = previous !== undefined && previous.origin === state.origin ? null : state.origin;
}

function wireValueOf(state: EntryState): unknown {
  return (state instanceof RestingState ? state.unreadBytes() : undefined) ?? toWire(state.value);
}

/**
 * Two flat arrays holding the states of `flat` (at least two), in order: the
 * first half and the rest, each starting with its namespace and origin written out.
 */
export function splitFlat(flat: FlatStates): [FlatStates, FlatStates] {
  const at = (flat.length / STATE_FIELDS >> 1) * STATE_FIELDS;
  const second = flat.slice(at);
  for (const field of [0, 6]) {
    if (second[field] !== null) continue;
    // The value the elided field repeats: the last one written out before the split.
    let back = at - STATE_FIELDS;
    while (flat[back + field] === null) back -= STATE_FIELDS;
    second[field] = flat[back + field];
  }
  return [flat.slice(0, at), second];
}

/**
 * The states of a flat array from a peer. Array keys are frozen, as every
 * stored key is; values sent as bytes are decoded (or, with `valuesAsBytes`,
 * left as bytes that the store keeps at rest), and values are settled
 * (frozen) only if they win a merge (`Store.merge`).
 * Runs of equal namespaces and origins share one string.
 * @throws Error when the array is not whole states.
 */
export function fromFlat(flat: FlatStates, valuesAsBytes = false): EntryState[] {
  if (!Array.isArray(flat) || flat.length % STATE_FIELDS !== 0) throw new Error('malformed states from a peer: not a whole number of states');
  const states = new Array<EntryState>(flat.length / STATE_FIELDS);
  let ns = '';
  let origin = '';
  for (let i = 0, at = 0; at < flat.length; i++, at += STATE_FIELDS) {
    const key = flat[at + 1] as EntryState['key'];
    // null: the same as the previous state's (see putFlat); the first state must say.
    if (flat[at] !== null) ns = flat[at] as string;
    if (flat[at + 6] !== null) origin = flat[at + 6] as string;
    if (i === 0 && (flat[at] === null || flat[at + 6] === null)) throw new Error('malformed states from a peer: the first state has no namespace or origin');
    states[i] = {
      ns,
      key: typeof key === 'object' ? Object.freeze(key) : key,
      value: valuesAsBytes ? fromWireAsBytes(flat[at + 2]) : fromWire(flat[at + 2]),
      expiresAt: flat[at + 3] as number,
      version: flat[at + 4] as number,
      seen: flat[at + 5] as number,
      origin,
    };
  }
  return states;
}
