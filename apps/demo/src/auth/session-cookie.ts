import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

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

/** The token in the request's session cookie, if the cookie is there and correctly signed. */
export function tokenOf(request: IncomingMessage, secret: string): string | undefined {
  const value = readCookie(request.headers.cookie, SESSION_COOKIE);
  return value === undefined ? undefined : unsign(value, secret);
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, expiring with the session. */
export function setSessionCookie(response: ServerResponse, token: string, expiresAt: number, settings: CookieSettings): void {
  const maxAge = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
  const attributes = [`Max-Age=${maxAge}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (settings.secure) attributes.push('Secure');
  response.appendHeader('Set-Cookie', `${SESSION_COOKIE}=${sign(token, settings.secret)}; ${attributes.join('; ')}`);
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(response: ServerResponse, settings: CookieSettings): void {
  const attributes = ['Max-Age=0', 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (settings.secure) attributes.push('Secure');
  response.appendHeader('Set-Cookie', `${SESSION_COOKIE}=; ${attributes.join('; ')}`);
}

/** The value of cookie `name` in a `Cookie` header (the first one if repeated). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function mac(token: string, secret: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url');
}
