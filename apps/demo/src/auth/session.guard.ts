import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session, SessionCache } from '@app/cluster-cache';
import { DemoSettings } from '../config/demo-settings';
import { setSessionCookie, tokenOf } from './session-cookie';
import { User, UsersService } from './users.service';

/** What the demo keeps in a session's metadata. */
export interface SessionMetadata {
  /** The browser's User-Agent at sign-in. */
  userAgent: string;
  /** The node that created the session. */
  node: string;
}

/** What `SessionGuard` attaches to the request. */
export interface Authenticated {
  user: User;
  session: Session<SessionMetadata>;
  /** The bearer token now in the cookie (a new one if the guard rotated it). */
  token: string;
}

export type AuthenticatedRequest = IncomingMessage & { auth: Authenticated };

/**
 * Lets a request through when its signed session cookie names a live session
 * in `SessionCache` — made on any node of the cluster — and attaches it as
 * `request.auth`. Sessions older than SESSION_RENEW_AFTER are rotated (new
 * token, old one revoked; concurrent requests share one rotation) and the new
 * cookie is set on the response.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionCache<SessionMetadata>,
    private readonly users: UsersService,
    private readonly settings: DemoSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    let token = tokenOf(request, this.settings.secret);
    if (token === undefined) throw new UnauthorizedException('not signed in');
    let session = this.sessions.get(token); // a token rotated moments ago still resolves (rotation grace)
    if (session === undefined) throw new UnauthorizedException('not signed in');
    // Pow's renewal: an old session gets a new token; rotate is single-flight across the cluster.
    if (this.sessions.isOlderThan(session, this.settings.renewAfter)) {
      const rotation = await this.sessions.rotate(token);
      if (rotation === undefined) throw new UnauthorizedException('not signed in');
      if (rotation.rotated) setSessionCookie(http.getResponse<ServerResponse>(), rotation.token, rotation.session.expiresAt, this.settings);
      token = rotation.token;
      session = rotation.session;
    }

    const user = this.users.find(String(session.userId));
    if (user === undefined) throw new UnauthorizedException('unknown user');
    request.auth = { user, session, token };
    return true;
  }
}
