import type { EntryState } from '../entry';
import type { NormalKey } from '../key';
import { decodeFlat } from '../../values/flat-decode';
import type { RestingIndex } from './resting-index';
import { LENGTH_AT, REF_AT_BITS, type SlabChunk } from './slab-chunk';

/** Whether `state` is a state of a resting index (an object made per lookup of its record). */
export function inRestingIndex(state: EntryState): state is RestingState & { readonly index: RestingIndex } {
  return state instanceof RestingState && state.index !== undefined;
}

/** `RestingState.held` before the first read. */
const UNREAD: unique symbol = Symbol('unread');

/**
 * A state whose value has not been read on this node: its version, expiry,
 * origin, namespace and value bytes are a record in a slab chunk (see
 * `SlabChunk`), not fields and objects of their own. The first read of
 * `value` decodes the bytes into the (settled) value every later read returns.
 * States never change, so neither does the record; compaction moves it to
 * another chunk (`chunk` and `at` change, what they hold does not).
 *
 * A state of a key in a resting index (`index`) is made on demand by each
 * lookup, and its first read wakes it: the namespace holds it from then on
 * as a live object with the value read.
 */
export class RestingState implements EntryState {
  private held: unknown = UNREAD;

  constructor(
    readonly key: NormalKey,
    /** @internal The chunk holding the record. */
    public chunk: SlabChunk,
    /** @internal The record's first 8-byte word in the chunk. */
    public at: number,
    /** @internal The resting index that holds the key, if one does (else the namespace holds this object). */
    readonly index?: RestingIndex,
  ) {}

  get ns(): string {
    return this.chunk.ns(this.at);
  }

  get origin(): string {
    return this.chunk.origin(this.at);
  }

  get expiresAt(): number {
    return this.chunk.expiresAt(this.at);
  }

  get version(): number {
    return this.chunk.version(this.at);
  }

  get seen(): number {
    return this.chunk.seen(this.at);
  }

  /** @internal The record's reference (see REF_AT_BITS): what the resting index holds for it. */
  get ref(): number {
    return this.chunk.id * (1 << REF_AT_BITS) + this.at;
  }

  /** The value: decoded from the record on the first read (a resting state is never a tombstone). */
  get value(): unknown {
    const held = this.held;
    return held !== UNREAD ? held : this.read();
  }

  /** Whether the value was decoded already. */
  get wasRead(): boolean {
    return this.held !== UNREAD;
  }

  /** The value's bytes (a view into the chunk) while it was not read, else undefined: what a copy to disk or a peer sends as it is. */
  unreadBytes(): Uint8Array | undefined {
    if (this.held !== UNREAD) return undefined;
    const start = this.chunk.valueStart(this.at);
    return this.chunk.bytes.subarray(start, start + this.chunk.u32[2 * this.at + LENGTH_AT]);
  }

  private read(): unknown {
    // Flat strings: the value is kept for as long as the entry lives.
    const start = this.chunk.valueStart(this.at);
    const value = decodeFlat(this.chunk.bytes, start, start + this.chunk.u32[2 * this.at + LENGTH_AT]);
    this.held = value;
    if (this.index !== undefined) this.index.wake(this, value);
    else this.chunk.valueRead(this.at);
    return value;
  }
}
