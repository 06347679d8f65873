/**
 * Tokens, metadata keys and defaults of the auth kit (`SessionAuthModule`),
 * namespaced like the module's other tokens.
 */

/** Metadata key `@Public()` sets on a route or controller: `SessionAuthGuard` lets it through unchecked. @publicApi */
export const PUBLIC_ROUTE = 'CLUSTER_CACHE:AUTH:PUBLIC';

/** Injection token of the validated auth options (`ResolvedAuthOptions`). */
export const RESOLVED_AUTH_OPTIONS = 'CLUSTER_CACHE:AUTH:RESOLVED_OPTIONS';

/** The message of the 401 the guard answers with (throw your own from `throwUnauthorized`). @publicApi */
export const NOT_SIGNED_IN = 'not signed in';

/** Defaults of the auth options that have one. */
export const AUTH_DEFAULTS = {
  /** Pow renews sessions older than 15 minutes (its `session_ttl_renewal`). */
  renewAfter: 15 * 60_000,
  renewal: 'rotate',
  cookieName: 'session',
  cookiePath: '/',
  cookieSameSite: 'lax',
  /** The response header that carries a rotated bearer token. */
  renewedTokenHeader: 'X-Session-Token',
  /** Not `session`: express-session and @fastify/session own `request.session`. */
  requestProperty: 'authSession',
  /** Verified credentials remembered per node (about 300 B each). */
  rememberVerified: 10_000,
} as const;

/** The shortest HMAC secret accepted for the cookie, in characters (as for the cluster `cookie`). */
export const MIN_SECRET_LENGTH = 16;
