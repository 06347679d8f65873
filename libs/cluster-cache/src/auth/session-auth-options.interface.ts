/**
 * The signed session cookie: its HMAC secret and its attributes. The cookie
 * holds `<token>.<HMAC-SHA256(secret, token)>` in base64url.
 * @publicApi
 */
export interface SessionCookieOptions {
  /**
   * HMAC-SHA256 key(s) that sign the cookie, the same on every node, at least
   * 16 characters. With a list, the first signs and every one verifies: put a
   * new secret first and keep the old one until its cookies have expired.
   */
  secret: string | readonly string[];
  /** Cookie name. Default `session`. A `__Host-` name needs `secure`, `path: '/'` and no `domain`. */
  name?: string;
  /** `HttpOnly`: scripts on the page cannot read the cookie. Default true. */
  httpOnly?: boolean;
  /** `SameSite`. Default `'lax'`; `'none'` needs `secure`; `false` leaves the attribute out. */
  sameSite?: 'lax' | 'strict' | 'none' | false;
  /** `Secure`: sent over HTTPS only. Default true; set it to false for plain HTTP (a local demo). */
  secure?: boolean;
  /** `Domain`. Default: none (the cookie goes to the host that set it only). */
  domain?: string;
  /** `Path`. Default `/`. */
  path?: string;
}

/** Where `SessionAuthGuard` looks for a bearer token, and where a rotated one goes. @publicApi */
export interface SessionBearerOptions {
  /** Response header that carries the new token after a rotation. Default `X-Session-Token`. */
  renewedTokenHeader?: string;
}

/**
 * Options of `SessionAuthModule.forRoot` (and of `forRootAsync`'s factory).
 * At least one of `bearer` and `cookie` must be on.
 *
 * @example
 * SessionAuthModule.forRoot({ cookie: { secret: process.env.SESSION_SECRET! } })
 * @publicApi
 */
export interface SessionAuthOptions {
  /**
   * Read `Authorization: Bearer <token>`. Default true. A rotated token is
   * sent back in `X-Session-Token` (see `SessionBearerOptions`). When a
   * request has both a bearer token and the cookie, the bearer token decides.
   */
  bearer?: boolean | SessionBearerOptions;
  /** Read (and, at sign-in and rotation, set) a signed cookie. Default: no cookie. */
  cookie?: SessionCookieOptions;
  /**
   * Renew a session once it is this old (ms): the way Pow does (15 minutes by
   * default, or half the session TTL if that is shorter). The renewal gives it a whole new TTL, so a session that is used
   * lives on (sliding expiry) and an idle one ends after the session TTL.
   * Must be shorter than the session TTL. `false`: never renew.
   */
  renewAfter?: number | false;
  /**
   * How a session is renewed. `'rotate'` (default, Pow's way): a new token,
   * single-flight across the cluster, sent back in the same response (cookie
   * or `X-Session-Token`); the old token keeps working for the rotation grace.
   * `'touch'`: the same token with a new expiry (the cookie is set again with
   * the new Max-Age), for clients that cannot take a new token.
   */
  renewal?: 'rotate' | 'touch';
  /**
   * The request property that holds the session of an admitted request
   * (`request.authSession`), as a getter on the framework's request
   * prototype, not a property of each request. Not `session`, which
   * express-session and @fastify/session own. `false`: none (read it with
   * `@CurrentSession()` or `sessionOf(request)`). Default `authSession`.
   */
  requestProperty?: string | false;
  /**
   * How many verified credentials each node remembers (default 10,000; 0:
   * none). A remembered cookie skips its HMAC check (≈ 13 µs in a server)
   * and a remembered token its SHA-256: the session itself is still looked up
   * on every request, so a sign-out anywhere takes effect at once. They are
   * held in this process's memory only (tokens, about 300 B each), dropped
   * oldest first and when their session ends.
   */
  rememberVerified?: number;
}
