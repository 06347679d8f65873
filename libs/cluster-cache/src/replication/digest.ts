import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';

/**
 * Digests of a table, so two nodes find what differs after a split by
 * exchanging little: first a digest per bucket of keys, then, for the buckets
 * that differ, one (key hash, state hash) pair per key, and finally only the
 * states of keys whose hashes differ. A key's hash depends on its namespace and
 * key only; a state's hash on what identifies the write (version, seen,
 * origin, deleted), which stands for the value too. Expired states are left out.
 */

/** FNV-1a, 32 bits: fast, and enough to spread keys and spot differences. */
function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A 32-bit mix of one more 32-bit number into `hash` (murmur3's finaliser steps). */
function mix(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 52-bit hash of a state's namespace and key (two FNV-1a halves), exact in a double. */
export function keyHash(state: EntryState): number {
  const text = typeof state.key === 'object' ? `${state.ns}\u0000${JSON.stringify(state.key)}` : `${state.ns}\u0000${typeof state.key}:${state.key}`;
  return (fnv1a(text, 0x811c9dc5) & 0xfffff) * 0x100000000 + fnv1a(text, 0x01000193);
}

const originHashes = new Map<string, number>();

/** A 32-bit hash of what identifies the write that made a state. */
export function stateHash(key: number, state: EntryState): number {
  let origin = originHashes.get(state.origin);
  if (origin === undefined) originHashes.set(state.origin, (origin = fnv1a(state.origin, 0x811c9dc5)));
  let h = mix(key >>> 0, Math.floor(key / 0x100000000));
  h = mix(h, state.version >>> 0);
  h = mix(h, Math.floor(state.version / 0x100000000));
  h = mix(h, state.seen >>> 0);
  h = mix(h, Math.floor(state.seen / 0x100000000));
  h = mix(h, origin);
  return mix(h, state.deleted ? 1 : 0);
}

/** How many buckets to use for a table of `size` entries: about 64 states per bucket. */
export function bucketCount(size: number): number {
  let count = 64;
  while (count < 65_536 && count * 64 < size) count *= 2;
  return count;
}

/** The bucket of a key hash among `count` (a power of two). */
export function bucketOf(key: number, count: number): number {
  return key & (count - 1);
}

/** Two 32-bit accumulators per bucket (sum and xor), as one array of 2 × count numbers. */
export function bucketDigests(table: Table, count: number, now: number): number[] {
  const digests = new Array<number>(count * 2).fill(0);
  for (const state of table.states()) {
    if (state.expiresAt <= now) continue;
    const key = keyHash(state);
    const bucket = bucketOf(key, count);
    const hash = stateHash(key, state);
    digests[2 * bucket] = (digests[2 * bucket] + hash) >>> 0;
    digests[2 * bucket + 1] = (digests[2 * bucket + 1] ^ hash) >>> 0;
  }
  return digests;
}

/** Buckets whose digests differ. */
export function differingBuckets(mine: readonly number[], theirs: readonly number[]): number[] {
  const differ: number[] = [];
  for (let bucket = 0; bucket < mine.length / 2; bucket++) {
    if (mine[2 * bucket] !== theirs[2 * bucket] || mine[2 * bucket + 1] !== theirs[2 * bucket + 1]) differ.push(bucket);
  }
  return differ;
}

/** Key hash → state hash of the live states in some buckets. */
export function keySummaries(table: Table, count: number, buckets: readonly number[], now: number): Map<number, number> {
  const wanted = new Set(buckets);
  const summaries = new Map<number, number>();
  for (const state of table.states()) {
    if (state.expiresAt <= now) continue;
    const key = keyHash(state);
    if (wanted.has(bucketOf(key, count))) summaries.set(key, stateHash(key, state));
  }
  return summaries;
}

/** One digest of a whole table's live content (to compare nodes after a heal). */
export function tableDigest(table: Table, now: number): string {
  const digests = bucketDigests(table, 64, now);
  return digests.map((d) => d.toString(16).padStart(8, '0')).join('');
}
