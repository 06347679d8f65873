import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionCache } from '@app/cluster-cache';

/** Name of the demo's session cookie. */
export const SESSION_COOKIE = 'demo_session';

/** What the cookie helpers need to know. */
export interface CookieSettings {
  /** HMAC-SHA256 key that signs the cookie (shared by every node). */
  secret: string;
  /** Adds `Secure` (set it when the app is served over HTTPS). */
  secure: boolean;
}

/**
 * The session cookie holds the SessionCache token and its HMAC:
 * `<token>.<base64url HMAC-SHA256(secret, token)>`. The token alone already is
 * 256 random bits; the signature lets a node reject a forged or truncated
 * cookie without a cache lookup, and is the usual shape of signed cookies.
 */
export function sign(token: string, secret: string): string {
  return `${token}.${mac(token, secret)}`;
}

/** The token of a signed cookie value, or `undefined` if the signature does not match. */
export function unsign(value: string, secret: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const token = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(mac(token, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? token : undefined;
}

/**
 * The value of cookie `name` in a `Cookie` header (the first one if repeated),
 * as sent. It looks for that one cookie instead of parsing the whole header,
 * and does not URL-decode or unquote: the demo's values are base64url and `.`,
 * so a value that would need it fails the signature check anyway.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (let at = header.indexOf(name); at !== -1; at = header.indexOf(name, at + 1)) {
    const eq = at + name.length;
    if (header.charCodeAt(eq) !== EQUALS || !startsPair(header, at)) continue; // `xdemo_session=` or inside a value
    const end = header.indexOf(';', eq);
    return header.slice(eq + 1, end === -1 ? header.length : end).trim();
  }
  return undefined;
}

/** A session cookie whose signature checked out. */
export interface VerifiedCookie {
  /** The cookie's value as sent (the key it is remembered under). */
  readonly value: string;
  /** The SessionCache token in it. */
  readonly token: string;
  /** `SessionCache.handleOf(token)`, worked out once. */
  readonly handle: string;
}

/**
 * Reads, checks and sets the session cookie for one secret.
 *
 * A one-shot HMAC costs about 13 µs per request in the server (building the
 * OpenSSL context is most of it, see docs/benchmarks-http.md), more than the
 * rest of the guard. So `read` remembers the values whose signature it has
 * checked, in a Map bounded to `capacity` entries (oldest dropped first), and
 * a repeat request costs one Map lookup, with the token's handle already
 * worked out. Only values that passed `unsign` get in, so a hit is a value
 * that was verified before. Being remembered does not keep a session alive:
 * the guard still asks SessionCache on every request, so sign-out, "sign out
 * everywhere", expiry and revocation on any node take effect at once. The Map
 * holds cookie values (so tokens) in this process's memory only; it is never
 * persisted, logged or replicated, and `forget` drops a value whose session
 * ended.
 */
export class SessionCookies {
  private readonly verified = new Map<string, VerifiedCookie>();

  constructor(
    private readonly settings: CookieSettings,
    /** How many verified values to remember (about 300 B each). */
    private readonly capacity = 10_000,
  ) {}

  /** The request's session cookie, if it is there and correctly signed. */
  read(request: IncomingMessage): VerifiedCookie | undefined {
    const value = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (value === undefined) return undefined;
    const known = this.verified.get(value);
    if (known !== undefined) return known;
    const token = unsign(value, this.settings.secret);
    if (token === undefined) return undefined;
    if (this.verified.size >= this.capacity) this.verified.delete(this.verified.keys().next().value!);
    // Copied: `value` is a slice of the whole Cookie header, which the Map would keep alive.
    const copy = Buffer.from(value, 'latin1').toString('latin1');
    const cookie: VerifiedCookie = { value: copy, token: copy.slice(0, token.length), handle: SessionCache.handleOf(token) };
    this.verified.set(copy, cookie);
    return cookie;
  }

  /** Stops remembering a cookie (its session ended), so its token leaves memory. */
  forget(cookie: VerifiedCookie): void {
    this.verified.delete(cookie.value);
  }

  /** Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, expiring with the session. */
  set(response: ServerResponse, token: string, expiresAt: number): void {
    const maxAge = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    response.appendHeader('Set-Cookie', `${SESSION_COOKIE}=${sign(token, this.settings.secret)}; Max-Age=${maxAge}; ${this.attributes()}`);
  }

  /** Removes the session cookie from the browser. */
  clear(response: ServerResponse): void {
    response.appendHeader('Set-Cookie', `${SESSION_COOKIE}=; Max-Age=0; ${this.attributes()}`);
  }

  private attributes(): string {
    return this.settings.secure ? 'Path=/; HttpOnly; SameSite=Lax; Secure' : 'Path=/; HttpOnly; SameSite=Lax';
  }
}

const EQUALS = 0x3d;
const SEMICOLON = 0x3b;

/** Whether a cookie pair starts at `at`: at the start of the header, or after `;` and optional spaces. */
function startsPair(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i--;
  return i === -1 || header.charCodeAt(i) === SEMICOLON;
}

function mac(token: string, secret: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url');
}
