import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The session cookie's value: `<token>.<HMAC-SHA256(secret, token) in base64url>`.
 * The token alone already is 256 random bits; the signature lets a node
 * refuse a forged or cut cookie without a cache lookup, and is the usual
 * shape of signed cookies.
 */
export function signToken(token: string, secret: string): string {
  return `${token}.${mac(token, secret)}`;
}

/**
 * The token in a signed cookie value, or `undefined` if no secret's signature
 * matches. The MACs are compared with `timingSafeEqual`, as encoded strings of
 * equal length, so a value whose MAC was re-encoded differently is refused.
 */
export function verifySigned(value: string, secrets: readonly string[]): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || value.length - dot - 1 !== MAC_LENGTH) return undefined;
  const token = value.slice(0, dot);
  // UTF-8: a character outside ASCII makes it longer than any MAC (latin1 would fold U+0178 onto 'x').
  const given = Buffer.from(value.slice(dot + 1), 'utf8');
  if (given.length !== MAC_LENGTH) return undefined;
  let valid = false;
  // Every secret is tried (no early exit): the time does not tell which one signed.
  for (const secret of secrets) valid = timingSafeEqual(given, Buffer.from(mac(token, secret), 'latin1')) || valid;
  return valid ? token : undefined;
}

/**
 * The value of cookie `name` in a `Cookie` header (the first one if repeated),
 * as sent. It looks for that one cookie instead of parsing the whole header
 * (≈ 50–100 ns where split/trim/decode of every pair took ≈ 700), and does not
 * URL-decode or unquote: the kit's values are base64url and `.`, so a value
 * that would need it fails the signature check anyway.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (let at = header.indexOf(name); at !== -1; at = header.indexOf(name, at + 1)) {
    const eq = at + name.length;
    if (header.charCodeAt(eq) !== EQUALS || !startsPair(header, at)) continue; // `xsession=` or inside a value
    const end = header.indexOf(';', eq);
    return header.slice(eq + 1, end === -1 ? header.length : end).trim();
  }
  return undefined;
}

/** A `Set-Cookie` value: the pair, Max-Age in whole seconds (0 deletes), then the attributes (`; Path=/; …`). */
export function setCookieValue(name: string, value: string, maxAgeMs: number, attributes: string): string {
  return `${name}=${value}; Max-Age=${Math.max(0, Math.ceil(maxAgeMs / 1000))}${attributes}`;
}

/** Length of an HMAC-SHA256 in base64url without padding. */
const MAC_LENGTH = 43;
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
