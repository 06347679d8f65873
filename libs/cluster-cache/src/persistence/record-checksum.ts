import { crc32 } from 'node:zlib';

/**
 * The checksum of a stored record: CRC-32 (zlib's) over its key bytes, its
 * version (float64, big-endian) and its payload, so damage to any of the three
 * shows. The key and version are short and go through a table here; the
 * payload goes through zlib.
 */
export function recordChecksum(key: Uint8Array, version: number, payload: Uint8Array): number {
  let crc = ~0;
  for (let i = 0; i < key.length; i++) crc = TABLE[(crc ^ key[i]) & 0xff] ^ (crc >>> 8);
  VERSION.setFloat64(0, version);
  for (let i = 0; i < 8; i++) crc = TABLE[(crc ^ VERSION_BYTES[i]) & 0xff] ^ (crc >>> 8);
  return crc32(payload, ~crc >>> 0);
}

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

const VERSION_BYTES = new Uint8Array(8);
const VERSION = new DataView(VERSION_BYTES.buffer);
