import { ClusterCacheError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { UserId } from './session.interface';

/**
 * `SessionCache.create` made the session, but a sign-out of the user ended it
 * before `create` could return it: a `revokeAll` (or a `revoke` of that
 * handle) ran while the create's write was still on its way to the other
 * nodes. A `revokeAll` ends every session created before it, so this sign-in
 * lost; nothing of it is left. Treat it as a failed sign-in (or try again).
 * @publicApi
 */
export class SessionRevokedError extends ClusterCacheError {
  constructor(
    /** The user whose sign-in was ended. */
    readonly userId: UserId,
  ) {
    super(messages.sessionRevoked(userId));
  }
}
