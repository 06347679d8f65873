import type { Awaitable } from './cache-store';
import type { IssuedSession, RotationResult, Session, SessionOptions, UserId } from '../sessions/session.interface';

/**
 * The session contract both backends keep (Pow's `CredentialsCache`): inject
 * `SessionStore` in a guard that must run on the mesh and on Redis alike.
 *
 * Tokens are 256 random bits (232 on Redis, where their first 4 characters
 * route them to their user's Cluster slot) and never stored: only their
 * SHA-256 (the session's `handle`) is. A session made on one app node is
 * valid on every node at once; a sign-out anywhere is a sign-out everywhere.
 * Reads are `Awaitable` (synchronous on the mesh): `await sessions.get(token)`.
 * On Redis every call returns a promise, and a bad argument rejects it (on
 * the mesh, synchronous reads throw).
 *
 * @example
 * const session = await this.sessions.get(token);
 * if (session === undefined) throw new UnauthorizedException();
 * @publicApi
 */
export abstract class SessionStore<M = Record<string, unknown>> {
  /** Default session TTL in ms. */
  abstract readonly ttl: number;
  /** How long a rotated token still resolves to its session, in ms. */
  abstract readonly rotationGrace: number;
  /**
   * Starts a session for `userId`; returns its token (give it to the client)
   * and the session, or rejects with `SessionRevokedError` when a `revokeAll`
   * of the user ended it before `create` could return it (a `revokeAll` ends
   * every session created before it). Never resolves without a session.
   */
  abstract create(userId: UserId, metadata?: M, options?: SessionOptions): Promise<IssuedSession<M>>;
  /**
   * The session of a token, or `undefined` if it does not exist, expired or
   * was revoked. A token rotated less than `rotationGrace` ago resolves to
   * the new session.
   */
  abstract get(token: string): Awaitable<Session<M> | undefined>;
  /** The session stored under a handle (from `list`), or `undefined`. */
  abstract byHandle(handle: string): Awaitable<Session<M> | undefined>;
  /** Extends a session's life by `ttl` (default: the session TTL) from now, keeping its token. */
  abstract touch(token: string, options?: SessionOptions): Promise<Session<M> | undefined>;
  /**
   * Ends the session of a token (sign-out). Resolves to whether this node
   * knew it; on the mesh the sign-out is recorded either way, for a session
   * made on the far side of a netsplit.
   */
  abstract delete(token: string): Promise<boolean>;
  /** Ends one session of a user by its handle (e.g. "sign out that device"). */
  abstract revoke(userId: UserId, handle: string): Promise<void>;
  /** Every live session of a user, oldest first. */
  abstract list(userId: UserId): Awaitable<Session<M>[]>;
  /**
   * Ends every session of a user created before it, at once; sessions created
   * after it live. Resolves to how many this node knew.
   */
  abstract revokeAll(userId: UserId): Promise<number>;
  /**
   * Replaces a session's token with a new one in one atomic write; the old
   * token keeps resolving for `rotationGrace` ms. Concurrent rotations of one
   * session rotate it once. Calls on one node share one run and its result:
   * on the node that rotates, every concurrent caller gets `rotated: true` and
   * the same new token. Callers on other nodes that lose the race get
   * `rotated: false` and the session with their old token, which the grace
   * keeps valid.
   */
  abstract rotate(token: string, options?: SessionOptions): Promise<RotationResult<M> | undefined>;
  /** Whether a session is older than `age` ms (Pow renews sessions older than 15 minutes). */
  abstract isOlderThan(session: Session<M>, age: number): boolean;
}
