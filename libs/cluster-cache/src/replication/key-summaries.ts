import { bucketOf } from '../store/bucket-digests';
import type { Table } from '../store/table';
import { keyHash, stateHash } from '../store/state-hash';
import { atOnce, inSlices, SLICE, Sliced } from '../util/slices';
import { KeyHashTable } from './key-hash-table';
import { float64Bytes, float64sOf, uint32Bytes, uint32sOf } from './wire-arrays';

/**
 * The second level of a table comparison: for the buckets whose digests
 * differ, a summary of each live key's state — enough to tell whether two
 * nodes hold the same state and, if not, which one wins the merge, so only
 * the winner is sent. Kept as parallel typed arrays and sent as their bytes
 * (29 bytes a key).
 */
export interface KeySummaries {
  /** Key hashes. */
  readonly keys: Float64Array;
  /** State hashes: equal means the same write. */
  readonly hashes: Uint32Array;
  /** The states' `seen` and `version`: the first two things `compareStates` orders by. */
  readonly seen: Float64Array;
  readonly versions: Float64Array;
  /** 1 when the state expires within EXPIRY_MARGIN: it may be gone before it is sent. */
  readonly expiring: Uint8Array;
}

/**
 * States that expire this soon (ms) move both ways whichever wins: if the
 * winner expired on the way, the other side's state must still reach its
 * peer, as a merge of both would have done. A heal step takes at most this long.
 */
export const EXPIRY_MARGIN = 60_000;

/** Most keys in one part of a summary reply: 7.25 MB, well inside the 16 MiB frame limit. */
export const SUMMARY_PART_KEYS = 250_000;

/** A part of a summary reply: the arrays of KeySummaries as bytes, in the order of its fields. */
export type SummaryPart = [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** The summaries of the live states of `table` in `buckets` (of `count`). */
export function keySummaries(table: Table, count: number, buckets: readonly number[], now: number): KeySummaries {
  return atOnce(summarise(table, count, buckets, now));
}

/**
 * `keySummaries`, a slice of the table per event-loop turn (a heal reads the
 * whole table: most of a second at a million entries). States written
 * meanwhile may be summarised or not — they reach the peer as replicated
 * writes — and a key removed and written again meanwhile may be summarised
 * twice, which `differences` treats as keys that share a hash (both ways).
 */
export function keySummariesInSlices(table: Table, count: number, buckets: readonly number[], now: number): Promise<KeySummaries> {
  return inSlices(summarise(table, count, buckets, now));
}

function* summarise(table: Table, count: number, buckets: readonly number[], now: number): Sliced<KeySummaries> {
  const wanted = new Uint8Array(count);
  for (const bucket of buckets) wanted[bucket] = 1;
  let summaries = allocate(table.size);
  let n = 0;
  let scanned = 0;
  for (const state of table.states()) {
    if (++scanned % SLICE === 0) yield;
    if (state.expiresAt <= now) continue;
    const key = keyHash(state.ns, state.key);
    if (wanted[bucketOf(key, count)] === 0) continue;
    // The table grew while this yielded.
    if (n === summaries.keys.length) summaries = grown(summaries, n);
    summaries.keys[n] = key;
    summaries.hashes[n] = stateHash(key, state);
    summaries.seen[n] = state.seen;
    summaries.versions[n] = state.version;
    summaries.expiring[n++] = state.expiresAt <= now + EXPIRY_MARGIN ? 1 : 0;
  }
  return slice(summaries, 0, n);
}

/** Summaries cut into parts of at most `partKeys` keys, so each part fits in a frame. */
export function summaryParts(summaries: KeySummaries, partKeys = SUMMARY_PART_KEYS): SummaryPart[] {
  const parts: SummaryPart[] = [];
  for (let from = 0; from === 0 || from < summaries.keys.length; from += partKeys) {
    const part = slice(summaries, from, Math.min(from + partKeys, summaries.keys.length));
    parts.push([float64Bytes(part.keys), uint32Bytes(part.hashes), float64Bytes(part.seen), float64Bytes(part.versions), part.expiring]);
  }
  return parts;
}

/** The summaries sent as `parts`, joined. */
export function joinParts(parts: readonly SummaryPart[]): KeySummaries {
  const decoded: KeySummaries[] = parts.map(([keys, hashes, seen, versions, expiring]) => ({
    keys: float64sOf(keys),
    hashes: uint32sOf(hashes),
    seen: float64sOf(seen),
    versions: float64sOf(versions),
    expiring,
  }));
  const joined = allocate(decoded.reduce((n, part) => n + part.keys.length, 0));
  let at = 0;
  for (const part of decoded) {
    const n = part.keys.length;
    if (part.hashes.length !== n || part.seen.length !== n || part.versions.length !== n || part.expiring.length !== n) {
      throw new Error('a summary part has arrays of different lengths');
    }
    joined.keys.set(part.keys, at);
    joined.hashes.set(part.hashes, at);
    joined.seen.set(part.seen, at);
    joined.versions.set(part.versions, at);
    joined.expiring.set(part.expiring, at);
    at += n;
  }
  return joined;
}

/** In the index of their summaries: a key hash more than one of their keys has. */
const SHARED = 0xffffffff;
/** In the index of their summaries: a key hash already compared with one of this node's keys. */
const COMPARED = 0xfffffffe;

/**
 * What to send for the keys whose summaries differ: `wanted`, the keys whose
 * state `theirs` should send (this node lacks the key, or their state wins),
 * and `offered`, the keys whose state this node should send. A key moves
 * both ways when the summaries cannot tell the winner (equal `seen` and
 * `version`: the origin decides), when a state may expire on the way, or
 * when two keys share a hash on either side; the receiving merge then
 * decides, as always.
 */
export function differences(mine: KeySummaries, theirs: KeySummaries): KeyDifferences {
  return atOnce(compare(mine, theirs));
}

/** `differences`, a slice of the keys per event-loop turn. */
export function differencesInSlices(mine: KeySummaries, theirs: KeySummaries): Promise<KeyDifferences> {
  return inSlices(compare(mine, theirs));
}

/** The keys to fetch from the peer (`wanted`) and to send it (`offered`). */
export interface KeyDifferences {
  wanted: Float64Array;
  offered: Float64Array;
}

function* compare(mine: KeySummaries, theirs: KeySummaries): Sliced<KeyDifferences> {
  const their = new KeyHashTable(theirs.keys.length);
  for (let j = 0; j < theirs.keys.length; j++) {
    if (their.set(theirs.keys[j], j) !== undefined) their.set(theirs.keys[j], SHARED);
    if ((j + 1) % SLICE === 0) yield;
  }
  const wanted = new Float64Array(mine.keys.length + theirs.keys.length);
  const offered = new Float64Array(mine.keys.length);
  let w = 0;
  let o = 0;
  for (let i = 0; i < mine.keys.length; i++) {
    if ((i + 1) % SLICE === 0) yield;
    const key = mine.keys[i];
    const j = their.update(key, COMPARED);
    if (j === undefined) {
      offered[o++] = key;
      continue;
    }
    // COMPARED: a second key of mine with this hash.
    const winner = j === SHARED || j === COMPARED ? 0 : whichWins(mine, i, theirs, j);
    if (winner === SAME) continue;
    if (winner <= 0) wanted[w++] = key;
    if (winner >= 0) offered[o++] = key;
  }
  // Their keys that no key of mine has.
  their.forEach((key, j) => {
    if (j !== COMPARED) wanted[w++] = key;
  });
  return { wanted: wanted.subarray(0, w), offered: offered.subarray(0, o) };
}

/** `whichWins`: both nodes hold the same state. */
const SAME = 2;

/** > 0 when this node's state (mine[i]) wins, < 0 when theirs[j] does, 0 when both must move, SAME when they are one state. */
function whichWins(mine: KeySummaries, i: number, theirs: KeySummaries, j: number): number {
  if (mine.hashes[i] === theirs.hashes[j]) return SAME;
  if (mine.expiring[i] === 1 || theirs.expiring[j] === 1) return 0;
  if (mine.seen[i] !== theirs.seen[j]) return mine.seen[i] > theirs.seen[j] ? 1 : -1;
  if (mine.versions[i] !== theirs.versions[j]) return mine.versions[i] > theirs.versions[j] ? 1 : -1;
  return 0;
}

/** `summaries` with room for twice as many keys, the first `n` kept. */
function grown(summaries: KeySummaries, n: number): KeySummaries {
  const bigger = allocate(Math.max(64, 2 * n));
  bigger.keys.set(summaries.keys.subarray(0, n));
  bigger.hashes.set(summaries.hashes.subarray(0, n));
  bigger.seen.set(summaries.seen.subarray(0, n));
  bigger.versions.set(summaries.versions.subarray(0, n));
  bigger.expiring.set(summaries.expiring.subarray(0, n));
  return bigger;
}

function allocate(length: number): KeySummaries {
  return { keys: new Float64Array(length), hashes: new Uint32Array(length), seen: new Float64Array(length), versions: new Float64Array(length), expiring: new Uint8Array(length) };
}

function slice(summaries: KeySummaries, from: number, to: number): KeySummaries {
  return {
    keys: summaries.keys.subarray(from, to),
    hashes: summaries.hashes.subarray(from, to),
    seen: summaries.seen.subarray(from, to),
    versions: summaries.versions.subarray(from, to),
    expiring: summaries.expiring.subarray(from, to),
  };
}
