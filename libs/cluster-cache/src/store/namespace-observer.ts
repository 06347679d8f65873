import type { EntryState } from './entry';

/**
 * Something kept in step with the states of one namespace (such as a derived
 * index), told of every change however it came: a local write, a merge from a
 * peer, a join copy, a heal, a load from disk, a sweep or a flush.
 */
export interface NamespaceObserver {
  /** `state` became its key's current state, in place of `previous` (if the key had one). */
  installed(state: EntryState, previous: EntryState | undefined): void;
  /** `state`, its key's current state, was removed (swept). */
  removed(state: EntryState): void;
  /** Every state of the namespace was dropped (a flush before a reload). */
  cleared(): void;
}
