import { EntryState, isTombstone } from '../store/entry';
import { RestingState } from '../store/compact/resting-state';
import { ByteStage } from '../values/byte-stage';
import { heldEncoding } from '../values/held-encodings';
import { itemEnd, ScalarReader } from '../values/msgpack-walk';
import { settleValue } from '../values/settle';
import { encodeValue, encodeWithTail, unpackRecord } from '../values/value-codec';
import { decodeStoredKey, encodeStoredKey } from '../codec/key-codec';
import { recordChecksum } from './record-checksum';

/** A state as stored: key bytes, value bytes, and the version LMDB keeps beside the value. */
export interface StoredState {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly version: number;
}

const LIVE = 0;
const TOMBSTONE = 1;

/**
 * The first byte of a checksummed record: 0xc1, which MessagePack never uses,
 * so no record of an earlier build (a bare MessagePack array, 0x94 or 0x95)
 * starts with it.
 */
export const CHECKSUMMED = 0xc1;
/** The marker byte and the CRC-32 (uint32, big-endian). */
const HEADER = 5;

/**
 * Turns states into stored bytes and back. The value is the marker byte
 * 0xc1, a CRC-32 of the record (see `recordChecksum`: key, version and
 * payload), and the payload: a MessagePack array `[expiresAt, seen, origin,
 * 0, value]` (a tombstone: `[expiresAt, seen, origin, 1]`). The version is
 * LMDB's entry version, which is what lets `forget` remove an entry only if it
 * still has the version it was given.
 *
 * Records of an earlier build are the bare payload, without marker and
 * checksum; `decode` reads them only when told the table may hold such
 * records (`strict: false`).
 *
 * The payload is in the value codec (values/value-codec.ts): plain
 * MessagePack without msgpackr records, so every value decodes on its own,
 * with no shared structure table that could be lost or damaged, and binary
 * data is copied out of LMDB's reused buffers. It is the encoding a put
 * measures and Redis stores; a value whose put still holds its encoding (a
 * large one) is not encoded again. Decoded values are settled as every stored
 * value is (values/settle.ts), or handed over as its bytes (`decode`'s
 * `valuesAsBytes`); a resting state's value is written from its bytes
 * without decoding it (store/compact/).
 */
export class StateCodec {
  private readonly reader = new ScalarReader();
  private readonly stage = new ByteStage();

  /**
   * @throws Error saying why the state cannot be stored.
   */
  encode(state: EntryState): StoredState {
    const key = encodeStoredKey(state.ns, state.key);
    if (!Number.isFinite(state.version)) throw new Error(`its version ${state.version} is not a finite number`);
    let payload: Buffer;
    try {
      const held = state instanceof RestingState ? (state.unreadBytes() ?? heldEncoding(state.value)) : heldEncoding(state.value);
      if (isTombstone(state)) payload = encodeValue([state.expiresAt, state.seen, state.origin, TOMBSTONE]);
      else if (held === undefined) payload = encodeValue([state.expiresAt, state.seen, state.origin, LIVE, state.value]);
      else payload = encodeWithTail([state.expiresAt, state.seen, state.origin, LIVE], held);
    } catch (error) {
      throw new Error(`its value cannot be encoded as MessagePack (${error instanceof Error ? error.message : String(error)})`);
    }
    const value = Buffer.allocUnsafe(HEADER + payload.length);
    value[0] = CHECKSUMMED;
    value.writeUInt32BE(recordChecksum(key, state.version, payload), 1);
    payload.copy(value, HEADER);
    return { key, value, version: state.version };
  }

  /**
   * Decodes a stored entry into a state whose key and value are frozen. A
   * checksummed record is decoded only if its checksum matches; one without
   * a checksum only with `strict: false` (a table that may still hold records
   * of an earlier build). With `valuesAsBytes`, the value of a checksummed
   * record is handed over as its bytes (an `EncodedValue`, copied out of
   * `value`), not decoded: the checksum vouches for them.
   * @throws Error saying what is wrong with the bytes.
   */
  decode(key: Uint8Array, value: Uint8Array, version: number | undefined, strict = true, valuesAsBytes = false): EntryState {
    if (typeof version !== 'number' || !Number.isFinite(version)) throw new Error('it has no valid version');
    let payload: Uint8Array;
    if (value[0] === CHECKSUMMED) {
      if (value.length < HEADER) throw new Error('it is cut short');
      payload = value.subarray(HEADER);
      const stored = ((value[1] << 24) | (value[2] << 16) | (value[3] << 8) | value[4]) >>> 0;
      if (recordChecksum(key, version, payload) !== stored) throw new Error('its checksum does not match: its key, version or value changed on disk');
    } else if (strict) {
      throw new Error('it has no checksum, which every record of this table has');
    } else {
      payload = value;
    }
    const { ns, key: normalKey } = decodeStoredKey(key);
    if (valuesAsBytes && value[0] === CHECKSUMMED) {
      const resting = this.restingRecord(payload);
      if (resting !== undefined) return { ns, key: normalKey, value: resting.value, expiresAt: resting.expiresAt, version, seen: resting.seen, origin: resting.origin };
    }
    const record: unknown = unpackRecord(payload);
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
      value: kind === LIVE ? settleValue(record[4]) : undefined,
      expiresAt,
      version,
      seen,
      origin,
    };
  }

  /** Values staged so far are no longer referred to: their buffer is written over from the start. */
  reuseStage(): void {
    this.stage.reuse();
  }

  /**
   * The fields of a live record `[expiresAt, seen, origin, 0, value]` with
   * the value as its bytes; undefined for anything else (a tombstone, other
   * field types), which the full decode handles.
   */
  private restingRecord(payload: Uint8Array): { expiresAt: number; seen: number; origin: string; value: unknown } | undefined {
    if (payload[0] !== 0x95) return undefined;
    const reader = this.reader.reset(payload, 1);
    const expiresAt = reader.number();
    const seen = reader.number();
    const origin = reader.string();
    if (expiresAt === undefined || seen === undefined || origin === undefined || payload[reader.at] !== LIVE) return undefined;
    const start = reader.at + 1;
    if (start >= payload.length || itemEnd(payload, start) !== payload.length) throw new Error('its value is not one MessagePack item');
    return { expiresAt, seen, origin, value: this.stage.stage(payload, start, payload.length) };
  }
}
