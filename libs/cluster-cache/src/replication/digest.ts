import { MAX_BUCKETS } from '../store/bucket-digests';
import type { Table } from '../store/table';

/**
 * The first level of a table comparison: a digest per bucket of keys, which
 * each replicated table keeps up to date as it changes (`Table.liveDigests`),
 * so asking for them costs O(buckets). For the buckets that differ, the nodes
 * then compare a summary per key (key-summaries.ts), and finally send each
 * other only the states of the keys that differ.
 */

/** How many buckets to use for a table of `size` entries: about 64 states per bucket. */
export function bucketCount(size: number): number {
  let count = 64;
  while (count < MAX_BUCKETS && count * 64 < size) count *= 2;
  return count;
}

/** Buckets whose digests ([sum, xor] per bucket) differ. */
export function differingBuckets(mine: Uint32Array, theirs: Uint32Array): number[] {
  if (mine.length !== theirs.length) throw new Error(`digests of ${mine.length / 2} and ${theirs.length / 2} buckets cannot be compared`);
  const differ: number[] = [];
  for (let bucket = 0; bucket < mine.length / 2; bucket++) {
    if (mine[2 * bucket] !== theirs[2 * bucket] || mine[2 * bucket + 1] !== theirs[2 * bucket + 1]) differ.push(bucket);
  }
  return differ;
}

/** One digest of a whole table's live content (to compare nodes after a heal). */
export function tableDigest(table: Table, now: number): string {
  return [...table.liveDigests(64, now)].map((d) => d.toString(16).padStart(8, '0')).join('');
}
