import type { EntryState } from '../store/entry';
import type { NamespaceObserver } from '../store/namespace-observer';
import type { UserId } from './session.interface';

/**
 * Each user's session handles on this node, derived from the session records
 * the node holds instead of replicated as entries of their own. It observes the
 * namespace, so it follows every way a record comes or goes — local writes,
 * merges from peers, join copies, heals, loads from disk, sweeps, flushes — and
 * is exact wherever the records are. Records that expired but were not swept
 * yet stay listed until the sweep: readers check each handle's record.
 *
 * A user's handles are held as one string (the usual single session) or an
 * array, which is less memory than a Set; removing one costs O(that user's
 * sessions).
 */
export class UserSessionIndex implements NamespaceObserver {
  private readonly byUser = new Map<UserId, string | string[]>();

  /** `ownerOf(state)`: the user whose session record `state` is, or `undefined` if it is none. */
  constructor(private readonly ownerOf: (state: EntryState) => UserId | undefined) {}

  /** The handles of the user's session records held on this node (live or not swept yet). */
  handles(userId: UserId): readonly string[] {
    const held = this.byUser.get(userId);
    return held === undefined ? [] : typeof held === 'string' ? [held] : held;
  }

  /** Number of users with at least one record. */
  get users(): number {
    return this.byUser.size;
  }

  installed(state: EntryState, previous: EntryState | undefined): void {
    if (previous !== undefined) this.removed(previous);
    const userId = this.ownerOf(state);
    if (userId === undefined) return;
    const handle = state.key as string;
    const held = this.byUser.get(userId);
    if (held === undefined) this.byUser.set(userId, handle);
    else if (typeof held === 'string') this.byUser.set(userId, [held, handle]);
    else held.push(handle);
  }

  removed(state: EntryState): void {
    const userId = this.ownerOf(state);
    if (userId === undefined) return;
    const handle = state.key as string;
    const held = this.byUser.get(userId);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === handle) this.byUser.delete(userId);
      return;
    }
    const at = held.indexOf(handle);
    if (at < 0) return;
    // Order does not matter (lists sort by age): move the last one into the hole.
    held[at] = held[held.length - 1];
    held.pop();
    if (held.length === 1) this.byUser.set(userId, held[0]);
  }

  cleared(): void {
    this.byUser.clear();
  }
}
