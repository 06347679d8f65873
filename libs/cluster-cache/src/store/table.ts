import type { Clock } from './clock';
import { BucketDigests } from './bucket-digests';
import { compareStates, EntryState, isTombstone } from './entry';
import { ExpiryIndex, type Listed } from './expiry-index';
import { ANY, compareKeys, NormalKey, PatternPart } from './key';
import { NamespaceStore } from './namespace-store';
import { keyHash, keyHashOfBytes, writeHash } from './state-hash';
import { atOnce, inSlices, SLICE, Sliced, type TimedSlice } from '../util/slices';
import { RecordSlab } from './compact/record-slab';
import { AT_MASK, REF_AT_BITS } from './compact/slab-chunk';
import type { RestingIndex } from './compact/resting-index';
import { inRestingIndex } from './compact/resting-state';
import { decodeValue } from '../values/value-codec';
import { isEncoded } from '../values/encoded-value';

/** Records at rest of one namespace the digests still have to add (see `makeDigests`): their references, and how many were added. */
interface PendingRecords {
  ns: string;
  refs: Int32Array;
  added: number;
}

/** Whether a table is copied to every node or stays on this one. @publicApi */
export type TableMode = 'replicated' | 'local';

/**
 * A table: namespaces of keys, each key holding its newest state. Pure data —
 * no sockets, no timers, no Nest. Whoever owns the table calls `sweep` now and
 * then, and passes states between nodes.
 */
export class Table {
  private readonly namespaces = new Map<string, NamespaceStore>();
  private readonly expiry = new ExpiryIndex();
  /**
   * What nodes compare to find what differs (see `liveDigests`): made from the
   * table on the first request, then kept up to date on every change. Writes
   * pay for them (~0.3 µs) only on nodes that compare tables (heals, resyncs,
   * the background sync of `unsplit: merge`).
   */
  private digests: BucketDigests | undefined;
  /**
   * While the digests are being made (`prepareDigests`): the states that were
   * stored when it began, and how many of them are added so far.
   */
  private digestsPending: { states: EntryState[]; added: number; records: PendingRecords[] } | undefined;
  /** The records of states whose values were offered as bytes and not read yet (see `RestingState`). */
  private readonly slab = new RecordSlab();
  /** Whether the last sweep got through (see `sweepDone`). */
  private swept = true;
  /** The resting index of namespace `ns` (record references name their namespace). */
  private readonly restingIndex = (ns: string): RestingIndex => this.namespace(ns).resting;

  constructor(
    readonly name: string,
    readonly mode: TableMode,
    private readonly clock: Clock,
  ) {}

  /** The namespace's store, made on first use. */
  namespace(name: string): NamespaceStore {
    let ns = this.namespaces.get(name);
    if (ns === undefined) {
      ns = new NamespaceStore(name, this.slab, (woken) => this.expiry.addWoken(woken));
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /** Number of stored states, tombstones and not-yet-swept expired ones included. */
  get size(): number {
    let n = 0;
    for (const ns of this.namespaces.values()) n += ns.size;
    return n;
  }

  /** @internal States the expiry index lists, overwritten ones not filtered yet included (see `ExpiryIndex.tidy`). */
  get listedForExpiry(): number {
    return this.expiry.size;
  }

  /** The key's stored state, whatever it is (live, expired or tombstone). */
  current(ns: string, key: NormalKey): EntryState | undefined {
    return this.namespaces.get(ns)?.current(key);
  }

  /**
   * Offers a state; it is installed if it wins over the key's current one.
   * Expired states count as absent on both sides, so a state that has expired is
   * never installed and an expired one never blocks a newer write.
   *
   * A state whose value is still bytes (an `EncodedValue`: from a peer or the
   * disk copy) is installed as a `RestingState`: its record goes to the
   * table's slab (with its key, for a string key: see `RestingIndex`), and
   * the value is decoded on its first read.
   * @returns the state installed (`state`, or the resting state made of it), or undefined.
   */
  offer(state: EntryState, now = this.clock.now()): EntryState | undefined {
    if (state.expiresAt <= now) return undefined;
    const ns = this.namespace(state.ns);
    const current = ns.current(state.key);
    // The decoded key is a copy of the stored one: keep one copy per entry (the Map holds the first).
    const key = current === undefined ? state.key : current.key;
    if (current !== undefined && current.expiresAt > now && compareStates(state, current) <= 0) return undefined;
    const value = state.value;
    let installed = state;
    if (isEncoded(value)) {
      installed = this.slab.rest(state, key, value, ns.resting) ?? { ns: state.ns, key, value: decodeValue(value.bytes()), expiresAt: state.expiresAt, version: state.version, seen: state.seen, origin: state.origin };
    } else if (key !== state.key) {
      (state as { key: NormalKey }).key = key;
    }
    this.put(ns, installed, current);
    return installed;
  }

  /** Installs a state without comparing (a local write the caller already ordered) in place of `previous`, the key's current state. */
  install(state: EntryState, previous: EntryState | undefined): void {
    this.put(this.namespace(state.ns), state, previous);
  }

  /** Makes `state` its key's current state in place of `previous`. */
  private put(ns: NamespaceStore, state: EntryState, previous: EntryState | undefined): void {
    if (inRestingIndex(state)) {
      ns.rest(state);
      this.expiry.addRef(state.ref, state.expiresAt);
    } else {
      ns.set(state);
      this.expiry.add(state);
    }
    if (previous !== undefined) {
      this.expiry.unlist(previous.expiresAt);
      this.slab.drop(previous);
    }
    if (this.digests !== undefined) {
      const key = keyHash(state.ns, state.key);
      if (previous !== undefined) this.digests.remove(key, previous);
      this.digests.add(key, state);
    }
  }

  /**
   * Per-bucket digests of the live states, [sum, xor] per bucket, for `count`
   * buckets (a power of two ≤ MAX_BUCKETS): the digests kept up to date,
   * less the states that expired but were not swept yet. Replicated tables only.
   */
  liveDigests(count: number, now = this.clock.now()): Uint32Array {
    // Made at once if needed (prepareDigests makes them without blocking the event loop).
    const digests = atOnce(this.makeDigests());
    const expired = new Set<EntryState>(); // a state may be listed twice (installed again after it lost its place)
    this.expiry.forEachDue(now, (listed) => {
      const state = this.listedState(listed);
      if (state !== undefined && state.expiresAt <= now && this.namespaces.get(state.ns)?.holds(state)) expired.add(state);
    });
    return digests.fold(count, expired);
  }

  /**
   * Makes the digests `liveDigests` reads, if they are not made yet, one
   * slice of states per event-loop turn: a whole table at once would block
   * the event loop for as long as a full scan (about half a second at a
   * million entries).
   */
  async prepareDigests(): Promise<void> {
    await inSlices(this.makeDigests());
  }

  /**
   * Adds the states stored when the digests were first asked for, a slice at
   * a time: live states by object, states at rest by their record's reference
   * (hashed from the record, with no object or key string each: a state object
   * per record, made up front, held the event loop for a second at a million).
   * Writes and removals in between update the digests as always (the state
   * replaced out, the new one in); since a digest is a sum and an xor, the
   * order of those changes does not matter, so the digests are exact once
   * every state of the list is added.
   */
  private *makeDigests(): Sliced<BucketDigests> {
    if (this.mode !== 'replicated') throw new Error(`table "${this.name}" is local: it keeps no digests`);
    if (this.digests === undefined) {
      const states: EntryState[] = [];
      const records: PendingRecords[] = [];
      for (const ns of this.namespaces.values()) {
        ns.forEachLive((state) => states.push(state));
        if (ns.resting.size > 0) records.push({ ns: ns.name, refs: ns.resting.refs(), added: 0 });
      }
      this.digests = new BucketDigests();
      this.digestsPending = { states, added: 0, records };
    }
    for (let pending = this.digestsPending; pending !== undefined; pending = this.digestsPending) {
      const { states } = pending;
      const end = Math.min(states.length, pending.added + SLICE);
      for (let i = pending.added; i < end; i++) this.digests.add(keyHash(states[i].ns, states[i].key), states[i]);
      const left = this.addRecords(pending.records, SLICE - (end - pending.added));
      pending.added = end;
      if (end === states.length && left > 0) this.digestsPending = undefined;
      else yield;
    }
    return this.digests;
  }

  /**
   * Adds up to `budget` records of `pending` to the digests, hashed from their
   * bytes and fields; returns the budget left (above 0: none is left to add).
   */
  private addRecords(pending: PendingRecords[], budget: number): number {
    const digests = this.digests!;
    while (pending.length > 0 && budget > 0) {
      const records = pending[pending.length - 1];
      const end = Math.min(records.refs.length, records.added + budget);
      for (let i = records.added; i < end; i++) {
        const ref = records.refs[i];
        const chunk = this.slab.chunkById(ref >>> REF_AT_BITS);
        const at = ref & AT_MASK;
        const key = keyHashOfBytes(records.ns, chunk.bytes, chunk.keyStart(at), chunk.keyLength(at));
        digests.addHashed(key, writeHash(key, chunk.version(at), chunk.seen(at), chunk.origin(at), false));
      }
      budget -= end - records.added;
      records.added = end;
      if (end === records.refs.length) pending.pop();
    }
    return budget;
  }

  /**
   * Live states whose key matches the pattern, sorted by key. A pattern with a
   * fixed first element walks the key index; `ANY` alone scans scalar keys.
   */
  match(ns: string, pattern: readonly PatternPart[], now = this.clock.now()): EntryState[] {
    const store = this.namespaces.get(ns);
    if (store === undefined) return [];
    let found: EntryState[];
    if (pattern.length > 1) {
      found = store.index.match(pattern);
    } else if (pattern[0] === ANY) {
      found = [...store.scalars.values()];
      store.resting.forEach((state) => found.push(state));
    } else {
      const state = store.scalar(pattern[0] as string | number);
      found = state === undefined ? [] : [state];
    }
    const live = found.filter((s) => !isTombstone(s) && s.expiresAt > now);
    return live.sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Every stored state (for copies to joining nodes and for digests). */
  *states(): IterableIterator<EntryState> {
    for (const ns of this.namespaces.values()) yield* ns.states();
  }

  /**
   * Removes what expired (live entries past their TTL, tombstones past their
   * keep time) at a cost proportional to what expired, and lets go of
   * overwritten states where many are held (see `ExpiryIndex.tidy`). With `fastReadsUntil`,
   * also lets reads of scalar keys skip their state until then (see
   * `LiveValues`): the values that expire before it are taken out of the fast
   * path first, at a cost proportional to them.
   *
   * With `slice`, stops removing once the slice is over (a million entries
   * that expire in the same second take more than a second to remove) and
   * leaves the rest, and the other steps, to the next call: `sweepDone` says
   * whether it got through.
   * @returns the removed states.
   */
  sweep(now = this.clock.now(), fastReadsUntil?: number, slice?: TimedSlice): EntryState[] {
    const removed: EntryState[] = [];
    this.swept = this.expiry.drain(
      now,
      (listed) => {
        const state = this.listedState(listed);
        if (state !== undefined && state.expiresAt <= now && this.namespaces.get(state.ns)?.remove(state)) {
          removed.push(state);
          this.slab.drop(state);
          this.digests?.remove(keyHash(state.ns, state.key), state);
        }
      },
      slice,
    );
    if (!this.swept) return removed;
    // Not while a compaction walks the lists: it moves the records they list.
    if (!this.slab.isCompacting) this.expiry.tidy(this.isListed);
    for (const ns of this.namespaces.values()) {
      if (ns.resting.tidy(slice)) continue;
      this.swept = false;
      return removed;
    }
    if (fastReadsUntil !== undefined) this.extendFastReads(fastReadsUntil);
    return removed;
  }

  /** Whether the last `sweep` got through everything due (see its `slice`). */
  get sweepDone(): boolean {
    return this.swept;
  }

  /** Whether the slab of resting states holds more garbage than records that count (see `compaction`). */
  get wantsCompaction(): boolean {
    return this.slab.wantsCompaction;
  }

  /** Bytes the slab of resting states takes, garbage included. */
  get slabBytes(): number {
    return this.slab.bytes;
  }

  /**
   * Compacts the slab of resting states, a slice of about `sliceMs` per
   * yield (2 ms by default; run it with `inSlices`). Reads and writes in
   * between go on as usual.
   */
  compaction(sliceMs?: number): Sliced<void> {
    // It frees the chunks it evacuated when it ends: records the digests still have to add by reference are added first.
    const beforeFree = () => {
      if (this.digestsPending !== undefined) this.addRecords(this.digestsPending.records, Infinity);
    };
    return this.slab.compaction((relocate, slice) => this.expiry.rewrite(relocate, slice), this.restingIndex, sliceMs, beforeFree);
  }

  /** Whether a listing of the expiry index still names its key's current state (a record the slab holds, or a state its namespace holds). */
  private readonly isListed = (listed: Listed): boolean =>
    typeof listed === 'number' ? this.slab.holds(listed) : this.namespaces.get(listed.ns)?.holds(listed) === true;

  /** What the expiry index lists, as a state: a record reference's (if the table still holds the record) or the state itself. */
  private listedState(listed: Listed): EntryState | undefined {
    return typeof listed === 'number' ? this.slab.stateAt(listed, this.restingIndex) : listed;
  }

  private extendFastReads(until: number): void {
    this.expiry.forEachDue(until, (state) => {
      // Resting index states (record references) are not read yet: never in `live`.
      if (typeof state === 'number' || state.expiresAt >= until || typeof state.key === 'object') return;
      const ns = this.namespaces.get(state.ns);
      // Only the key's current state decides; older ones (kept lazily in the index) do not.
      if (ns !== undefined && ns.scalars.get(state.key) === state) ns.live.drop(state.key);
    });
    for (const ns of this.namespaces.values()) ns.live.extend(until);
  }

  /**
   * Drops every state (a flush before reloading from another node). Namespace
   * stores stay the same objects, so caches holding them keep working.
   */
  clear(): void {
    for (const ns of this.namespaces.values()) ns.clear();
    this.expiry.clear();
    this.slab.clear();
    this.digests?.clear();
    this.digestsPending = undefined;
  }
}
