import type { EntryState } from '../store/entry';

/**
 * States as one flat array, `STATE_FIELDS` values per state:
 * `ns, key, value, expiresAt, version, seen, origin` (`value` undefined for a
 * tombstone; msgpackr keeps undefined apart from null). Replicated writes and
 * copies send states by the million: one array per write batch or copy chunk
 * costs neither side an object per state, and msgpackr encodes and decodes a
 * flat array faster than records or tuples.
 */
export type FlatStates = unknown[];

/** Values per state in {@link FlatStates}. */
export const STATE_FIELDS = 7;

/** Room for `count` states (an array made at its final size is filled faster than one grown by pushes). */
export function flatStates(count: number): FlatStates {
  return new Array<unknown>(count * STATE_FIELDS);
}

/** Writes `state` as the `index`-th state of `flat`. */
export function putFlat(flat: FlatStates, index: number, state: EntryState): void {
  const at = index * STATE_FIELDS;
  flat[at] = state.ns;
  flat[at + 1] = state.key;
  flat[at + 2] = state.value;
  flat[at + 3] = state.expiresAt;
  flat[at + 4] = state.version;
  flat[at + 5] = state.seen;
  flat[at + 6] = state.origin;
}

/**
 * The states of a flat array from a peer. Array keys are frozen, as every
 * stored key is; values are frozen only if they win a merge (`Store.merge`).
 * Runs of equal namespaces and origins share one string: msgpackr makes a new
 * string for each, which 1M replicated states would otherwise keep 2M of.
 * @throws Error when the array is not whole states.
 */
export function fromFlat(flat: FlatStates): EntryState[] {
  if (!Array.isArray(flat) || flat.length % STATE_FIELDS !== 0) throw new Error('malformed states from a peer: not a whole number of states');
  const states = new Array<EntryState>(flat.length / STATE_FIELDS);
  let ns = '';
  let origin = '';
  for (let i = 0, at = 0; at < flat.length; i++, at += STATE_FIELDS) {
    const key = flat[at + 1] as EntryState['key'];
    if (flat[at] !== ns) ns = flat[at] as string;
    if (flat[at + 6] !== origin) origin = flat[at + 6] as string;
    states[i] = {
      ns,
      key: typeof key === 'object' ? Object.freeze(key) : key,
      value: flat[at + 2],
      expiresAt: flat[at + 3] as number,
      version: flat[at + 4] as number,
      seen: flat[at + 5] as number,
      origin,
    };
  }
  return states;
}
