/** A user id: what `SessionCache` files sessions under. @publicApi */
export type UserId = string | number;

/**
 * A session as `SessionCache` hands it out. It never contains the bearer
 * token: `handle` is the token's SHA-256, safe to show, log or revoke by.
 * @publicApi
 */
export interface Session<M = Record<string, unknown>> {
  /** SHA-256 of the token (base64url): the key the session is stored under. */
  readonly handle: string;
  readonly userId: UserId;
  /** What the application attached at sign-in (device, IP, roles …), deeply frozen. */
  readonly metadata: M;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

/** A new session and its bearer token, which is shown once and never stored. @publicApi */
export interface IssuedSession<M = Record<string, unknown>> {
  /** The bearer token to give the client (256 random bits, base64url). */
  readonly token: string;
  readonly session: Session<M>;
}

/** What `SessionCache.rotate` did. @publicApi */
export interface RotationResult<M = Record<string, unknown>> extends IssuedSession<M> {
  /**
   * True if a new token replaced the old one; false if another rotation of the
   * same session was under way elsewhere, in which case the old token and
   * session are returned unchanged (Pow's behaviour: keep using the old one).
   */
  readonly rotated: boolean;
}

/** Options of `SessionCache.create` and `rotate`. @publicApi */
export interface SessionOptions {
  /** Time to live in ms; defaults to the `sessions.ttl` option (30 minutes). */
  ttl?: number;
}
