import { Injectable } from '@nestjs/common';
import { SessionStore } from '../contract/session-store';
import type { IssuedSession, Session, UserId } from '../sessions/session.interface';
import { AuthState, authStateOf } from './auth-state';
import type { HttpRequest, HttpResponse } from './http-adapter';
import { SessionCredentials } from './session-credentials';

/** Options of `SessionAuthService.signIn`. @publicApi */
export interface SignInOptions {
  /** The session's TTL in ms (and the cookie's Max-Age). Default: the session store's (`sessions.ttl`). */
  ttl?: number;
  /**
   * Set the signed cookie on the response. Default: when `SessionAuthModule`
   * has a `cookie`. `false` for a client that takes the token from the body
   * and sends it as a bearer token.
   */
  cookie?: boolean;
}

/**
 * Signs users in and out over the session store, on the mesh or on Redis:
 * the helpers that go with `SessionAuthGuard`. Inject it in the controller
 * that checks passwords.
 *
 * @example
 * @Public()
 * @Post('session')
 * async signIn(@Body() body: Credentials, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
 *   const user = await this.users.verify(body.username, body.password);
 *   if (user === undefined) throw new UnauthorizedException();
 *   const { token, session } = await this.auth.signIn(request, response, user.id, { userAgent: request.headers['user-agent'] });
 *   return { token, expiresAt: session.expiresAt }; // the token for bearer clients; browsers got the cookie
 * }
 * @publicApi
 */
@Injectable()
export class SessionAuthService<M = Record<string, unknown>> {
  constructor(
    /** The session store (the mesh's `SessionCache`, or `RedisSessionCache`): list, revoke … */
    readonly store: SessionStore<M>,
    private readonly credentials: SessionCredentials,
  ) {}

  /**
   * Starts a session for `userId` and sets the signed cookie on `response`
   * (when the module has a cookie); resolves to the token and the session.
   * A session the request already carries (the cookie or a bearer token)
   * ends first: a new session on every sign-in, as Pow does.
   * @throws SessionRevokedError (a rejected promise) when a "sign out
   * everywhere" of the same user ran while the session was being made.
   */
  async signIn(request: HttpRequest | undefined, response: HttpResponse, userId: UserId, metadata?: M, options: SignInOptions = {}): Promise<IssuedSession<M>> {
    if (request !== undefined) await this.endSessionOf(request);
    const issued = await this.store.create(userId, metadata, options.ttl === undefined ? undefined : { ttl: options.ttl });
    if (this.credentials.usesCookie && options.cookie !== false) this.credentials.issue(response, 'cookie', issued.token, options.ttl ?? this.store.ttl, issued.session.handle);
    return issued;
  }

  /**
   * Signs the request's session out, on every node, and clears the cookie.
   * Resolves to whether a live session ended. Works on a `@Public()` route
   * too (it reads the request's token itself).
   */
  async signOut(request: HttpRequest, response: HttpResponse): Promise<boolean> {
    const ended = await this.endSessionOf(request);
    this.credentials.clear(response);
    return ended;
  }

  /**
   * Signs the request's user out everywhere: every session of the user made
   * before now ends, on every node (and across a netsplit once it heals), and
   * this browser's cookie is cleared. Resolves to how many sessions this node
   * held; 0 when the request has no live session.
   */
  async signOutEverywhere(request: HttpRequest, response: HttpResponse): Promise<number> {
    const session = await this.sessionOfRequest(request);
    this.credentials.clear(response);
    return session === undefined ? 0 : this.store.revokeAll(session.userId);
  }

  /** What the guard found for `request` (`undefined` on a `@Public()` route). */
  current(request: object): AuthState<M> | undefined {
    return authStateOf<M>(request);
  }

  /** The session the request carries: what the guard found, or a lookup of its token. */
  private async sessionOfRequest(request: HttpRequest): Promise<Session<M> | undefined> {
    const state = authStateOf<M>(request);
    if (state !== undefined) return state.session;
    const credential = this.credentials.read(request);
    return typeof credential === 'string' ? undefined : this.store.get(credential.token);
  }

  /** Ends the session the request carries, if any; whether a live one ended. */
  private async endSessionOf(request: HttpRequest): Promise<boolean> {
    const credential = this.credentials.read(request);
    if (typeof credential !== 'string') this.credentials.forget(credential);
    // After a rotation in this request the guard holds the new token; deleting the old one would also end it (grace).
    const token = authStateOf<M>(request)?.token ?? (typeof credential === 'string' ? undefined : credential.token);
    return token === undefined ? false : this.store.delete(token);
  }
}
