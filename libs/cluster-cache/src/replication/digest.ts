import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';

/**
 * Per-bucket digests of a table, so two nodes find what differs after a split
 * by exchanging a few kilobytes and then send only the differing buckets'
 * states. A key's bucket depends on its namespace and key only; a state's
 * hash on what identifies the write (version, seen, origin, deleted), which
 * stands for the value too. Expired states are left out on both sides.
 */

/** FNV-1a, 32 bits: fast, good enough to spread keys and spot differences. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function keyText(state: EntryState): string {
  return typeof state.key === 'object' ? `${state.ns}\u0000${JSON.stringify(state.key)}` : `${state.ns}\u0000${typeof state.key}:${state.key}`;
}

/** How many buckets to use for a table of `size` entries: about 64 states per bucket. */
export function bucketCount(size: number): number {
  let count = 64;
  while (count < 65_536 && count * 64 < size) count *= 2;
  return count;
}

/** The bucket of a state among `count` (a power of two). */
export function bucketOf(state: EntryState, count: number): number {
  return fnv1a(keyText(state)) & (count - 1);
}

function stateHash(key: string, state: EntryState): number {
  return fnv1a(`${state.version}|${state.seen}|${state.origin}|${state.deleted ? 1 : 0}`, fnv1a(key));
}

/** Two 32-bit accumulators per bucket (sum and xor), as one array of 2 × count numbers. */
export function bucketDigests(table: Table, count: number, now: number): number[] {
  const digests = new Array<number>(count * 2).fill(0);
  for (const state of table.states()) {
    if (state.expiresAt <= now) continue;
    const key = keyText(state);
    const bucket = fnv1a(key) & (count - 1);
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

/** One digest of a whole table's live content (to compare nodes after a heal). */
export function tableDigest(table: Table, now: number): string {
  const digests = bucketDigests(table, 64, now);
  return digests.map((d) => d.toString(16).padStart(8, '0')).join('');
}
