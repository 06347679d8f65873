import type { EntryState } from '../entry';
import type { NormalKey } from '../key';
import type { EncodedValue } from '../../values/encoded-value';
import { type Sliced, TimedSlice } from '../../util/slices';
import type { Listed } from '../expiry-index';
import { isRestingKey, restingKeyHash, type RecordChunks, type RestingIndex } from './resting-index';
import { RestingState } from './resting-state';
import { AT_MASK, KEY_LENGTH_AT, LENGTH_AT, MAX_CHUNK_IDS, MAX_NAMES, ORIGIN_BITS, recordWords, REF_AT_BITS, SlabChunk } from './slab-chunk';

/** The first chunk's size in words (64 KiB): a small table costs little. */
const FIRST_CHUNK_WORDS = 8 * 1024;
/** Chunks double up to this size in words (4 MiB): a record's first word fits REF_AT_BITS. */
const MAX_CHUNK_WORDS = 1 << REF_AT_BITS;
/** A slab smaller than this (in words: 2 MiB) is never compacted. */
const COMPACT_MIN_WORDS = 256 * 1024;
/**
 * A compaction moves the records out of the chunks at least half garbage
 * (sparse: moving a word frees at least one), and starts once their garbage
 * is this share of the slab. Records die in the order they were written more
 * often than not (sessions expire, are replaced), so old chunks turn sparse
 * first: the slab stays within about a third above what counts, where
 * waiting for garbage to outweigh the whole slab let it swing to twice that
 * (and a compaction then copied every record still held).
 */
const COMPACT_AT_GARBAGE_SHARE = 0.25;
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
 * garbage behind, and once the chunks at least half garbage hold enough of
 * it, a compaction (`compaction`) copies their records still listed into new
 * chunks, a slice at a time. Nothing is ever overwritten: a state that still
 * refers to an old chunk (held by a caller meanwhile) keeps it alive and
 * reads what it always read.
 */
export class RecordSlab implements RecordChunks {
  /** Namespaces and origins, by id. */
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private chunks: SlabChunk[] = [];
  /** The chunks a running compaction moves records out of (held until it ends). */
  private evacuating: readonly SlabChunk[] = [];
  private active: SlabChunk | undefined;
  private nextWords = FIRST_CHUNK_WORDS;
  private compacting = false;
  /** Chunks by id (see REF_AT_BITS), and the ids free for new chunks. */
  private readonly byId: Array<SlabChunk | undefined> = [];
  private readonly freeIds: number[] = [];
  /** Bumped by `clear`: a compaction running then stops. */
  private generation = 0;

  /** Bytes of memory the chunks take. */
  get bytes(): number {
    let n = 0;
    for (const chunk of this.chunks) n += chunk.bytes.byteLength;
    for (const chunk of this.evacuating) n += chunk.bytes.byteLength;
    return n;
  }

  /** Whether a compaction is running. */
  get isCompacting(): boolean {
    return this.compacting;
  }

  chunkById(id: number): SlabChunk {
    return this.byId[id]!;
  }

  /**
   * A resting state for `state`, whose value is `value`'s bytes (copied into
   * the slab), under `key`. Its record holds the key too when `index` can
   * hold it (a Latin-1 string key: the state then belongs to `index`, see
   * `RestingIndex`); else the state object holds the key. Undefined when the
   * slab cannot name its namespace or origin (more than MAX_NAMES of them):
   * the caller decodes.
   */
  rest(state: EntryState, key: NormalKey, value: EncodedValue, index?: RestingIndex): RestingState | undefined {
    const ns = this.nameId(state.ns);
    const origin = this.nameId(state.origin);
    if (ns === undefined || origin === undefined) return undefined;
    const flags = (ns << ORIGIN_BITS) | origin;
    const length = value.end - value.start;
    if (index !== undefined && isRestingKey(key)) {
      const chunk = this.chunkFor(length, key.length);
      if (chunk.id >= 0) {
        const at = chunk.write(state.expiresAt, state.version, state.seen, flags, value.source, value.start, value.end, key, restingKeyHash(key));
        return new RestingState(key, chunk, at, index);
      }
    }
    const chunk = this.chunkFor(length);
    const at = chunk.write(state.expiresAt, state.version, state.seen, flags, value.source, value.start, value.end);
    return new RestingState(key, chunk, at);
  }

  /**
   * The resting state of the record `ref` (listed by the expiry index) in
   * `index`, or undefined if the table let go of it.
   */
  stateAt(ref: number, index: (ns: string) => RestingIndex): RestingState | undefined {
    if (!this.holds(ref)) return undefined;
    const chunk = this.byId[ref >>> REF_AT_BITS]!;
    const at = ref & AT_MASK;
    return new RestingState(chunk.key(at), chunk, at, index(chunk.ns(at)));
  }

  /** Whether the table still holds the record `ref` (listed by the expiry index; negative: none). */
  holds(ref: number): boolean {
    if (ref < 0) return false;
    const chunk = this.byId[ref >>> REF_AT_BITS];
    return chunk !== undefined && !chunk.isDropped(ref & AT_MASK);
  }

  /** The table no longer holds `state` (overwritten, swept, flushed). */
  drop(state: EntryState): void {
    if (state instanceof RestingState) state.chunk.dropped(state.at);
  }

  /** Whether the sparse chunks hold garbage enough to compact, in a slab large enough to bother (see COMPACT_AT_GARBAGE_SHARE). */
  get wantsCompaction(): boolean {
    if (this.compacting) return false;
    let used = 0;
    let garbage = 0;
    for (const chunk of this.chunks) {
      used += chunk.used;
      if (this.isSparse(chunk)) garbage += chunk.used - chunk.live;
    }
    return used >= COMPACT_MIN_WORDS && garbage >= COMPACT_AT_GARBAGE_SHARE * used;
  }

  /** Whether a chunk is at least half garbage (the active one too: a table whose every entry was read leaves it all garbage). */
  private isSparse(chunk: SlabChunk): boolean {
    return chunk.used > 0 && chunk.live * 2 <= chunk.used;
  }

  /**
   * Copies the records that still count out of the sparse chunks (see
   * COMPACT_AT_GARBAGE_SHARE), a slice of at most about `sliceMs` per yield,
   * then lets go of those chunks. `walk` hands it every state the table may still
   * hand out — its current states and overwritten ones waiting for their
   * expiry, as the expiry index lists them (see `ExpiryIndex.rewrite`) — and
   * lists what it gives back: it moves the records of resting states,
   * rewrites the references of resting indexes (`index` names a
   * namespace's) in the lists and the index, and unlists the references of
   * records the table let go of. Writes in between go to new chunks; states
   * that leave the table meanwhile are moved or not, either way they stay
   * readable.
   */
  *compaction(
    walk: (relocate: (listed: Listed) => Listed | undefined, slice: TimedSlice) => Sliced<void>,
    index: (ns: string) => RestingIndex,
    sliceMs = COMPACTION_SLICE_MS,
    /** Called before the evacuated chunks are freed (references to them then name other records). */
    beforeFree: () => void = () => undefined,
  ): Sliced<void> {
    this.compacting = true;
    const generation = this.generation;
    const evacuating = this.chunks.filter((chunk) => this.isSparse(chunk));
    for (const chunk of evacuating) chunk.evacuating = true;
    this.evacuating = evacuating;
    this.chunks = this.chunks.filter((chunk) => !chunk.evacuating);
    // Records moved go to the active chunk: never one being evacuated.
    if (this.active?.evacuating) this.active = undefined;
    const relocate = (listed: Listed): Listed | undefined => {
      // Cleared meanwhile: nothing refers to the old chunks any more.
      if (this.generation !== generation) return listed;
      if (typeof listed === 'number') return this.moveRef(listed, index);
      if (listed instanceof RestingState && listed.chunk.evacuating) this.move(listed);
      return listed;
    };
    try {
      yield* walk(relocate, new TimedSlice(sliceMs));
      if (this.generation === generation) beforeFree();
      // A chunk a record could not leave (no chunk id was free) keeps its id.
      for (const chunk of evacuating) {
        if (chunk.evacuating) this.freeId(chunk);
        else if (this.generation === generation) this.chunks.push(chunk);
      }
    } finally {
      for (const chunk of evacuating) chunk.evacuating = false;
      this.evacuating = [];
      this.compacting = false;
    }
  }

  /** Copies `state`'s record to the active chunk (without its value's bytes once they were read). */
  private move(state: RestingState): void {
    const from = state.chunk;
    const to = this.chunkFor(from.u32[2 * state.at + LENGTH_AT]);
    state.at = to.copy(from, state.at);
    state.chunk = to;
  }

  /** Moves the record `ref` of a resting index, if its chunk is evacuated; returns its new reference (undefined: dropped, nothing to list). */
  private moveRef(ref: number, index: (ns: string) => RestingIndex): number | undefined {
    if (!this.holds(ref)) return undefined;
    const from = this.byId[ref >>> REF_AT_BITS]!;
    if (!from.evacuating) return ref;
    const at = ref & AT_MASK;
    const to = this.chunkFor(from.u32[2 * at + LENGTH_AT], from.u32[2 * at + KEY_LENGTH_AT]);
    if (to.id < 0) {
      from.evacuating = false;
      return ref;
    }
    const moved = to.id * (1 << REF_AT_BITS) + to.copy(from, at);
    index(from.ns(at)).moved(from.keyHash(at), ref, moved);
    return moved;
  }

  /** Drops every record (a flush before a reload). States still held elsewhere keep their chunks. */
  clear(): void {
    for (const chunk of this.chunks) this.freeId(chunk);
    this.chunks = [];
    this.active = undefined;
    this.nextWords = FIRST_CHUNK_WORDS;
    this.generation++;
  }

  private chunkFor(length: number, keyLength = 0): SlabChunk {
    const active = this.active;
    if (active !== undefined && active.fits(length, keyLength)) return active;
    const words = recordWords(length, keyLength);
    if (words > MAX_CHUNK_WORDS / 4) {
      // A large value gets a chunk of its own (without an id: its state keeps its key); the active chunk stays.
      const own = new SlabChunk(this.names, words);
      this.chunks.push(own);
      return own;
    }
    const chunk = new SlabChunk(this.names, Math.max(this.nextWords, words), this.takeId());
    if (chunk.id >= 0) this.byId[chunk.id] = chunk;
    this.nextWords = Math.min(MAX_CHUNK_WORDS, this.nextWords * 2);
    this.chunks.push(chunk);
    this.active = chunk;
    return chunk;
  }

  /** An id for a new chunk, or -1 when all are taken (its records then keep their keys in their states). */
  private takeId(): number {
    return this.freeIds.pop() ?? (this.byId.length < MAX_CHUNK_IDS ? this.byId.length : -1);
  }

  private freeId(chunk: SlabChunk): void {
    if (chunk.id < 0) return;
    this.byId[chunk.id] = undefined;
    this.freeIds.push(chunk.id);
    chunk.id = -1;
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
