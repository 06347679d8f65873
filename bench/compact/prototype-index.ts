/**
 * A prototype, not the library: what an entry at rest costs when the table's
 * index of fixed-size session keys is open addressing over typed arrays
 * instead of a JS Map of objects (issue 17's proposal), against a raw Map in
 * the same process. Records hold the key's bytes, the same 32-byte header as
 * the library's slab records and the value's MessagePack bytes; the index is
 * an Int32Array of record offsets at a load factor ≤ 0.5; a lookup hashes the
 * key string's chars and compares them with the record's key bytes.
 *
 *   node --expose-gc -r @swc-node/register bench/compact/prototype-index.ts   (BENCH_N, default 1M)
 */
import { fmtBytes, fmtRatio, fullGc, median, prng, table } from '../util/harness';
import { sessionKey, sessionValue } from '../util/session-data';
import { encodeValue } from '../../libs/cluster-cache/src/values/value-codec';

const N = process.env.BENCH_N === undefined ? 1_000_000 : Number(process.env.BENCH_N);
const HEADER = 32;

function heap(): number {
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

class TypedIndex {
  readonly slots: Int32Array;
  readonly bytes: Uint8Array;
  readonly f64: Float64Array;
  used = 8; // offset 0 means empty
  constructor(n: number, bytes: number) {
    this.slots = new Int32Array(1 << Math.ceil(Math.log2(2 * n)));
    const buffer = new ArrayBuffer((bytes + 7) & ~7);
    this.bytes = new Uint8Array(buffer);
    this.f64 = new Float64Array(buffer);
  }
  put(key: string, value: Uint8Array, expiresAt: number, version: number): void {
    const at = this.used;
    const b = this.bytes;
    b[at] = key.length;
    for (let i = 0; i < key.length; i++) b[at + 1 + i] = key.charCodeAt(i);
    const head = (at + 1 + key.length + 7) & ~7;
    this.f64[head >> 3] = expiresAt;
    this.f64[(head >> 3) + 1] = version;
    b.set(value, head + HEADER);
    b[head + 24] = value.length & 255;
    b[head + 25] = value.length >> 8;
    this.used = (head + HEADER + value.length + 7) & ~7;
    const mask = this.slots.length - 1;
    for (let s = hashOf(key) & mask; ; s = (s + 1) & mask) {
      if (this.slots[s] === 0) {
        this.slots[s] = at;
        return;
      }
    }
  }
  /** The record's offset, or -1. */
  find(key: string): number {
    const mask = this.slots.length - 1;
    const b = this.bytes;
    for (let s = hashOf(key) & mask; ; s = (s + 1) & mask) {
      const at = this.slots[s];
      if (at === 0) return -1;
      if (b[at] !== key.length) continue;
      let i = 0;
      while (i < key.length && b[at + 1 + i] === key.charCodeAt(i)) i++;
      if (i === key.length) return at;
    }
  }
}

function cpuNsPerOp(ops: number, loop: () => number): number {
  const c0 = process.cpuUsage();
  if (loop() < 0) throw new Error('unreachable');
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / ops;
}

function main(): void {
  const rand = prng(21);
  const keyRand = prng(22);
  const keys: string[] = [];
  const values: Uint8Array[] = [];
  let valueBytes = 0;
  for (let i = 0; i < N; i++) {
    keys.push(sessionKey(keyRand));
    const v = encodeValue(sessionValue(i, rand));
    values.push(new Uint8Array(v));
    valueBytes += v.length;
  }
  const before = heap();
  const index = new TypedIndex(N, N * (48 + HEADER) + valueBytes + N * 8 + 64);
  const expiresAt = Date.now() + 1_800_000;
  for (let i = 0; i < N; i++) index.put(keys[i], values[i], expiresAt + i, 1e15 + i);
  const typedBytes = (heap() - before) / N;
  const usedBytes = (index.used + index.slots.byteLength) / N;
  // The anchor: a raw Map of the decoded values, in the same process.
  const m0 = heap();
  const map = new Map<string, unknown>();
  const rand2 = prng(21);
  // Fresh copies of the keys: a Map holds a key string per entry (the records hold the key's bytes).
  for (let i = 0; i < N; i++) map.set(Buffer.from(keys[i], 'latin1').toString('latin1'), sessionValue(i, rand2));
  const mapBytes = (heap() - m0) / N;
  const order = keys.map((k) => Buffer.from(k, 'latin1').toString('latin1'));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const typed: number[] = [];
  const mapped: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t = cpuNsPerOp(order.length, () => {
      let n = 0;
      for (const k of order) if (index.find(k) > 0) n++;
      return n;
    });
    const m = cpuNsPerOp(order.length, () => {
      let n = 0;
      for (const k of order) if (map.get(k) !== undefined) n++;
      return n;
    });
    if (r > 0) (typed.push(t), mapped.push(m));
  }
  process.stdout.write(
    `### Prototype: open-addressing index over records (${N.toLocaleString('en')} sessions, heapUsed + arrayBuffers Δ)\n\n` +
      table(
        ['layout', 'bytes / entry', 'lookup (CPU ns, random order)'],
        [
          // Bytes written and index size: exact (a large ArrayBuffer's untouched pages are not all counted by memoryUsage).
          ['records (key bytes + 32 B header + value bytes) + Int32Array index', `${fmtBytes(usedBytes)} (memoryUsage Δ ${fmtBytes(typedBytes)})`, `${median(typed).toFixed(0)} ns`],
          ['raw Map<key, value> (anchor, key strings included)', fmtBytes(mapBytes), `${median(mapped).toFixed(0)} ns`],
        ],
      ) +
      `\n\nlookup speed vs Map.get: ${fmtRatio(median(mapped) / median(typed))} (a lookup that finds a record, not a decoded value).\n`,
  );
}

main();
