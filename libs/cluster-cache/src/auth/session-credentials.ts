import { handleOf, RANDOM_TOKEN_LENGTH } from '../sessions/session-token';
import { bearerTokenOf } from './bearer-token';
import { appendHeader, HttpRequest, HttpResponse } from './http-adapter';
import type { ResolvedAuthOptions, ResolvedCookie } from './resolve-auth-options';
import { readCookie, setCookieValue, signToken, verifySigned } from './signed-cookie';
import { Credential, CredentialSource, VerifiedCredentials } from './verified-credentials';

/** Why a request has no usable credential before the store is asked. */
export type CredentialProblem = 'no-token' | 'bad-token';

/**
 * Finds a request's session token (the bearer header, then the signed
 * cookie), and puts a new one on a response (the cookie, or the renewed-token
 * header). One per app (a provider of `SessionAuthModule`): every guard
 * instance and the sign-in service share its remembered credentials.
 */
export class SessionCredentials {
  private readonly bearer: VerifiedCredentials;
  private readonly cookies: VerifiedCredentials;
  private readonly cookie: ResolvedCookie | undefined;
  private readonly readsBearer: boolean;

  constructor(
    private readonly options: ResolvedAuthOptions,
    /** Whether the store is the mesh's `SessionCache`, which finds a session by its handle without hashing the token again. */
    private readonly withHandles: boolean,
  ) {
    this.bearer = new VerifiedCredentials(options.rememberVerified);
    this.cookies = new VerifiedCredentials(options.rememberVerified);
    this.cookie = options.cookie;
    this.readsBearer = options.bearer !== undefined;
  }

  /**
   * The request's credential, or why it has none. An `Authorization: Bearer`
   * header decides when there is one (another scheme, such as Basic, is not
   * the kit's and is passed over); otherwise the signed cookie does.
   */
  read(request: HttpRequest): Credential | CredentialProblem {
    const headers = request.headers;
    if (this.readsBearer) {
      const authorization = headers.authorization;
      const token = bearerTokenOf(typeof authorization === 'string' ? authorization : undefined);
      if (token !== undefined) {
        const known = this.bearer.get(token);
        if (known !== undefined) return known;
        if (token.length !== RANDOM_TOKEN_LENGTH) return 'bad-token';
        return { source: 'bearer', sent: token, token, handle: this.handleOf(token), remembered: false };
      }
    }
    const cookie = this.cookie;
    if (cookie === undefined) return 'no-token';
    const cookieHeader = headers.cookie;
    const value = readCookie(typeof cookieHeader === 'string' ? cookieHeader : undefined, cookie.name);
    if (value === undefined || value === '') return 'no-token';
    const known = this.cookies.get(value);
    if (known !== undefined) return known;
    const token = verifySigned(value, cookie.secrets);
    if (token === undefined || token.length !== RANDOM_TOKEN_LENGTH) return 'bad-token';
    // Remembered now (its signature is good); forgotten again if its session turns out to be gone.
    return this.cookies.remember({ source: 'cookie', sent: value, token, handle: this.handleOf(token), remembered: false });
  }

  /** Remembers a credential whose session was found (a bearer token seen for the first time). */
  remember(credential: Credential): void {
    if (!credential.remembered) (credential.source === 'bearer' ? this.bearer : this.cookies).remember(credential);
  }

  /** Forgets a credential whose session has ended, so its token leaves memory. */
  forget(credential: Credential): void {
    (credential.source === 'bearer' ? this.bearer : this.cookies).forget(credential);
  }

  /**
   * Puts a new session token on the response: the signed cookie (Max-Age =
   * the session's TTL) for `cookie`, the renewed-token header for `bearer`.
   * The signed value is remembered as verified: the next request skips its HMAC.
   * @param handle the token's handle, when the caller has it (a session's): not worked out again.
   */
  issue(response: HttpResponse, source: CredentialSource, token: string, maxAge: number, handle?: string): void {
    if (source === 'bearer') {
      appendHeader(response, this.options.bearer!.renewedTokenHeader, token);
      return;
    }
    const cookie = this.cookie!;
    const value = signToken(token, cookie.secrets[0]);
    appendHeader(response, 'Set-Cookie', setCookieValue(cookie.name, value, maxAge, cookie.attributes));
    const known = { source: 'cookie' as const, sent: value, token, handle: this.withHandles ? (handle ?? handleOf(token)) : '', remembered: false };
    // Made here, not sliced from a request's header: nothing to copy before it is kept.
    this.cookies.remember(known, true);
  }

  /** Removes the session cookie from the browser (nothing to do for bearer tokens). */
  clear(response: HttpResponse): void {
    if (this.cookie !== undefined) appendHeader(response, 'Set-Cookie', setCookieValue(this.cookie.name, '', 0, this.cookie.attributes));
  }

  /** Whether the cookie is on (sign-in sets it). */
  get usesCookie(): boolean {
    return this.cookie !== undefined;
  }

  /** How many credentials are remembered (bearer, cookie). */
  get remembered(): { bearer: number; cookie: number } {
    return { bearer: this.bearer.size, cookie: this.cookies.size };
  }

  private handleOf(token: string): string {
    return this.withHandles ? handleOf(token) : '';
  }
}
