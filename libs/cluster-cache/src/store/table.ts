import type { Clock } from './clock';
import { compareStates, EntryState } from './entry';
import { ExpiryIndex } from './expiry-index';
import { ANY, compareKeys, NormalKey, PatternPart } from './key';
import { NamespaceStore } from './namespace-store';

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

  constructor(
    readonly name: string,
    readonly mode: TableMode,
    private readonly clock: Clock,
  ) {}

  /** The namespace's store, made on first use. */
  namespace(name: string): NamespaceStore {
    let ns = this.namespaces.get(name);
    if (ns === undefined) {
      ns = new NamespaceStore(name);
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

  /** The key's stored state, whatever it is (live, expired or tombstone). */
  current(ns: string, key: NormalKey): EntryState | undefined {
    return this.namespaces.get(ns)?.current(key);
  }

  /**
   * Offers a state; it is installed if it wins over the key's current one.
   * Expired states count as absent on both sides, so a state that has expired is
   * never installed and an expired one never blocks a newer write.
   * @returns whether the state was installed.
   */
  offer(state: EntryState, now = this.clock.now()): boolean {
    if (state.expiresAt <= now) return false;
    const ns = this.namespace(state.ns);
    const current = ns.current(state.key);
    if (current !== undefined && current.expiresAt > now && compareStates(state, current) <= 0) return false;
    ns.set(state);
    this.expiry.add(state);
    return true;
  }

  /** Installs states without comparing (a local write the caller already ordered). */
  install(state: EntryState): void {
    this.namespace(state.ns).set(state);
    this.expiry.add(state);
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
    } else {
      const state = store.scalars.get(pattern[0] as string | number);
      found = state === undefined ? [] : [state];
    }
    const live = found.filter((s) => !s.deleted && s.expiresAt > now);
    return live.sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Every stored state (for copies to joining nodes and for digests). */
  *states(): IterableIterator<EntryState> {
    for (const ns of this.namespaces.values()) yield* ns.states();
  }

  /**
   * Removes what expired (live entries past their TTL, tombstones past their
   * keep time) at a cost proportional to what expired.
   * @returns the removed states.
   */
  sweep(now = this.clock.now()): EntryState[] {
    const removed: EntryState[] = [];
    this.expiry.drain(now, (state) => {
      if (state.expiresAt <= now && this.namespaces.get(state.ns)?.remove(state)) removed.push(state);
    });
    return removed;
  }

  /**
   * Drops every state (a flush before reloading from another node). Namespace
   * stores stay the same objects, so caches holding them keep working.
   */
  clear(): void {
    for (const ns of this.namespaces.values()) ns.clear();
    this.expiry.clear();
  }
}
