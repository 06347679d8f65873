import type { EntryState } from './entry';
import { encodeArrayKey, KeyPart, NormalKey } from './key';
import { KeyIndex } from './key-index';
import { LiveValues } from './live-values';
import type { NamespaceObserver } from './namespace-observer';
import { type RecordChunks, RestingIndex } from './compact/resting-index';
import { RestingState } from './compact/resting-state';

/** Where a namespace without a slab finds records: nowhere (its resting index stays empty). */
const NO_CHUNKS: RecordChunks = {
  chunkById() {
    throw new Error('this namespace holds no resting records');
  },
};

/**
 * The states of one namespace of a table. Scalar keys are looked up as they
 * are (no string building on the `get` path); array keys by their encoding,
 * with a trie beside them for prefix queries. String keys whose states rest
 * in the table's slab are held by a `RestingIndex` instead of the `Map`
 * until their first read.
 */
export class NamespaceStore {
  readonly scalars = new Map<KeyPart, EntryState>();
  readonly arrays = new Map<string, EntryState>();
  readonly index = new KeyIndex();
  /** Values of scalar keys that are surely live for a while: the fast path of reads. */
  readonly live = new LiveValues();
  /** String keys whose states rest in the slab, not read yet. */
  readonly resting: RestingIndex;
  /** Kept in step with every change; empty unless something derives data from this namespace. */
  private readonly observers: NamespaceObserver[] = [];

  constructor(
    readonly name: string,
    chunks: RecordChunks = NO_CHUNKS,
    /** Told of a resting state woken by its first read, now held as `state` (the table lists it for expiry). */
    private readonly woke: (state: EntryState) => void = () => undefined,
  ) {
    this.resting = new RestingIndex(chunks, (state, value) => this.wake(state, value));
  }

  /**
   * Tells `observer` of every state held now (as installed) and of every
   * change from now on.
   * @returns the way to stop.
   */
  observe(observer: NamespaceObserver): () => void {
    for (const state of this.states()) observer.installed(state, undefined);
    this.observers.push(observer);
    return () => {
      const at = this.observers.indexOf(observer);
      if (at >= 0) this.observers.splice(at, 1);
    };
  }

  get size(): number {
    return this.scalars.size + this.arrays.size + this.resting.size;
  }

  /** The current state of a normalised key: live, expired or a tombstone. */
  current(key: NormalKey): EntryState | undefined {
    return typeof key === 'object' ? this.arrays.get(encodeArrayKey(key)) : this.scalar(key);
  }

  /** The current state of a scalar key (the `get` path: a resting key costs a second lookup only on a miss). */
  scalar(key: KeyPart): EntryState | undefined {
    const state = this.scalars.get(key);
    return state !== undefined || this.resting.size === 0 || typeof key !== 'string' ? state : this.resting.state(key);
  }

  set(state: EntryState): void {
    const key = state.key;
    // Looked up only when an observer needs it.
    const previous = this.observers.length > 0 ? this.current(key) : undefined;
    if (typeof key === 'object') {
      this.arrays.set(encodeArrayKey(key), state);
      this.index.set(key, state);
    } else {
      // The table drops the record of a resting state replaced here.
      if (this.resting.size > 0 && typeof key === 'string') this.resting.delete(key);
      const size = this.scalars.size;
      this.scalars.set(key, state);
      // A key new to the namespace cannot be in `live`: only an overwrite has a value to drop there.
      if (this.scalars.size === size) this.live.drop(key);
    }
    for (const observer of this.observers) observer.installed(state, previous);
  }

  /** Makes a resting state of the resting index (`state.index`) its key's current state. */
  rest(state: RestingState): void {
    const key = state.key as string;
    const previous = this.observers.length > 0 ? this.scalar(key) : undefined;
    if (this.scalars.delete(key)) this.live.drop(key);
    this.resting.set(state);
    for (const observer of this.observers) observer.installed(state, previous);
  }

  /** Removes `state` if it is still the key's current state. */
  remove(state: EntryState): boolean {
    const key = state.key;
    if (typeof key === 'object') {
      const encoded = encodeArrayKey(key);
      if (this.arrays.get(encoded) !== state) return false;
      this.arrays.delete(encoded);
      this.index.delete(key);
    } else if (state instanceof RestingState && state.index === this.resting) {
      if (this.resting.delete(key as string, state.ref) < 0) return false;
    } else {
      if (this.scalars.get(key) !== state) return false;
      this.scalars.delete(key);
      this.live.drop(key);
    }
    for (const observer of this.observers) observer.removed(state);
    return true;
  }

  /**
   * Whether `state` is its key's current state: the same object, or for a
   * state of the resting index, the same record (its objects are made per lookup).
   */
  holds(state: EntryState): boolean {
    if (state instanceof RestingState && state.index === this.resting) return this.resting.holds(state.key as string, state.ref);
    return this.current(state.key) === state;
  }

  /**
   * The first read of a resting state's value: if the state is still its
   * key's current one, the namespace holds it as a live object from now on
   * (the record no longer counts), so later reads find the value in the `Map`.
   */
  private wake(state: RestingState, value: unknown): void {
    const key = state.key as string;
    if (this.resting.delete(key, state.ref) < 0) return;
    state.chunk.dropped(state.at);
    const seen = state.seen;
    // `seen` is 0 for most states: a 0 read from the record's float64 would be a boxed double in every state object.
    const live: EntryState = { ns: state.ns, key, value, expiresAt: state.expiresAt, version: state.version, seen: seen === 0 ? 0 : seen, origin: state.origin };
    this.scalars.set(key, live);
    this.woke(live);
    // The same state, now an object: an observer may hold the two differently.
    for (const observer of this.observers) observer.installed(live, state);
  }

  clear(): void {
    this.scalars.clear();
    this.arrays.clear();
    this.index.clear();
    this.live.clear();
    this.resting.clear();
    for (const observer of this.observers) observer.cleared();
  }

  /** Hands every state but those of the resting index to `visit`: a full scan without a generator's cost per state (≈ 3× faster). */
  forEachLive(visit: (state: EntryState) => void): void {
    for (const state of this.scalars.values()) visit(state);
    for (const state of this.arrays.values()) visit(state);
  }

  *states(): IterableIterator<EntryState> {
    yield* this.scalars.values();
    yield* this.arrays.values();
    yield* this.resting.states();
  }
}
