import type { NormalKey } from './key';
import { RestingState } from './compact/resting-state';

/**
 * The state of one key in one namespace, as stored, replicated and persisted.
 *
 * States of the same key merge by the order (`seen`, `version`, `origin`) — see
 * `compareStates` — which makes "a delete wins over any write that had not seen
 * it" a plain maximum: a tombstone's `seen` is its own version, and a write
 * carries the newest delete its node had seen for that key.
 */
export interface EntryState<V = unknown> {
  /** Namespace within the table. */
  readonly ns: string;
  /** Normalised key. */
  readonly key: NormalKey;
  /**
   * The value (deeply frozen); `undefined` exactly for a tombstone (a delete):
   * puts refuse `undefined`, so no flag is stored beside it.
   */
  readonly value: V | undefined;
  /** ms since the epoch. For a tombstone: when it may be collected. */
  readonly expiresAt: number;
  /** Hybrid logical clock version of the write that made this state. */
  readonly version: number;
  /** Version of the newest delete this state follows (0 if none; a tombstone's own version). */
  readonly seen: number;
  /** Name of the node that made this state (tie-break between equal versions). */
  readonly origin: string;
}

/** Whether a state is a tombstone (a delete). A resting state never is: asking does not decode its value. */
export function isTombstone(state: EntryState): boolean {
  return !(state instanceof RestingState) && state.value === undefined;
}

/** Orders two states of one key: > 0 when `a` wins a merge over `b`. */
export function compareStates(a: EntryState, b: EntryState): number {
  if (a.seen !== b.seen) return a.seen - b.seen;
  if (a.version !== b.version) return a.version - b.version;
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0;
}

/**
 * Whether `a` is `b`, a state of the same key: the same object, or the same
 * write (a resting index makes an object of its record per lookup).
 */
export function sameState(a: EntryState | undefined, b: EntryState): boolean {
  return a === b || (a !== undefined && compareStates(a, b) === 0);
}
