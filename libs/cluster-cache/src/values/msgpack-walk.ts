/**
 * Finding things in MessagePack bytes without decoding them: where an item
 * ends, where a map's field is. For a value held as its bytes (a resting
 * state, a record of the disk copy), a reader that needs one small field
 * decodes only that field.
 */

/** Where the item starting at `at` ends. @throws RangeError when the bytes end first or hold a reserved byte. */
export function itemEnd(bytes: Uint8Array, at: number): number {
  let pending = 1;
  while (pending > 0) {
    if (at >= bytes.length) throw new RangeError('MessagePack item cut short');
    const b = bytes[at];
    pending--;
    if (b <= 0x7f || b >= 0xe0) at += 1;
    else if (b <= 0x8f) (pending += 2 * (b & 0x0f)), (at += 1);
    else if (b <= 0x9f) (pending += b & 0x0f), (at += 1);
    else if (b <= 0xbf) at += 1 + (b & 0x1f);
    else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: at += 1; break;
        case 0xc4: case 0xd9: at += 2 + bytes[at + 1]; break;
        case 0xc5: case 0xda: at += 3 + u16(bytes, at + 1); break;
        case 0xc6: case 0xdb: at += 5 + u32(bytes, at + 1); break;
        case 0xc7: at += 3 + bytes[at + 1]; break;
        case 0xc8: at += 4 + u16(bytes, at + 1); break;
        case 0xc9: at += 6 + u32(bytes, at + 1); break;
        case 0xcc: case 0xd0: at += 2; break;
        case 0xcd: case 0xd1: at += 3; break;
        case 0xca: case 0xce: case 0xd2: at += 5; break;
        case 0xcb: case 0xcf: case 0xd3: at += 9; break;
        case 0xd4: at += 3; break;
        case 0xd5: at += 4; break;
        case 0xd6: at += 6; break;
        case 0xd7: at += 10; break;
        case 0xd8: at += 18; break;
        case 0xdc: pending += u16(bytes, at + 1); at += 3; break;
        case 0xdd: pending += u32(bytes, at + 1); at += 5; break;
        case 0xde: pending += 2 * u16(bytes, at + 1); at += 3; break;
        case 0xdf: pending += 2 * u32(bytes, at + 1); at += 5; break;
        default: throw new RangeError(`MessagePack reserved byte 0x${b.toString(16)}`);
      }
    }
  }
  if (at > bytes.length) throw new RangeError('MessagePack item cut short');
  return at;
}

/**
 * Where the value of field `name` (ASCII) of the map at the start of `bytes`
 * starts, or -1 when the bytes are a map without that field; -2 when they are
 * not a map at all.
 */
export function mapFieldStart(bytes: Uint8Array, name: string): number {
  const b = bytes[0];
  let fields: number;
  let at: number;
  if (b >= 0x80 && b <= 0x8f) (fields = b & 0x0f), (at = 1);
  else if (b === 0xde) (fields = u16(bytes, 1)), (at = 3);
  else if (b === 0xdf) (fields = u32(bytes, 1)), (at = 5);
  else return -2;
  for (let i = 0; i < fields; i++) {
    const valueAt = itemEnd(bytes, at);
    if (isString(bytes, at, name)) return valueAt;
    at = itemEnd(bytes, valueAt);
  }
  return -1;
}

/** Whether the item at `at` is the string `name` (ASCII). */
function isString(bytes: Uint8Array, at: number, name: string): boolean {
  const length = stringLength(bytes, at);
  if (length !== name.length) return false;
  const start = stringStart;
  for (let i = 0; i < length; i++) if (bytes[start + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** Where the last {@link stringLength} found the string's bytes (a module variable: no pair allocated per call). */
let stringStart = 0;

/** The byte length of the MessagePack string at `at` (its bytes start at `stringStart`), or -1 if the item is not a string. */
function stringLength(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b >= 0xa0 && b <= 0xbf) return (stringStart = at + 1), b & 0x1f;
  if (b === 0xd9) return (stringStart = at + 2), bytes[at + 1];
  if (b === 0xda) return (stringStart = at + 3), u16(bytes, at + 1);
  if (b === 0xdb) return (stringStart = at + 5), u32(bytes, at + 1);
  return -1;
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * Reads numbers and strings one after the other from MessagePack bytes (a
 * record's header fields), for a reader that then takes the rest as bytes.
 * Each read returns undefined when the item there is not of that type.
 */
export class ScalarReader {
  bytes: Uint8Array = new Uint8Array(0);
  at = 0;
  private view = new DataView(this.bytes.buffer);

  /** Reads from `at` of `bytes` from now on. */
  reset(bytes: Uint8Array, at: number): this {
    if (bytes.buffer !== this.bytes.buffer) this.view = new DataView(bytes.buffer);
    this.bytes = bytes;
    this.at = at;
    return this;
  }

  number(): number | undefined {
    const { bytes, view } = this;
    const at = this.at;
    if (at >= bytes.length) return undefined;
    const b = bytes[at];
    const o = bytes.byteOffset + at + 1;
    let value: number;
    let size: number;
    if (b <= 0x7f) (value = b), (size = 1);
    else if (b >= 0xe0) (value = b - 0x100), (size = 1);
    else {
      switch (b) {
        case 0xcc: value = bytes[at + 1]; size = 2; break;
        case 0xcd: value = view.getUint16(o); size = 3; break;
        case 0xce: value = view.getUint32(o); size = 5; break;
        case 0xcf: value = Number(view.getBigUint64(o)); size = 9; break;
        case 0xd0: value = view.getInt8(o); size = 2; break;
        case 0xd1: value = view.getInt16(o); size = 3; break;
        case 0xd2: value = view.getInt32(o); size = 5; break;
        case 0xd3: value = Number(view.getBigInt64(o)); size = 9; break;
        case 0xca: value = view.getFloat32(o); size = 5; break;
        case 0xcb: value = view.getFloat64(o); size = 9; break;
        default: return undefined;
      }
    }
    if (at + size > bytes.length) return undefined;
    this.at = at + size;
    return value;
  }

  string(): string | undefined {
    const { bytes } = this;
    const length = stringLength(bytes, this.at);
    if (length < 0) return undefined;
    const start = stringStart;
    if (start + length > bytes.length) return undefined;
    this.at = start + length;
    return decoder.decode(bytes.subarray(start, start + length));
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
