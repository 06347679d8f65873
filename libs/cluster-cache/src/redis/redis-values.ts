import { Packr, Unpackr } from 'msgpackr';
import { deepFreeze } from '../util/deep-freeze';

/**
 * Values as Redis stores them: plain MessagePack (no shared record
 * structures, so every value decodes on its own), the format of the mesh's
 * disk copy. Decoded values are deeply frozen, as on the mesh.
 */
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The bytes of a value. */
export function packValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** A deeply frozen value from its bytes. */
export function unpackValue<V>(bytes: Buffer): V {
  return deepFreeze(unpackr.unpack(bytes) as V);
}
