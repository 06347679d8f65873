import { Body, ConflictException, Controller, Delete, Get, HttpCode, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterService, Session, SessionCache, SessionRevokedError } from '@app/cluster-cache';
import { SessionCookies } from './session-cookie';
import { authOf, SessionGuard } from './session.guard';
import type { SessionMetadata } from './session.guard';
import { UsersService } from './users.service';

/** The sign-in body, as JSON or an HTML form. */
interface SignInBody {
  username?: unknown;
  password?: unknown;
}

/** A session as the API shows it: the handle (a hash), never the token. */
function view(session: Session<SessionMetadata>) {
  return {
    handle: session.handle,
    userAgent: session.metadata.userAgent,
    node: session.metadata.node,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
  };
}

@Controller()
export class SessionController {
  constructor(
    private readonly sessions: SessionCache<SessionMetadata>,
    private readonly users: UsersService,
    private readonly cluster: ClusterService,
    private readonly cookies: SessionCookies,
  ) {}

  /**
   * Sign in: checks the password, starts a session on the cluster, sets the
   * cookie. At most DEMO_SIGNIN_LIMIT (10) attempts per client address and
   * minute on the whole cluster, right or wrong; then 429 with Retry-After.
   */
  @Post('session')
  @UseGuards(ThrottlerGuard)
  @HttpCode(200)
  async signIn(@Body() body: SignInBody, @Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    const user = await this.users.verify(body?.username, body?.password);
    if (user === undefined) throw new UnauthorizedException('wrong username or password');
    // A new session on every sign-in; the one the browser had (if any) ends.
    const previous = this.cookies.read(request);
    if (previous !== undefined) {
      this.cookies.forget(previous);
      await this.sessions.delete(previous.token);
    }
    const userAgent = String(request.headers['user-agent'] ?? 'unknown').slice(0, 200);
    const { token, session } = await this.sessions
      .create(user.id, { userAgent, node: this.cluster.self().name })
      .catch((error: unknown) => {
        // "Sign out everywhere" of this user ran while the session was being made: it ended it too.
        throw error instanceof SessionRevokedError ? new ConflictException('signed out everywhere meanwhile: sign in again') : error;
      });
    this.cookies.set(response, token, session.expiresAt);
    return { user, session: view(session), servedBy: this.cluster.self().name };
  }

  /** Sign out this browser (the session ends on every node). */
  @Delete('session')
  @HttpCode(200)
  async signOut(@Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    const cookie = this.cookies.read(request);
    if (cookie !== undefined) this.cookies.forget(cookie);
    const ended = cookie === undefined ? false : await this.sessions.delete(cookie.token);
    this.cookies.clear(response);
    return { signedOut: ended, servedBy: this.cluster.self().name };
  }

  /** Who am I, and which node answered. */
  @Get('me')
  @UseGuards(SessionGuard)
  me(@Req() request: IncomingMessage) {
    const { user, session } = authOf(request);
    return { user, session: view(session), servedBy: this.cluster.self().name };
  }

  /** My sessions on the whole cluster (every device I signed in from). */
  @Get('sessions')
  @UseGuards(SessionGuard)
  list(@Req() request: IncomingMessage) {
    const { user, session } = authOf(request);
    return { sessions: this.sessions.list(user.id).map((s) => ({ ...view(s), current: s.handle === session.handle })), servedBy: this.cluster.self().name };
  }

  /** Sign out everywhere: every session of mine ends, on every node. */
  @Delete('sessions')
  @UseGuards(SessionGuard)
  @HttpCode(200)
  async revokeAll(@Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    const revoked = await this.sessions.revokeAll(authOf(request).user.id);
    this.cookies.clear(response);
    return { revoked, servedBy: this.cluster.self().name };
  }
}
