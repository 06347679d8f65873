import type { TimedSlice } from '../../util/slices';
import { RestingState } from './resting-state';
import { AT_MASK, KEY_HASH_AT, REF_AT_BITS, type SlabChunk } from './slab-chunk';

/** Empty slot (refs are stored plus one). */
const EMPTY = 0;
/** Slot of a deleted key: probes go on past it. */
const DELETED = -1;
/** The fewest slots an index has. */
const MIN_SLOTS = 16;
/** Grow at this load (keys and deleted slots over slots). */
const MAX_LOAD = 0.5;
/** While a scan is running, grow only at this load: a scan walks the slots as they are. */
const MAX_LOAD_SCANNING = 0.85;

/** The hash of a key in the resting index (FNV-1a over its chars). */
export function restingKeyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Whether `key` can be held in the resting index: every char fits one byte. */
export function isRestingKey(key: unknown): key is string {
  if (typeof key !== 'string') return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Where the resting index finds records: the chunk of a reference. */
export interface RecordChunks {
  chunkById(id: number): SlabChunk;
}

/**
 * The string keys of a namespace whose states rest in the slab, without a
 * JS object per key: open addressing (linear probing) over one Int32Array of
 * slots, each a record reference and its key's hash side by side (one cache
 * line for both), the key's bytes kept in its record. This is what a state
 * at rest costs besides its record — about 20 bytes — instead of a `Map`
 * entry, a key string and a state object; and filling it at a join or a
 * restart allocates nothing per key for the GC to trace.
 *
 * Lookups hand out `RestingState`s made on demand: two lookups of one key
 * give two objects of the same state. The first read of a value wakes the
 * state (`wake`): the namespace then holds it as a live object instead.
 */
export class RestingIndex {
  /** Per slot: the record's reference plus one (EMPTY, DELETED), then its key's hash. */
  private slotWords = new Int32Array(2 * MIN_SLOTS);
  private count = 0;
  private deleted = 0;
  /** Scans (`states()`) running: the slots must not move under them. */
  private scans = 0;
  /** Bumped when the slots move: a scan that sees it change starts over on the new slots. */
  private layout = 0;
  /** The slot the last lookup found: a read's wake deletes it without a second probe. */
  private lastSlot = 0;
  /**
   * While `tidy` fills smaller slots a slice at a time: those slots, and how
   * many of the current ones it copied. The current slots serve every lookup
   * until the new ones replace them; a change to a slot already copied is
   * made in both (see `mirror`).
   */
  private tidying: { words: Int32Array<ArrayBuffer>; copied: number; deleted: number } | undefined;

  constructor(
    private readonly chunks: RecordChunks,
    /** Called on the first read of a state's value (see `RestingState.value`). */
    readonly wake: (state: RestingState, value: unknown) => void,
  ) {}

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** @internal Slots (two int32 each): what the index takes besides the records. */
  get slots(): number {
    return this.slotWords.length >> 1;
  }

  /** The state under `key`, or undefined. */
  state(key: string): RestingState | undefined {
    const slot = this.find(key, restingKeyHash(key));
    if (slot < 0) return undefined;
    this.lastSlot = slot;
    return this.stateIn(slot, key);
  }

  /** Whether `key`'s record is `ref` (the state is still the key's current one). */
  holds(key: string, ref: number): boolean {
    const slot = this.find(key, restingKeyHash(key));
    return slot >= 0 && this.slotWords[2 * slot] - 1 === ref;
  }

  /** The states whose key has the hash `hash` (a hash may be shared: check each key). */
  withHash(hash: number): RestingState[] {
    const found: RestingState[] = [];
    const words = this.slotWords;
    const mask = (words.length >> 1) - 1;
    for (let slot = hash & mask; words[2 * slot] !== EMPTY; slot = (slot + 1) & mask) {
      if (words[2 * slot] > 0 && words[2 * slot + 1] === hash) found.push(this.stateIn(slot));
    }
    return found;
  }

  /**
   * Makes `state` (a state of this index) its key's current state.
   * @returns the reference of the record it replaces, or -1.
   */
  set(state: RestingState): number {
    const key = state.key as string;
    const hash = state.chunk.u32[2 * state.at + KEY_HASH_AT] | 0;
    const ref = state.ref;
    const slot = this.find(key, hash);
    if (slot >= 0) {
      const replaced = this.slotWords[2 * slot] - 1;
      this.slotWords[2 * slot] = ref + 1;
      this.mirror(slot, hash, replaced, ref);
      return replaced;
    }
    const load = (this.count + this.deleted + 1) / this.slots;
    if (load > (this.scans > 0 ? MAX_LOAD_SCANNING : MAX_LOAD)) this.resize(this.count + 1);
    this.mirror(this.insert(hash, ref), hash, -1, ref);
    this.count++;
    return -1;
  }

  /** Forgets `key`, if its record is `ref` (any record when ref is undefined); returns the reference forgotten, or -1. */
  delete(key: string, ref?: number): number {
    // A slot that holds the record is the key's.
    const last = this.lastSlot;
    const slot = ref !== undefined && 2 * last < this.slotWords.length && this.slotWords[2 * last] === ref + 1 ? last : this.find(key, restingKeyHash(key));
    if (slot < 0) return -1;
    const held = this.slotWords[2 * slot] - 1;
    if (ref !== undefined && held !== ref) return -1;
    this.slotWords[2 * slot] = DELETED;
    this.count--;
    this.deleted++;
    this.mirror(slot, this.slotWords[2 * slot + 1], held, -1);
    return held;
  }

  /** A compaction moved the record `from` (of a key whose hash is `hash`) to `to`. */
  moved(hash: number, from: number, to: number): void {
    const slot = slotOf(this.slotWords, hash, from);
    if (slot < 0) return;
    this.slotWords[2 * slot] = to + 1;
    this.mirror(slot, hash, from, to);
  }

  /**
   * Gives the slots' memory back after many keys left (woken, swept,
   * overwritten by live states), and clears deleted slots: copies the keys
   * into new slots for them, at once, or with `slice` a slice at a time (at
   * a million slots, one go held the event loop for 12–90 ms). The table
   * calls it after a sweep.
   * @returns false if the slice ended first: the next call goes on.
   */
  tidy(slice?: TimedSlice): boolean {
    const slots = this.slots;
    if (this.tidying === undefined) {
      // A scan walks the slots as they are: a tidy waits for the sweep after it.
      if (this.scans > 0 || !((this.count * 8 < slots && slots > MIN_SLOTS) || this.deleted > slots / 4)) return true;
      this.tidying = { words: new Int32Array(2 * slotsFor(this.count)), copied: 0, deleted: 0 };
    }
    const tidying = this.tidying;
    const words = this.slotWords;
    while (tidying.copied < slots) {
      const at = 2 * tidying.copied++;
      if (words[at] > 0 && put(tidying.words, words[at + 1], words[at] - 1)) tidying.deleted--;
      if (slice?.over() && tidying.copied < slots) return false;
    }
    // The new slots wait for a scan that began meanwhile to end, kept in step: the sweep after swaps them in.
    if (this.scans > 0) return true;
    this.slotWords = tidying.words;
    this.deleted = tidying.deleted;
    this.tidying = undefined;
    this.layout++;
    return true;
  }

  /** Every state held, one object each (synchronous full scans). */
  forEach(visit: (state: RestingState) => void): void {
    const words = this.slotWords;
    for (let slot = 0; 2 * slot < words.length; slot++) {
      if (words[2 * slot] > 0) visit(this.stateIn(slot));
    }
  }

  /** The references of every record held, packed: a snapshot with no object per record (digests). */
  refs(): Int32Array {
    const refs = new Int32Array(this.count);
    const words = this.slotWords;
    let n = 0;
    for (let slot = 0; 2 * slot < words.length; slot++) {
      const ref = words[2 * slot] - 1;
      if (ref >= 0) refs[n++] = ref;
    }
    return refs;
  }

  /**
   * Every state held, lazily: for scans that yield to the event loop. Keys
   * set or deleted meanwhile are seen or not, as a `Map`'s iterator sees
   * them; if the slots had to grow meanwhile, the scan starts over on the new
   * ones (a state may then be seen twice, never missed).
   */
  *states(): IterableIterator<RestingState> {
    this.scans++;
    try {
      let layout = this.layout;
      for (let slot = 0; slot < this.slots; slot++) {
        if (this.layout !== layout) {
          layout = this.layout;
          slot = 0;
        }
        if (this.slotWords[2 * slot] > 0) yield this.stateIn(slot);
      }
    } finally {
      this.scans--;
    }
  }

  clear(): void {
    this.slotWords = new Int32Array(2 * MIN_SLOTS);
    this.tidying = undefined;
    this.count = 0;
    this.deleted = 0;
    this.layout++;
  }

  /** The slot of `key`, or -1. */
  private find(key: string, hash: number): number {
    const words = this.slotWords;
    const mask = (words.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const ref = words[2 * slot];
      if (ref === EMPTY) return -1;
      if (ref > 0 && words[2 * slot + 1] === hash) {
        const at = (ref - 1) & AT_MASK;
        if (this.chunks.chunkById((ref - 1) >>> REF_AT_BITS).holdsKey(at, key)) return slot;
      }
    }
  }

  private stateIn(slot: number, key?: string): RestingState {
    const ref = this.slotWords[2 * slot] - 1;
    const chunk = this.chunks.chunkById(ref >>> REF_AT_BITS);
    const at = ref & AT_MASK;
    return new RestingState(key ?? chunk.key(at), chunk, at, this);
  }

  /** Puts a new key in the current slots; returns its slot. */
  private insert(hash: number, ref: number): number {
    const slot = freeSlot(this.slotWords, hash);
    if (take(this.slotWords, slot, hash, ref)) this.deleted--;
    return slot;
  }

  /**
   * While a tidy copies the slots, makes the change of slot `slot` (its
   * record `from` is now `to`; -1: none) in the new slots too, if the copy
   * passed that slot already; else the copy will take it as it is. The new
   * slots are too small for what came meanwhile? The tidy starts over later.
   */
  private mirror(slot: number, hash: number, from: number, to: number): void {
    const tidying = this.tidying;
    if (tidying === undefined || slot >= tidying.copied) return;
    const words = tidying.words;
    const at = from < 0 ? -1 : slotOf(words, hash, from);
    if (at >= 0) {
      words[2 * at] = to < 0 ? DELETED : to + 1;
      if (to < 0) tidying.deleted++;
      return;
    }
    if (to < 0) return;
    if ((this.count + tidying.deleted + 1) / (words.length >> 1) > MAX_LOAD_SCANNING) {
      this.tidying = undefined;
      return;
    }
    if (put(words, hash, to)) tidying.deleted--;
  }

  /** Moves the keys to slots for `keys` at a load of at most a quarter (a tidy under way is dropped: it copied the old slots). */
  private resize(keys: number): void {
    const words = this.slotWords;
    this.slotWords = new Int32Array(2 * slotsFor(keys));
    this.tidying = undefined;
    this.deleted = 0;
    this.layout++;
    for (let at = 0; at < words.length; at += 2) if (words[at] > 0) this.insert(words[at + 1], words[at] - 1);
  }
}

/** Slots for `keys` at a load of at most a quarter. */
function slotsFor(keys: number): number {
  let slots = MIN_SLOTS;
  while (slots < keys * 4) slots *= 2;
  return slots;
}

/** The slot a new key of hash `hash` takes in `words`: the first empty or deleted one of its probe. */
function freeSlot(words: Int32Array, hash: number): number {
  const mask = (words.length >> 1) - 1;
  let slot = hash & mask;
  while (words[2 * slot] > 0) slot = (slot + 1) & mask;
  return slot;
}

/** The slot of `words` that holds the record `ref` of a key whose hash is `hash` (that slot is the key's: no key to compare), or -1. */
function slotOf(words: Int32Array, hash: number, ref: number): number {
  const mask = (words.length >> 1) - 1;
  for (let slot = hash & mask; words[2 * slot] !== EMPTY; slot = (slot + 1) & mask) if (words[2 * slot] === ref + 1) return slot;
  return -1;
}

/** Writes a new key's record and hash into `slot` of `words`; returns whether the slot was a deleted one. */
function take(words: Int32Array, slot: number, hash: number, ref: number): boolean {
  const reused = words[2 * slot] === DELETED;
  words[2 * slot] = ref + 1;
  words[2 * slot + 1] = hash;
  return reused;
}

/** Puts a new key in `words` (see `take`). */
function put(words: Int32Array, hash: number, ref: number): boolean {
  return take(words, freeSlot(words, hash), hash, ref);
}
