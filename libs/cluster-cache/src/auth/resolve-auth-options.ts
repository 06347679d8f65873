import { InvalidOptionError } from '../errors/cluster-cache.error';
import { AUTH_DEFAULTS, MIN_SECRET_LENGTH } from './auth.constants';
import type { SessionAuthOptions, SessionCookieOptions } from './session-auth-options.interface';

/** The signed cookie after validation. */
export interface ResolvedCookie {
  readonly name: string;
  /** The first signs; every one verifies. */
  readonly secrets: readonly string[];
  /** Everything after the Max-Age, worked out once: `; Path=/; HttpOnly; SameSite=Lax; Secure`. */
  readonly attributes: string;
}

/** `SessionAuthModule`'s options after validation, with every default filled in. */
export interface ResolvedAuthOptions {
  /** Set when bearer tokens are read. */
  readonly bearer: { readonly renewedTokenHeader: string } | undefined;
  /** Set when the signed cookie is read and written. */
  readonly cookie: ResolvedCookie | undefined;
  /** ms; `undefined`: never renew. */
  readonly renewAfter: number | undefined;
  readonly renewal: 'rotate' | 'touch';
  /** `undefined`: no request property. */
  readonly requestProperty: string | undefined;
  readonly rememberVerified: number;
}

const KNOWN = ['bearer', 'cookie', 'renewAfter', 'renewal', 'requestProperty', 'rememberVerified'];
const KNOWN_COOKIE = ['secret', 'name', 'httpOnly', 'sameSite', 'secure', 'domain', 'path'];
/** RFC 9110 token characters: what a cookie or header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A cookie attribute value: printable ASCII without `;` (RFC 6265 av-octet). */
const ATTRIBUTE_VALUE = /^[\x21-\x3a\x3c-\x7e]+$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** Request properties the frameworks and common middleware own. */
const TAKEN_PROPERTIES = new Set(['session', 'sessionID', 'sessionStore', 'user', 'headers', 'body', 'params', 'query', 'cookies', 'raw', 'id', 'ip']);

/**
 * Validates `SessionAuthModule`'s options against the session store's TTL and
 * fills in the defaults. Every problem is an `InvalidOptionError` naming the
 * option (`SessionAuthModule.cookie.secret`), thrown when the app starts.
 */
export function resolveAuthOptions(options: SessionAuthOptions | undefined, sessionTtl: number): ResolvedAuthOptions {
  if (options === undefined || options === null || typeof options !== 'object') fail('', `must be an object such as { cookie: { secret } } or { bearer: true }, got ${describe(options)}`);
  unknownKeys(options, KNOWN, '');
  const bearer = resolveBearer(options.bearer);
  const cookie = options.cookie === undefined ? undefined : resolveCookie(options.cookie);
  if (bearer === undefined && cookie === undefined) {
    fail('bearer', 'is false and no `cookie` is set: the guard would find no token anywhere; keep `bearer` or set `cookie: { secret }`');
  }
  const renewAfter = resolveRenewAfter(options.renewAfter, sessionTtl);
  const renewal = options.renewal ?? AUTH_DEFAULTS.renewal;
  if (renewal !== 'rotate' && renewal !== 'touch') fail('renewal', `must be 'rotate' or 'touch', got ${describe(renewal)}`);
  return {
    bearer,
    cookie,
    renewAfter,
    renewal,
    requestProperty: resolveRequestProperty(options.requestProperty),
    rememberVerified: resolveCount(options.rememberVerified, 'rememberVerified', AUTH_DEFAULTS.rememberVerified),
  };
}

function resolveBearer(value: SessionAuthOptions['bearer']): ResolvedAuthOptions['bearer'] {
  if (value === undefined || value === true) return { renewedTokenHeader: AUTH_DEFAULTS.renewedTokenHeader };
  if (value === false) return undefined;
  if (typeof value !== 'object' || value === null) fail('bearer', `must be true, false or { renewedTokenHeader }, got ${describe(value)}`);
  unknownKeys(value, ['renewedTokenHeader'], 'bearer.');
  const header = value.renewedTokenHeader ?? AUTH_DEFAULTS.renewedTokenHeader;
  if (typeof header !== 'string' || !TOKEN.test(header)) fail('bearer.renewedTokenHeader', `must be a header name such as X-Session-Token, got ${describe(header)}`);
  return { renewedTokenHeader: header };
}

function resolveCookie(cookie: SessionCookieOptions): ResolvedCookie {
  if (typeof cookie !== 'object' || cookie === null) fail('cookie', `must be an object such as { secret }, got ${describe(cookie)}`);
  unknownKeys(cookie, KNOWN_COOKIE, 'cookie.');
  const secrets = typeof cookie.secret === 'string' ? [cookie.secret] : cookie.secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    fail('cookie.secret', `must be a string of at least ${MIN_SECRET_LENGTH} characters (or a non-empty list of them), the same on every node: it signs the session cookie`);
  }
  secrets.forEach((secret: unknown, i) => {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      const which = secrets.length === 1 && typeof cookie.secret === 'string' ? 'cookie.secret' : `cookie.secret[${i}]`;
      fail(which, `must be at least ${MIN_SECRET_LENGTH} characters (it signs the session cookie), got ${typeof secret === 'string' ? `${secret.length}` : describe(secret)}`);
    }
  });
  const name = cookie.name ?? AUTH_DEFAULTS.cookieName;
  if (typeof name !== 'string' || !TOKEN.test(name)) fail('cookie.name', `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~), got ${describe(name)}`);
  const secure = bool(cookie.secure, 'cookie.secure', true);
  const httpOnly = bool(cookie.httpOnly, 'cookie.httpOnly', true);
  const sameSite = cookie.sameSite ?? AUTH_DEFAULTS.cookieSameSite;
  if (sameSite !== false && sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') fail('cookie.sameSite', `must be 'lax', 'strict', 'none' or false, got ${describe(sameSite)}`);
  if (sameSite === 'none' && !secure) fail('cookie.sameSite', "is 'none', which browsers take only with `secure: true`");
  const path = cookie.path ?? AUTH_DEFAULTS.cookiePath;
  if (typeof path !== 'string' || !path.startsWith('/') || !ATTRIBUTE_VALUE.test(path)) fail('cookie.path', `must be a path starting with / (no ; or spaces), got ${describe(path)}`);
  const domain = cookie.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain))) fail('cookie.domain', `must be a host name such as example.com, got ${describe(domain)}`);
  if (name.startsWith('__Secure-') && !secure) fail('cookie.secure', `must be true for a cookie named ${name} (browsers refuse a __Secure- cookie without Secure)`);
  if (name.startsWith('__Host-')) {
    if (!secure) fail('cookie.secure', `must be true for a cookie named ${name} (browsers refuse a __Host- cookie without Secure)`);
    if (path !== '/') fail('cookie.path', `must be / for a cookie named ${name} (__Host- cookies are for the whole host)`);
    if (domain !== undefined) fail('cookie.domain', `must not be set for a cookie named ${name} (__Host- cookies are for one host)`);
  }
  let attributes = `; Path=${path}`;
  if (domain !== undefined) attributes += `; Domain=${domain}`;
  if (httpOnly) attributes += '; HttpOnly';
  if (sameSite !== false) attributes += `; SameSite=${sameSite[0].toUpperCase()}${sameSite.slice(1)}`;
  if (secure) attributes += '; Secure';
  return { name, secrets: [...secrets], attributes };
}

function resolveRenewAfter(value: SessionAuthOptions['renewAfter'], sessionTtl: number): number | undefined {
  if (value === false) return undefined;
  // The default follows a short TTL down: half of it (Pow's ratio: 15 of 30 minutes).
  const renewAfter = value ?? Math.min(AUTH_DEFAULTS.renewAfter, Math.floor(sessionTtl / 2));
  if (typeof renewAfter !== 'number' || !Number.isFinite(renewAfter) || renewAfter < 0) {
    fail('renewAfter', `must be a number of milliseconds (at least 0) or false, got ${describe(renewAfter)}`);
  }
  if (renewAfter >= sessionTtl) {
    fail('renewAfter', `is ${renewAfter} ms, not shorter than the session TTL (${sessionTtl} ms, ClusterCacheModule's \`sessions.ttl\`): sessions would expire before they are renewed; renew after about half the TTL, or set false`);
  }
  return renewAfter;
}

function resolveRequestProperty(value: SessionAuthOptions['requestProperty']): string | undefined {
  if (value === false) return undefined;
  const name = value ?? AUTH_DEFAULTS.requestProperty;
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) fail('requestProperty', `must be a property name such as authSession, or false, got ${describe(name)}`);
  if (TAKEN_PROPERTIES.has(name)) {
    fail('requestProperty', `is ${describe(name)}, which ${name.startsWith('session') ? 'express-session and @fastify/session own' : 'the frameworks or common middleware own'}; pick another name (the default is ${AUTH_DEFAULTS.requestProperty})`);
  }
  return name;
}

function resolveCount(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(option, `must be a whole number (at least 0), got ${describe(value)}`);
  return value;
}

function bool(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(option, `must be true or false, got ${describe(value)}`);
  return value;
}

function unknownKeys(value: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${prefix}${key}`, `is not an option of SessionAuthModule${prefix === '' ? '' : ` ${prefix.slice(0, -1)}`} (known: ${known.join(', ')})`);
  }
}

function fail(option: string, problem: string): never {
  throw new InvalidOptionError(option === '' ? 'SessionAuthModule' : `SessionAuthModule.${option}`, problem);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
