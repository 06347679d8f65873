import { type EntryState, isTombstone, sameState } from '../store/entry';
import type { NormalKey } from '../store/key';
import type { NamespaceObserver } from '../store/namespace-observer';
import type { UserId } from './session.interface';

/** First element of a mark's key. */
const REVOKED_BEFORE = 'revoked-before';

/**
 * The key of a user's mark, `['revoked-before', userId]`, in the sessions'
 * own namespace: session records have scalar keys (their handles), so the two
 * never meet, and a `revokeAll` writes its mark and its deletes as one atomic
 * write.
 */
export function markKey(userId: UserId): NormalKey {
  return [REVOKED_BEFORE, userId];
}

/** The user whose mark is stored under `key`, or `undefined` if it is no mark's key. */
function markedUser(key: NormalKey): UserId | undefined {
  return typeof key === 'object' && key.length === 2 && key[0] === REVOKED_BEFORE ? key[1] : undefined;
}

/**
 * Each user's "revoked before" mark on this node: what `revokeAll` leaves so
 * that it also ends the sessions this node never saw (made on the far side of
 * a netsplit). The version of the state that holds a mark is the version of
 * the `revokeAll`: every session of the user signed in at an earlier version
 * is over.
 *
 * A mark is an entry of the replicated table, so replication, join copies,
 * heals and the disk copy carry it like any other, and a merge keeps the
 * newer write: concurrent marks merge to the latest, on every node alike.
 * This observer keeps the current marks in a Map, so that a session read asks
 * one `size` when no user has a mark and makes one lookup when some do.
 */
export class RevocationMarks implements NamespaceObserver {
  private readonly byUser = new Map<UserId, EntryState>();

  /** Number of users with a mark held here (expired ones until the sweep). */
  get size(): number {
    return this.byUser.size;
  }

  /** The state holding the user's mark (possibly expired: check `expiresAt`), or `undefined`. */
  of(userId: UserId): EntryState | undefined {
    return this.byUser.get(userId);
  }

  installed(state: EntryState): void {
    const userId = markedUser(state.key);
    if (userId === undefined) return;
    // A mark that was deleted (by hand: the library never does) is no longer one.
    if (isTombstone(state)) this.byUser.delete(userId);
    else this.byUser.set(userId, state);
  }

  removed(state: EntryState): void {
    const userId = markedUser(state.key);
    if (userId !== undefined && sameState(this.byUser.get(userId), state)) this.byUser.delete(userId);
  }

  cleared(): void {
    this.byUser.clear();
  }
}
