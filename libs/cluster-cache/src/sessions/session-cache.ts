import type { ClusterCache } from '../cache/cluster-cache';
import { SessionStore } from '../contract/session-store';
import type { EntryState } from '../store/entry';
import { SingleFlight } from '../util/single-flight';
import type { IssuedSession, RotationResult, Session, SessionOptions, UserId } from './session.interface';
import type { SessionLock } from './session-lock.interface';
import { handleOf, newToken, RANDOM_TOKEN_LENGTH } from './session-token';
import { checkedUserId } from './user-id';
import { UserSessionIndex } from './user-session-index';

/** What is stored under a session's handle. */
interface StoredSession<M> {
  readonly userId: UserId;
  readonly metadata: M;
  readonly createdAt: number;
}

/** What a rotated token's handle holds during the grace period: where the session went. */
interface RotatedTo {
  readonly rotatedTo: string;
}

/** The user whose session record `state` is, or `undefined` (a tombstone, a rotation pointer, anything else). */
function ownerOf(state: EntryState): UserId | undefined {
  const value = state.value as StoredSession<unknown> | RotatedTo | undefined;
  if (typeof state.key !== 'string' || typeof value !== 'object' || value === null || !('userId' in value)) return undefined;
  return value.userId;
}

/** Length of a token: its random part, nothing else (the mesh needs no routing). */
const TOKEN_LENGTH = RANDOM_TOKEN_LENGTH;

/**
 * Auth sessions over the replicated cache (Pow's `CredentialsCache`): the
 * mesh backend's `SessionStore`, with synchronous reads. A session made on
 * one node is valid on every node at once; a sign-out anywhere is a sign-out
 * everywhere.
 *
 * Tokens are 256 random bits; the cache only ever stores their SHA-256 (the
 * session's `handle`), so a dump of the cache or its disk copy holds no usable
 * token. Only session records are replicated: each node derives its per-user
 * index from the records it holds (see `UserSessionIndex`), so the index
 * follows every write, merge, expiry and reload, and listing a user's sessions
 * never shows a dead one.
 *
 * @example
 * const { token } = await sessions.create(user.id, { ip });
 * const session = sessions.get(token); // on any node
 * await sessions.revokeAll(user.id);   // sign out everywhere
 * @publicApi
 */
export class SessionCache<M = Record<string, unknown>> extends SessionStore<M> {
  private readonly rotations = new SingleFlight<RotationResult<M> | undefined>();
  private readonly byUser = new UserSessionIndex(ownerOf);

  /** @internal Made by the module; inject `SessionCache`. */
  constructor(
    private readonly cache: ClusterCache<unknown>,
    private readonly lock: SessionLock,
    /** Default session TTL in ms. */
    readonly ttl: number,
    /** How long a rotated token still resolves to its session, in ms (requests already on their way). */
    readonly rotationGrace = 10_000,
  ) {
    super();
    cache.observe(this.byUser);
  }

  /** The handle (stored key) of a token: its SHA-256 in base64url. */
  static handleOf(token: string): string {
    return handleOf(token);
  }

  /** Starts a session for `userId`; returns its token (give it to the client) and the session. */
  async create(userId: UserId, metadata: M = {} as M, options: SessionOptions = {}): Promise<IssuedSession<M>> {
    checkedUserId(userId);
    const token = newToken();
    const handle = handleOf(token);
    const createdAt = this.cache.clockNow();
    await this.cache.write(
      { put: [[handle, { userId, metadata, createdAt }]] },
      { expiresAt: createdAt + (options.ttl ?? this.ttl) },
    );
    return { token, session: this.byHandle(handle)! };
  }

  /**
   * The session of a token, or `undefined` if it does not exist, expired or
   * was revoked. For `rotationGrace` ms after a rotation the old token still
   * resolves, to the new session (its `handle` then differs from the token's):
   * requests that were already on their way with the old token succeed.
   */
  get(token: string): Session<M> | undefined {
    if (typeof token !== 'string' || token.length !== TOKEN_LENGTH) return undefined;
    const handle = handleOf(token);
    const state = this.cache.liveState(handle);
    if (state === undefined) return undefined;
    const stored = state.value as StoredSession<M> | RotatedTo;
    if (typeof stored === 'object' && stored !== null && 'rotatedTo' in stored) return this.byHandle(stored.rotatedTo);
    return this.sessionOf(handle, state);
  }

  /** The session stored under a handle (from `list`), or `undefined`. */
  byHandle(handle: string): Session<M> | undefined {
    const state = this.cache.liveState(handle);
    return state === undefined ? undefined : this.sessionOf(handle, state);
  }

  /** The session a live state holds, or `undefined` if it holds something else (a rotation pointer). */
  private sessionOf(handle: string, state: EntryState): Session<M> | undefined {
    const stored = state.value as StoredSession<M> | RotatedTo | number;
    if (typeof stored !== 'object' || stored === null || 'rotatedTo' in stored) return undefined;
    return { handle, userId: stored.userId, metadata: stored.metadata, createdAt: stored.createdAt, expiresAt: state.expiresAt };
  }

  /**
   * Extends a session's life by `ttl` (default: the session TTL) from now,
   * keeping its token: a sliding idle timeout. Resolves to the renewed session,
   * or `undefined` if it has none.
   */
  async touch(token: string, options: SessionOptions = {}): Promise<Session<M> | undefined> {
    const session = this.get(token);
    if (session === undefined) return undefined;
    const { handle, userId, metadata, createdAt } = session;
    await this.cache.write({ put: [[handle, { userId, metadata, createdAt }]] }, { ttl: options.ttl ?? this.ttl });
    return this.byHandle(handle);
  }

  /** Ends the session of a token (sign-out). Resolves to whether it existed. */
  async delete(token: string): Promise<boolean> {
    const session = this.get(token);
    if (session === undefined) return false;
    const handle = handleOf(token);
    // A token in its rotation grace ends the session it was rotated to, and its own pointer.
    await this.cache.deleteMany(handle === session.handle ? [handle] : [handle, session.handle]);
    return true;
  }

  /** Ends one session of a user by its handle (e.g. "sign out that device"); another user's session stays. */
  async revoke(userId: UserId, handle: string): Promise<void> {
    checkedUserId(userId);
    if (this.byHandle(handle)?.userId === userId) await this.cache.deleteMany([handle]);
  }

  /** Every live session of a user, oldest first. */
  list(userId: UserId): Session<M>[] {
    const sessions: Session<M>[] = [];
    for (const handle of this.byUser.handles(checkedUserId(userId))) {
      const session = this.byHandle(handle);
      if (session !== undefined) sessions.push(session);
    }
    return sessions.sort((a, b) => a.createdAt - b.createdAt || (a.handle < b.handle ? -1 : 1));
  }

  /**
   * Ends every session of a user at once, in one atomic write, on every node
   * (Pow issue #404). Resolves to how many there were.
   */
  async revokeAll(userId: UserId): Promise<number> {
    const handles = this.list(userId).map((session) => session.handle);
    if (handles.length === 0) return 0;
    await this.cache.deleteMany(handles);
    return handles.length;
  }

  /**
   * Replaces a session's token with a new one (same user and metadata, fresh
   * TTL) in one atomic write; the old token keeps resolving to the new session
   * for `rotationGrace` ms, then stops. Concurrent rotations of one session are
   * single-flight: on this node they share one result, and across the cluster
   * only the holder of the session's lock rotates while the others keep the
   * old token (`rotated: false`), which the grace keeps valid meanwhile.
   * @returns `undefined` if the token has no live session.
   */
  rotate(token: string, options: SessionOptions = {}): Promise<RotationResult<M> | undefined> {
    if (typeof token !== 'string' || token.length !== TOKEN_LENGTH) return Promise.resolve(undefined);
    const handle = handleOf(token);
    // Checked before the session: the first rotation deletes the old one synchronously.
    const inFlight = this.rotations.current(handle);
    if (inFlight !== undefined) return inFlight;
    const session = this.get(token);
    if (session === undefined) return Promise.resolve(undefined);
    // Rotated already (the token is in its grace period): the new session, without a new token.
    if (session.handle !== handle) return Promise.resolve({ token, session, rotated: false });
    return this.rotations.run(handle, () => this.rotateOnce(token, session, options));
  }

  /** Whether a session is older than `age` ms (Pow renews sessions older than 15 minutes). */
  isOlderThan(session: Session<M>, age: number): boolean {
    return session.createdAt + age <= this.cache.clockNow();
  }

  private async rotateOnce(token: string, old: Session<M>, options: SessionOptions): Promise<RotationResult<M> | undefined> {
    const outcome = await this.lock.tryWith(`session:${old.handle}`, async () => {
      if (this.byHandle(old.handle) === undefined) return undefined;
      const next = newToken();
      const handle = handleOf(next);
      const createdAt = this.cache.clockNow();
      await this.cache.write(
        {
          put: [
            [handle, { userId: old.userId, metadata: old.metadata, createdAt }],
            [old.handle, { rotatedTo: handle }, { ttl: this.rotationGrace }],
          ],
        },
        { expiresAt: createdAt + (options.ttl ?? this.ttl) },
      );
      return { token: next, session: this.byHandle(handle)!, rotated: true };
    });
    if (outcome.acquired) return outcome.result;
    return { token, session: old, rotated: false };
  }
}
