/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750; the
 * scheme in any case, one space), or `undefined` for any other header. It
 * does not check the token's shape: the session store answers `undefined`
 * for anything that is not a token.
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || header.length <= PREFIX.length || header.charCodeAt(PREFIX.length - 1) !== SPACE) return undefined;
  // Compared by character codes, case-insensitively: no lower-cased copy of the header per request.
  for (let i = 0; i < PREFIX.length - 1; i++) if ((header.charCodeAt(i) | 0x20) !== PREFIX.charCodeAt(i)) return undefined;
  const token = header.slice(PREFIX.length);
  return token.indexOf(' ') === -1 ? token : undefined;
}

const PREFIX = 'bearer ';
const SPACE = 0x20;
