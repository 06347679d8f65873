import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session, SessionCache } from '@app/cluster-cache';
import { DemoSettings } from '../config/demo-settings';
import { SessionCookies } from './session-cookie';
import { User, UsersService } from './users.service';

/** What the demo keeps in a session's metadata. */
export interface SessionMetadata {
  /** The browser's User-Agent at sign-in. */
  userAgent: string;
  /** The node that created the session. */
  node: string;
}

/** What `SessionGuard` found for a request it let through (see `authOf`). */
export interface Authenticated {
  user: User;
  session: Session<SessionMetadata>;
  /** The bearer token now in the cookie (a new one if the guard rotated it). */
  token: string;
}

/**
 * Kept beside the request rather than on it: on Node 20 every IncomingMessage
 * gets a hidden class of its own, so adding a property such as `request.auth`
 * cannot follow a shared transition. In a CPU profile that one store took
 * ≈ 5 µs per request, a WeakMap entry ≈ 2 µs (docs/benchmarks-http.md). The
 * entry goes away with its request.
 */
const admitted = new WeakMap<IncomingMessage, Authenticated>();

/** What `SessionGuard` found for `request`; throws if the route has no `@UseGuards(SessionGuard)`. */
export function authOf(request: IncomingMessage): Authenticated {
  const auth = admitted.get(request);
  if (auth === undefined) throw new Error('authOf: this request did not pass SessionGuard');
  return auth;
}

/**
 * Lets a request through when its signed session cookie names a live session
 * in `SessionCache` — made on any node of the cluster — and records it for
 * `authOf(request)`. Sessions older than SESSION_RENEW_AFTER are rotated (new
 * token, old one revoked; concurrent requests share one rotation) and the new
 * cookie is set on the response.
 *
 * `canActivate` answers synchronously unless it has to rotate: the session
 * lookup is synchronous, and Nest awaits a returned promise twice more.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionCache<SessionMetadata>,
    private readonly users: UsersService,
    private readonly cookies: SessionCookies,
    private readonly settings: DemoSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // getArgByIndex rather than switchToHttp(), which makes three closures per call.
    const request = context.getArgByIndex<IncomingMessage>(0);
    const cookie = this.cookies.read(request);
    if (cookie === undefined) throw new UnauthorizedException('not signed in');
    // byHandle skips hashing the token again; get() also resolves a token rotated moments ago (rotation grace).
    const session = this.sessions.byHandle(cookie.handle) ?? this.sessions.get(cookie.token);
    if (session === undefined) {
      this.cookies.forget(cookie);
      throw new UnauthorizedException('not signed in');
    }
    // Pow's renewal: an old session gets a new token.
    if (this.sessions.isOlderThan(session, this.settings.renewAfter)) return this.rotate(context, request, cookie.token);
    return this.admit(request, session, cookie.token);
  }

  /** Rotation is single-flight across the cluster: concurrent requests get the same new token. */
  private async rotate(context: ExecutionContext, request: IncomingMessage, token: string): Promise<boolean> {
    const rotation = await this.sessions.rotate(token);
    if (rotation === undefined) throw new UnauthorizedException('not signed in');
    if (rotation.rotated) this.cookies.set(context.getArgByIndex<ServerResponse>(1), rotation.token, rotation.session.expiresAt);
    return this.admit(request, rotation.session, rotation.token);
  }

  private admit(request: IncomingMessage, session: Session<SessionMetadata>, token: string): true {
    const user = this.users.find(String(session.userId));
    if (user === undefined) throw new UnauthorizedException('unknown user');
    admitted.set(request, { user, session, token });
    return true;
  }
}
