import type { EntryState } from '../entry';
import type { NormalKey } from '../key';
import type { EncodedValue } from '../../values/encoded-value';
import { type Sliced, TimedSlice } from '../../util/slices';
import { RestingState } from './resting-state';
import { BYTES_AT, FLAGS_AT, LENGTH_AT, MAX_NAMES, ORIGIN_BITS, READ, recordWords, SlabChunk } from './slab-chunk';

/** The first chunk's size in words (64 KiB): a small table costs little. */
const FIRST_CHUNK_WORDS = 8 * 1024;
/** Chunks double up to this size in words (4 MiB). */
const MAX_CHUNK_WORDS = 512 * 1024;
/** A slab smaller than this (in words: 2 MiB) is never compacted. */
const COMPACT_MIN_WORDS = 256 * 1024;
/**
 * A compaction slice ends once it has run this long (ms): a count of states
 * per slice would pause a busy or slow machine for much longer than a quiet
 * one, and a compaction must never pause the process for more than 5 ms.
 */
const COMPACTION_SLICE_MS = 2;

/**
 * The records of a table's resting states (see `RestingState`): a few large
 * buffers instead of objects per entry. Records are appended to the newest
 * chunk; a state the table lets go of (`drop`) or whose value is read leaves
 * garbage behind, and once garbage outweighs what still counts, a compaction
 * (`compaction`) copies the records of the states still listed into new
 * chunks, a slice at a time. Nothing is ever overwritten: a state that still
 * refers to an old chunk (held by a caller meanwhile) keeps it alive and
 * reads what it always read.
 */
export class RecordSlab {
  /** Namespaces and origins, by id. */
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private chunks: SlabChunk[] = [];
  private active: SlabChunk | undefined;
  private nextWords = FIRST_CHUNK_WORDS;
  private compacting = false;
  private written = false;

  /** Words in the slab's chunks (written). */
  get usedWords(): number {
    let n = 0;
    for (const chunk of this.chunks) n += chunk.used;
    return n;
  }

  /** Words that still count (see `SlabChunk.live`). */
  get liveWords(): number {
    let n = 0;
    for (const chunk of this.chunks) n += chunk.live;
    return n;
  }

  /** Whether no record was written since the slab was made or cleared. */
  get empty(): boolean {
    return !this.written;
  }

  /** Bytes of memory the chunks take. */
  get bytes(): number {
    let n = 0;
    for (const chunk of this.chunks) n += chunk.bytes.byteLength;
    return n;
  }

  /**
   * A resting state for `state`, whose value is `value`'s bytes (copied into
   * the slab), under `key`. Undefined when the slab cannot name its
   * namespace or origin (more than MAX_NAMES of them): the caller decodes.
   */
  rest(state: EntryState, key: NormalKey, value: EncodedValue): RestingState | undefined {
    const ns = this.nameId(state.ns);
    const origin = this.nameId(state.origin);
    if (ns === undefined || origin === undefined) return undefined;
    this.written = true;
    const chunk = this.chunkFor(value.end - value.start);
    const at = chunk.write(state.expiresAt, state.version, state.seen, (ns << ORIGIN_BITS) | origin, value.source, value.start, value.end);
    return new RestingState(key, chunk, at);
  }

  /** The table no longer holds `state` (overwritten, swept, flushed). */
  drop(state: EntryState): void {
    if (state instanceof RestingState) state.chunk.dropped(state.at);
  }

  /** Whether garbage outweighs what counts, in a slab large enough to bother. */
  get wantsCompaction(): boolean {
    if (this.compacting) return false;
    const used = this.usedWords;
    return used >= COMPACT_MIN_WORDS && this.liveWords * 2 < used;
  }

  /**
   * Copies the records of the resting states among `listed` (every state the
   * table may still hand out: its current states and those its expiry index
   * lists) out of the chunks that were full when it began, a slice of at
   * most about `sliceMs` per yield, then lets go of those chunks. Writes in between go to new chunks;
   * states that leave the table meanwhile are moved or not, either way they
   * stay readable.
   */
  *compaction(listed: Iterable<EntryState>, sliceMs = COMPACTION_SLICE_MS): Sliced<void> {
    this.compacting = true;
    const evacuating = this.chunks;
    for (const chunk of evacuating) chunk.evacuating = true;
    this.chunks = [];
    this.active = undefined;
    try {
      const slice = new TimedSlice(sliceMs);
      for (const state of listed) {
        if (state instanceof RestingState && state.chunk.evacuating) this.move(state);
        if (slice.over()) {
          yield;
          slice.next();
        }
      }
    } finally {
      for (const chunk of evacuating) chunk.evacuating = false;
      this.compacting = false;
    }
  }

  /** Copies `state`'s record to the active chunk (without its value's bytes once they were read). */
  private move(state: RestingState): void {
    const from = state.chunk;
    const at = state.at;
    const flags = from.u32[2 * at + FLAGS_AT];
    const length = (flags & READ) !== 0 ? 0 : from.u32[2 * at + LENGTH_AT];
    const start = 8 * (at + BYTES_AT);
    const to = this.chunkFor(length);
    // Counted in full where it lands, even a record the table let go of: a state that is still
    // listed (overwritten, waiting in the expiry index) holds it until the index lets go.
    const moved = to.write(from.f64[at], from.f64[at + 1], from.f64[at + 2], flags, from.bytes, start, start + length);
    state.chunk = to;
    state.at = moved;
  }

  /** Drops every record (a flush before a reload). States still held elsewhere keep their chunks. */
  clear(): void {
    this.chunks = [];
    this.active = undefined;
    this.nextWords = FIRST_CHUNK_WORDS;
    this.written = false;
  }

  private chunkFor(length: number): SlabChunk {
    const active = this.active;
    if (active !== undefined && active.fits(length)) return active;
    const words = recordWords(length);
    if (words > MAX_CHUNK_WORDS / 4) {
      // A large value gets a chunk of its own; the active chunk stays.
      const own = new SlabChunk(this.names, words);
      this.chunks.push(own);
      return own;
    }
    const chunk = new SlabChunk(this.names, Math.max(this.nextWords, words));
    this.nextWords = Math.min(MAX_CHUNK_WORDS, this.nextWords * 2);
    this.chunks.push(chunk);
    this.active = chunk;
    return chunk;
  }

  private nameId(name: string): number | undefined {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      if (this.names.length >= MAX_NAMES) return undefined;
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }
}
