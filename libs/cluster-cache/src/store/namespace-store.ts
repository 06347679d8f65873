import type { EntryState } from './entry';
import { encodeArrayKey, KeyPart, NormalKey } from './key';
import { KeyIndex } from './key-index';

/**
 * The states of one namespace of a table. Scalar keys are looked up as they
 * are (no string building on the `get` path); array keys by their encoding,
 * with a trie beside them for prefix queries.
 */
export class NamespaceStore {
  readonly scalars = new Map<KeyPart, EntryState>();
  readonly arrays = new Map<string, EntryState>();
  readonly index = new KeyIndex();

  constructor(readonly name: string) {}

  get size(): number {
    return this.scalars.size + this.arrays.size;
  }

  /** The current state of a normalised key: live, expired or a tombstone. */
  current(key: NormalKey): EntryState | undefined {
    return typeof key === 'object' ? this.arrays.get(encodeArrayKey(key)) : this.scalars.get(key);
  }

  set(state: EntryState): void {
    const key = state.key;
    if (typeof key === 'object') {
      this.arrays.set(encodeArrayKey(key), state);
      this.index.set(key, state);
    } else {
      this.scalars.set(key, state);
    }
  }

  /** Removes `state` if it is still the key's current state. */
  remove(state: EntryState): boolean {
    const key = state.key;
    if (typeof key === 'object') {
      const encoded = encodeArrayKey(key);
      if (this.arrays.get(encoded) !== state) return false;
      this.arrays.delete(encoded);
      this.index.delete(key);
    } else {
      if (this.scalars.get(key) !== state) return false;
      this.scalars.delete(key);
    }
    return true;
  }

  clear(): void {
    this.scalars.clear();
    this.arrays.clear();
    this.index.clear();
  }

  *states(): IterableIterator<EntryState> {
    yield* this.scalars.values();
    yield* this.arrays.values();
  }
}
