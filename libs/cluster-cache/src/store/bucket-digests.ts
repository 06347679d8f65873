import type { EntryState } from './entry';
import { keyHash, stateHash } from './state-hash';

/** The most buckets a digest request may ask for, and how many this keeps: a power of two. */
export const MAX_BUCKETS = 65_536;

/** The bucket of a key hash among `count` (a power of two ≤ MAX_BUCKETS): its low bits. */
export function bucketOf(keyHash: number, count: number): number {
  return keyHash & (count - 1);
}

/**
 * Per-bucket digests of the states stored in a table, kept up to date on
 * every install and removal, so a digest request costs O(buckets) instead of
 * a pass over the table. Each bucket holds two 32-bit accumulators of its
 * states' hashes, a sum and an xor; both can take a state out again. They are
 * kept for MAX_BUCKETS buckets and folded down to the count asked for: bucket
 * b of `count` is the sum (and xor) of the buckets whose low bits are b.
 */
export class BucketDigests {
  /** [sum, xor] per bucket. */
  private readonly accumulators = new Uint32Array(MAX_BUCKETS * 2);

  add(keyHash: number, state: EntryState): void {
    addTo(this.accumulators, bucketOf(keyHash, MAX_BUCKETS), stateHash(keyHash, state));
  }

  /** Adds a state by its key hash and its `stateHash`. */
  addHashed(keyHash: number, hash: number): void {
    addTo(this.accumulators, bucketOf(keyHash, MAX_BUCKETS), hash);
  }

  remove(keyHash: number, state: EntryState): void {
    takeFrom(this.accumulators, bucketOf(keyHash, MAX_BUCKETS), stateHash(keyHash, state));
  }

  clear(): void {
    this.accumulators.fill(0);
  }

  /**
   * The digests for `count` buckets (a power of two ≤ MAX_BUCKETS), [sum, xor]
   * per bucket, leaving out stored states that must not count (expired ones
   * not swept yet).
   */
  fold(count: number, leaveOut: Iterable<EntryState> = []): Uint32Array {
    const folded = new Uint32Array(count * 2);
    const mask = count - 1;
    for (let bucket = 0; bucket < MAX_BUCKETS; bucket++) {
      const at = 2 * (bucket & mask);
      folded[at] += this.accumulators[2 * bucket];
      folded[at + 1] ^= this.accumulators[2 * bucket + 1];
    }
    for (const state of leaveOut) {
      const key = keyHash(state.ns, state.key);
      takeFrom(folded, bucketOf(key, count), stateHash(key, state));
    }
    return folded;
  }
}

// Uint32Array stores wrap modulo 2^32, which is what the sums need.
function addTo(accumulators: Uint32Array, bucket: number, hash: number): void {
  accumulators[2 * bucket] += hash;
  accumulators[2 * bucket + 1] ^= hash;
}

function takeFrom(accumulators: Uint32Array, bucket: number, hash: number): void {
  accumulators[2 * bucket] -= hash;
  accumulators[2 * bucket + 1] ^= hash;
}
