import type { EntryState } from '../entry';
import { decodeFlat } from '../../values/flat-decode';
import { itemEnd, mapFieldStart } from '../../values/msgpack-walk';
import { RestingState } from './resting-state';

/**
 * Field `name` of a state's value when the value is an object that has it,
 * else undefined. Of a resting state not read yet, only that field is decoded
 * (an index that derives data from every state, such as the user index of
 * sessions, does not wake them all).
 */
export function fieldOf(state: EntryState, name: string): unknown {
  if (state instanceof RestingState) {
    const bytes = state.unreadBytes();
    if (bytes !== undefined) {
      const at = mapFieldStart(bytes, name);
      // Flat: an index keeps it (msgpackr would slice it out of a batch string).
      return at < 0 ? undefined : decodeFlat(bytes.subarray(at, itemEnd(bytes, at)));
    }
  }
  const value = state.value;
  if (typeof value !== 'object' || value === null || !(name in value)) return undefined;
  return (value as Record<string, unknown>)[name];
}
