import { Packr, Unpackr } from 'msgpackr';
import { EntryState, isTombstone } from '../store/entry';
import { deepFreeze } from '../util/deep-freeze';
import { decodeStoredKey, encodeStoredKey } from './key-codec';

/** A state as stored: key bytes, value bytes, and the version LMDB keeps beside the value. */
export interface StoredState {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly version: number;
}

const LIVE = 0;
const TOMBSTONE = 1;

/**
 * Turns states into stored bytes and back. The value is a MessagePack array
 * `[expiresAt, seen, origin, 0, value]` (a tombstone: `[expiresAt, seen,
 * origin, 1]`); the version is LMDB's entry version, which is what lets
 * `forget` remove an entry only if it still has the version it was given.
 *
 * Plain MessagePack without msgpackr records: every value decodes on its own,
 * with no shared structure table that could be lost or damaged.
 */
export class StateCodec {
  private readonly packr = new Packr({ useRecords: false });
  // copyBuffers: LMDB hands out buffers it reuses, so binary data must be copied out.
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

  /**
   * @throws Error saying why the state cannot be stored.
   */
  encode(state: EntryState): StoredState {
    const key = encodeStoredKey(state.ns, state.key);
    if (!Number.isFinite(state.version)) throw new Error(`its version ${state.version} is not a finite number`);
    const record = isTombstone(state)
      ? [state.expiresAt, state.seen, state.origin, TOMBSTONE]
      : [state.expiresAt, state.seen, state.origin, LIVE, state.value];
    let value: Buffer;
    try {
      value = this.packr.pack(record);
    } catch (error) {
      throw new Error(`its value cannot be encoded as MessagePack (${error instanceof Error ? error.message : String(error)})`);
    }
    return { key, value, version: state.version };
  }

  /**
   * Decodes a stored entry into a state whose key and value are frozen.
   * @throws Error saying what is wrong with the bytes.
   */
  decode(key: Uint8Array, value: Uint8Array, version: number | undefined): EntryState {
    const { ns, key: normalKey } = decodeStoredKey(key);
    if (typeof version !== 'number' || !Number.isFinite(version)) throw new Error('it has no valid version');
    const record: unknown = this.unpackr.unpack(value);
    if (!Array.isArray(record) || (record.length !== 4 && record.length !== 5)) throw new Error('its value is not a state record');
    const [expiresAt, seen, origin, kind] = record as unknown[];
    if (typeof expiresAt !== 'number' || typeof seen !== 'number' || typeof origin !== 'string') {
      throw new Error('its state record has fields of the wrong type');
    }
    if (!(kind === TOMBSTONE && record.length === 4) && !(kind === LIVE && record.length === 5)) {
      throw new Error('its state record is neither a value nor a tombstone');
    }
    return {
      ns,
      key: normalKey,
      value: kind === LIVE ? deepFreeze(record[4]) : undefined,
      expiresAt,
      version,
      seen,
      origin,
    };
  }
}
