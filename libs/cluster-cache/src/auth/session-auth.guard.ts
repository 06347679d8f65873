import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionStore } from '../contract/session-store';
import { SessionCache } from '../sessions/session-cache';
import type { Session } from '../sessions/session.interface';
import { SingleFlight } from '../util/single-flight';
import { NOT_SIGNED_IN, PUBLIC_ROUTE, RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { AuthState, AuthStateAttachment } from './auth-state';
import { appendHeader, HttpRequest, HttpResponse } from './http-adapter';
import type { ResolvedAuthOptions } from './resolve-auth-options';
import { CredentialProblem, SessionCredentials } from './session-credentials';
import type { Credential } from './verified-credentials';

/**
 * Why the guard refused a request: no token on it, a token that cannot be
 * one (a bad cookie signature, a malformed bearer token), no live session
 * for it (never was, expired, signed out, revoked), or `accepts` said no.
 * @publicApi
 */
export type UnauthorizedReason = CredentialProblem | 'no-session' | 'refused';

/** A route's `@Public()` answer, cached per handler (and the controller it was read for). */
interface PublicRoute {
  readonly owner: unknown;
  readonly isPublic: boolean;
}

/**
 * Lets a request through when it carries the token of a live session (a
 * bearer token or the signed cookie, per `SessionAuthModule`'s options) —
 * made on any node of the cluster, or in Redis — and records it for
 * `@CurrentSession()`, `@CurrentUserId()`, `sessionOf(request)` and
 * `request.authSession`. `@Public()` routes pass unchecked. Use it per route
 * (`@UseGuards(SessionAuthGuard)`) or for the whole app
 * (`{ provide: APP_GUARD, useClass: SessionAuthGuard }`).
 *
 * Renewal, as Pow does it: a session older than `renewAfter` is rotated — a
 * new token, single-flight across the cluster, sent back in the same response
 * (the cookie, or `X-Session-Token` for a bearer token); concurrent requests
 * on this node share the rotation and all send the same new token; a request
 * on a node that lost the race goes through with the old token, which the
 * rotation grace keeps valid. With `renewal: 'touch'` the token stays and the
 * expiry moves.
 *
 * The hot path is synchronous on the mesh (the session lookup is), and Nest
 * skips its awaits for a guard that returns a boolean: a remembered
 * credential, one Map lookup of the session by its handle, a WeakMap entry.
 * It returns a promise only to rotate, or on Redis, whose reads are promises.
 *
 * Extend it through the protected hooks (`isPublic`, `accepts`,
 * `throwUnauthorized`) rather than forking it.
 * @publicApi
 */
@Injectable()
export class SessionAuthGuard<M = Record<string, unknown>> implements CanActivate {
  /** The mesh's SessionCache when that is the store: reads by handle, synchronously. */
  private readonly mesh: SessionCache<M> | undefined;
  private readonly renewAfter: number | undefined;
  private readonly touches = new SingleFlight<Session<M> | undefined>();
  private readonly attachment: AuthStateAttachment;
  private readonly publicRoutes = new Map<unknown, PublicRoute>();

  constructor(
    @Inject(RESOLVED_AUTH_OPTIONS) protected readonly options: ResolvedAuthOptions,
    protected readonly store: SessionStore<M>,
    protected readonly credentials: SessionCredentials,
    protected readonly reflector: Reflector,
  ) {
    this.mesh = store instanceof SessionCache ? (store as SessionCache<M>) : undefined;
    this.renewAfter = options.renewAfter;
    this.attachment = new AuthStateAttachment(options.requestProperty);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    // getArgByIndex rather than switchToHttp(), which makes three closures per call.
    const request = context.getArgByIndex<HttpRequest>(0);
    const credential = this.credentials.read(request);
    if (typeof credential === 'string') return this.refuse(context, credential, undefined);
    const mesh = this.mesh;
    // On the mesh byHandle skips hashing the token again; get() also resolves a token rotated moments ago (rotation grace).
    const found = mesh !== undefined ? (mesh.byHandle(credential.handle) ?? mesh.get(credential.token)) : this.store.get(credential.token);
    if (found instanceof Promise) return found.then((session) => this.check(context, request, credential, session));
    return this.check(context, request, credential, found);
  }

  /**
   * Whether the route is `@Public()` (on the handler or its controller).
   * Read with the Reflector once per handler, then from a Map.
   */
  protected isPublic(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const owner = context.getClass();
    const known = this.publicRoutes.get(handler);
    if (known !== undefined && known.owner === owner) return known.isPublic;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [handler, owner]) === true;
    this.publicRoutes.set(handler, { owner, isPublic });
    return isPublic;
  }

  /**
   * A last say on a live session before the request goes through (the user
   * still exists, is not locked …). `false` answers 401 (`refused`). Runs on
   * every guarded request: keep it synchronous and cheap.
   */
  protected accepts(_session: Session<M>, _context: ExecutionContext): boolean {
    return true;
  }

  /** Ends a refused request. The default throws a 401 `UnauthorizedException` ("not signed in"). */
  protected throwUnauthorized(_context: ExecutionContext, _reason: UnauthorizedReason): never {
    throw new UnauthorizedException(NOT_SIGNED_IN);
  }

  private check(context: ExecutionContext, request: HttpRequest, credential: Credential, session: Session<M> | undefined): boolean | Promise<boolean> {
    if (session === undefined) {
      this.credentials.forget(credential);
      return this.refuse(context, 'no-session', credential);
    }
    if (!credential.remembered) this.credentials.remember(credential);
    if (this.renewAfter !== undefined && this.isDue(session)) return this.renew(context, request, credential);
    return this.admit(context, request, session, credential.token, credential);
  }

  /** Whether the session is due for renewal: created (rotate) or last renewed (touch) `renewAfter` ago. */
  private isDue(session: Session<M>): boolean {
    if (this.options.renewal === 'rotate') return this.store.isOlderThan(session, this.renewAfter!);
    // A touch keeps createdAt and sets expiresAt to now + TTL: the last renewal was at expiresAt − TTL.
    return this.store.isOlderThan({ ...session, createdAt: session.expiresAt - this.store.ttl }, this.renewAfter!);
  }

  private async renew(context: ExecutionContext, request: HttpRequest, credential: Credential): Promise<boolean> {
    const response = context.getArgByIndex<HttpResponse>(1);
    if (this.options.renewal === 'touch') {
      const session = await this.touches.run(credential.token, () => this.store.touch(credential.token));
      if (session === undefined) return this.refuse(context, 'no-session', credential);
      // The cookie is set again: its Max-Age follows the session's new expiry.
      if (credential.source === 'cookie') this.credentials.issue(response, 'cookie', credential.token, this.store.ttl);
      return this.admit(context, request, session, credential.token, credential);
    }
    // Single-flight: on this node concurrent calls share one rotation; across the cluster one node rotates.
    const rotation = await this.store.rotate(credential.token);
    if (rotation === undefined) {
      this.credentials.forget(credential);
      return this.refuse(context, 'no-session', credential);
    }
    if (rotation.rotated) this.credentials.issue(response, credential.source, rotation.token, this.store.ttl);
    return this.admit(context, request, rotation.session, rotation.token, credential);
  }

  private admit(context: ExecutionContext, request: HttpRequest, session: Session<M>, token: string, credential: Credential): true {
    if (!this.accepts(session, context)) return this.refuse(context, 'refused', credential);
    const state: AuthState<M> = { session, token, source: credential.source };
    this.attachment.attach(request, state as AuthState<unknown>);
    return true;
  }

  private refuse(context: ExecutionContext, reason: UnauthorizedReason, credential: Credential | undefined): never {
    // RFC 6750: a 401 to a bearer client says which scheme to use, and why a token it sent failed.
    if (this.options.bearer !== undefined && (credential === undefined || credential.source === 'bearer')) {
      const error = credential !== undefined ? ', error="invalid_token"' : '';
      appendHeader(context.getArgByIndex<HttpResponse>(1), 'WWW-Authenticate', `Bearer realm="session"${error}`);
    }
    return this.throwUnauthorized(context, reason);
  }
}
