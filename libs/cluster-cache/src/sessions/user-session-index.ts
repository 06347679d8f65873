import type { EntryState } from '../store/entry';
import type { NamespaceObserver } from '../store/namespace-observer';
import { type RestingIndex, restingKeyHash } from '../store/compact/resting-index';
import { inRestingIndex, type RestingState } from '../store/compact/resting-state';
import { KEY_HASH_AT } from '../store/compact/slab-chunk';
import type { UserId } from './session.interface';

/**
 * Each user's session handles on this node, derived from the session records
 * the node holds instead of replicated as entries of their own. It observes the
 * namespace, so it follows every way a record comes or goes — local writes,
 * merges from peers, join copies, heals, loads from disk, sweeps, flushes,
 * first reads — and is exact wherever the records are. Records that expired
 * but were not swept yet stay listed until the sweep: readers check each
 * handle's record.
 *
 * Records held as objects list their handle under their user: one string (the
 * usual single session) or an array, less memory than a Set; removing one
 * costs O(that user's sessions). Records at rest in a resting index (joined,
 * loaded from disk, received as bytes and never read here) list only the
 * 32-bit hashes of their handle under the hash of their user — numbers, no
 * string per session: their handles are found again through the resting
 * index and kept only where the record's owner is the user asked for.
 */
export class UserSessionIndex implements NamespaceObserver {
  private readonly byUser = new Map<UserId, string | string[]>();
  /** Key hashes of resting records by the hash of their user (see `userHash`). */
  private readonly restingByUser = new Map<number, number | number[]>();
  /** The resting index those key hashes are of (a namespace has one). */
  private resting: RestingIndex | undefined;

  /** `ownerOf(state)`: the user whose session record `state` is, or `undefined` if it is none. */
  constructor(private readonly ownerOf: (state: EntryState) => UserId | undefined) {}

  /** The handles of the user's session records held on this node (live or not swept yet). */
  handles(userId: UserId): readonly string[] {
    const held = this.byUser.get(userId);
    const handles = held === undefined ? [] : typeof held === 'string' ? [held] : [...held];
    const hashes = this.restingByUser.get(userHash(userId));
    if (hashes === undefined || this.resting === undefined) return handles;
    const found = new Set<string>();
    for (const hash of typeof hashes === 'number' ? [hashes] : hashes) {
      for (const state of this.resting.withHash(hash)) if (this.ownerOf(state) === userId) found.add(state.key as string);
    }
    return found.size === 0 ? handles : [...handles, ...found];
  }

  installed(state: EntryState, previous: EntryState | undefined): void {
    if (previous !== undefined) this.removed(previous);
    const userId = this.ownerOf(state);
    if (userId === undefined) return;
    if (inRestingIndex(state)) {
      this.resting = state.index;
      const user = userHash(userId);
      const hash = keyHashOf(state);
      const held = this.restingByUser.get(user);
      if (held === undefined) this.restingByUser.set(user, hash);
      else if (typeof held === 'number') this.restingByUser.set(user, [held, hash]);
      else held.push(hash);
      return;
    }
    const handle = state.key as string;
    const held = this.byUser.get(userId);
    if (held === undefined) this.byUser.set(userId, handle);
    else if (typeof held === 'string') this.byUser.set(userId, [held, handle]);
    else held.push(handle);
  }

  removed(state: EntryState): void {
    const userId = this.ownerOf(state);
    if (userId === undefined) return;
    if (inRestingIndex(state)) {
      unlist(this.restingByUser, userHash(userId), keyHashOf(state));
    } else {
      unlist(this.byUser, userId, state.key as string);
    }
  }

  cleared(): void {
    this.byUser.clear();
    this.restingByUser.clear();
  }
}

/** The hash a resting record's key has in its resting index. */
function keyHashOf(state: RestingState): number {
  return state.chunk.u32[2 * state.at + KEY_HASH_AT] | 0;
}

/** A 32-bit hash of a user id (ids that collide share a list: readers check each record's owner). */
function userHash(userId: UserId): number {
  return restingKeyHash(typeof userId === 'number' ? `#${userId}` : userId);
}

/** Takes one `item` out of the list of `owner` in `lists`. */
function unlist<K, T>(lists: Map<K, T | T[]>, owner: K, item: T): void {
  const held = lists.get(owner);
  if (held === undefined) return;
  if (!Array.isArray(held)) {
    if (held === item) lists.delete(owner);
    return;
  }
  const at = held.indexOf(item);
  if (at < 0) return;
  // Order does not matter (lists sort by age): move the last one into the hole.
  held[at] = held[held.length - 1];
  held.pop();
  if (held.length === 1) lists.set(owner, held[0]);
}
