import type { ClusterCache } from '../cache/cluster-cache';
import { SessionStore } from '../contract/session-store';
import { type EntryState, isTombstone } from '../store/entry';
import { fieldOf } from '../store/compact/field-of';
import { SingleFlight } from '../util/single-flight';
import type { IssuedSession, RotationResult, Session, SessionOptions, UserId } from './session.interface';
import { markKey, RevocationMarks } from './revocation-marks';
import type { SessionLock } from './session-lock.interface';
import { SessionRevokedError } from './session-revoked.error';
import { handleOf, isWellFormed, newToken, RANDOM_TOKEN_LENGTH } from './session-token';
import { checkedUserId } from './user-id';
import { UserSessionIndex } from './user-session-index';

/** What is stored under a session's handle. */
interface StoredSession<M> {
  readonly userId: UserId;
  readonly metadata: M;
  readonly createdAt: number;
  /**
   * Version of the sign-in this session comes from, which a `revokeAll` mark
   * is compared with. Absent in the record `create` writes (and in records of
   * earlier builds): then it is the version of the state holding the record.
   * Touches and rotations carry it on, so neither makes a session younger
   * than its sign-in.
   */
  readonly signedIn?: number;
}

/** What a rotated token's handle holds during the grace period: where the session went. */
interface RotatedTo {
  readonly rotatedTo: string;
}

/** The user whose session record `state` is, or `undefined` (a tombstone, a rotation pointer, anything else). */
function ownerOf(state: EntryState): UserId | undefined {
  // Only the field: a session copied or loaded here stays at rest until read (see store/compact/).
  return typeof state.key !== 'string' || isTombstone(state) ? undefined : (fieldOf(state, 'userId') as UserId | undefined);
}

/** The version of the sign-in a live session record comes from (see `StoredSession.signedIn`). */
function signedInOf(state: EntryState): number {
  return (state.value as StoredSession<unknown>).signedIn ?? state.version;
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
 * token. Only session records (and `revokeAll` marks) are replicated: each
 * node derives its per-user index from the records it holds (see
 * `UserSessionIndex`), so the index
 * follows every write, merge, expiry and reload, and listing a user's sessions
 * never shows a dead one.
 *
 * Sign-outs hold across netsplits: `delete` and `revoke` leave a tombstone
 * even for a session this node never saw, and `revokeAll` leaves a mark that
 * ends every session of the user signed in before it, wherever it was made
 * (see `RevocationMarks`).
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
  private readonly revoked = new RevocationMarks();
  /** The session records and the users' `revokeAll` marks. */
  private readonly cache: ClusterCache<unknown>;

  /** @internal Made by the module; inject `SessionCache`. */
  constructor(
    credentials: ClusterCache<unknown>,
    private readonly lock: SessionLock,
    /** Default session TTL in ms. */
    readonly ttl: number,
    /** How long a rotated token still resolves to its session, in ms (requests already on their way). */
    readonly rotationGrace = 10_000,
  ) {
    super();
    // With the session TTL as the default, a sign-out's tombstone lasts as long as a session it may meet at a heal.
    this.cache = credentials.namespace(credentials.namespaceName, { ttl });
    this.cache.observe(this.byUser);
    this.cache.observe(this.revoked);
  }

  /** The handle (stored key) of a token: its SHA-256 in base64url. */
  static handleOf(token: string): string {
    return handleOf(token);
  }

  /**
   * Starts a session for `userId`; returns its token (give it to the client)
   * and the session.
   *
   * A `revokeAll` of the user ends every session created before it. If one
   * ends this session while `create` still waits for its write to reach the
   * other nodes, `create` rejects with `SessionRevokedError` rather than hand
   * out a dead session. A create that starts after the `revokeAll` lives.
   * @throws SessionRevokedError (as a rejected promise) in that case.
   */
  async create(userId: UserId, metadata: M = {} as M, options: SessionOptions = {}): Promise<IssuedSession<M>> {
    checkedUserId(userId);
    const token = newToken();
    const handle = handleOf(token);
    const createdAt = this.cache.clockNow();
    await this.cache.write(
      { put: [[handle, { userId, metadata, createdAt }]] },
      { expiresAt: createdAt + (options.ttl ?? this.ttl) },
    );
    const session = this.byHandle(handle);
    if (session === undefined) throw new SessionRevokedError(userId);
    return { token, session };
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

  /**
   * The session a live state holds, or `undefined` if it holds something else
   * (a rotation pointer) or a `revokeAll` of its user came after its sign-in.
   */
  private sessionOf(handle: string, state: EntryState): Session<M> | undefined {
    const stored = state.value as StoredSession<M> | RotatedTo | number;
    if (typeof stored !== 'object' || stored === null || 'rotatedTo' in stored) return undefined;
    // Every read pays one size check; only reads of a user with a mark pay more.
    if (this.revoked.size !== 0 && this.revokedBefore(stored.userId, state)) return undefined;
    return { handle, userId: stored.userId, metadata: stored.metadata, createdAt: stored.createdAt, expiresAt: state.expiresAt };
  }

  /** Whether the user's live `revokeAll` mark comes after the sign-in of the session record `state`. */
  private revokedBefore(userId: UserId, state: EntryState): boolean {
    const mark = this.revoked.of(userId);
    return mark !== undefined && signedInOf(state) < mark.version && mark.expiresAt > this.cache.clockNow();
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
    const signedIn = signedInOf(this.cache.liveState(handle)!);
    await this.cache.write({ put: [[handle, { userId, metadata, createdAt, signedIn }]] }, { ttl: options.ttl ?? this.ttl });
    return this.byHandle(handle);
  }

  /**
   * Ends the session of a token (sign-out), on every node. Resolves to whether
   * this node knew a live session for it. Either way, the sign-out of any
   * well-formed token is recorded (a tombstone of its handle, kept for the
   * session TTL), so a session this node never saw — made on the far side of
   * a netsplit — ends too when the split heals.
   */
  async delete(token: string): Promise<boolean> {
    if (!isWellFormed(token)) return false;
    const handle = handleOf(token);
    const session = this.get(token);
    // A token in its rotation grace ends the session it was rotated to, and its own pointer.
    await this.cache.deleteMany(session === undefined || session.handle === handle ? [handle] : [handle, session.handle]);
    return session !== undefined;
  }

  /**
   * Ends one session of a user by its handle (e.g. "sign out that device");
   * a session of another user stays. A handle in its rotation grace ends the
   * session it was rotated to.
   *
   * A well-formed handle this node does not hold is recorded as signed out
   * anyway (a tombstone, kept for the session TTL), for a session that may
   * live on the far side of a netsplit. Its owner cannot be checked then: a
   * handle is a 256-bit hash that cannot be guessed, and the app learns it
   * from `list(userId)` of the session's own user.
   */
  async revoke(userId: UserId, handle: string): Promise<void> {
    checkedUserId(userId);
    if (!isWellFormed(handle)) return;
    const state = this.cache.liveState(handle);
    if (state === undefined) return this.cache.deleteMany([handle]);
    const pointer = state.value as RotatedTo;
    const target = typeof pointer === 'object' && pointer !== null && 'rotatedTo' in pointer ? pointer.rotatedTo : handle;
    const record = target === handle ? state : this.cache.liveState(target);
    if (record === undefined || ownerOf(record) !== userId) return;
    await this.cache.deleteMany(target === handle ? [handle] : [handle, target]);
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
   * Ends every session of a user, on every node (Pow issue #404). In one
   * atomic write it deletes the sessions this node holds and marks the user as
   * "revoked before" this moment, so that every session of the user signed in
   * earlier ends wherever it was made — including on the far side of a
   * netsplit, once it heals — however it was touched or rotated since.
   * Sessions created after the mark live. Resolves to how many sessions this
   * node held.
   */
  async revokeAll(userId: UserId): Promise<number> {
    const sessions = this.list(userId);
    const now = this.cache.clockNow();
    // The mark must outlive every session it may end: those held here, any made elsewhere (a session TTL), and the previous mark's.
    let keepUntil = Math.max(now + this.ttl, this.revoked.of(userId)?.expiresAt ?? 0);
    for (const session of sessions) keepUntil = Math.max(keepUntil, session.expiresAt);
    // The value (when) is for people reading a dump; the version of the write is the mark.
    await this.cache.write({ put: [[markKey(userId), now, { expiresAt: keepUntil }]], delete: sessions.map((session) => session.handle) });
    return sessions.length;
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
    const outcome = await this.lock.tryWith(`session:${old.handle}`, async (): Promise<RotationResult<M> | undefined> => {
      if (this.byHandle(old.handle) === undefined) {
        // Another node rotated it between our lookup and our lock (its write arrived before its lock was
        // released): the token is in its grace, so keep it, on the new session, as a lost race does.
        const moved = this.get(token);
        return moved === undefined ? undefined : { token, session: moved, rotated: false };
      }
      // The new session keeps the sign-in's version: a rotation does not escape a revokeAll made after the sign-in.
      const signedIn = signedInOf(this.cache.liveState(old.handle)!);
      const next = newToken();
      const handle = handleOf(next);
      const createdAt = this.cache.clockNow();
      await this.cache.write(
        {
          put: [
            [handle, { userId: old.userId, metadata: old.metadata, createdAt, signedIn }],
            [old.handle, { rotatedTo: handle }, { ttl: this.rotationGrace }],
          ],
        },
        { expiresAt: createdAt + (options.ttl ?? this.ttl) },
      );
      const session = this.byHandle(handle);
      // Signed out while the write was on its way (a revokeAll): no live session to hand out.
      return session === undefined ? undefined : { token: next, session, rotated: true };
    });
    if (outcome.acquired) return outcome.result;
    return { token, session: old, rotated: false };
  }
}
