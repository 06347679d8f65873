import { Body, ConflictException, Controller, Delete, Get, HttpCode, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterService, CurrentSession, Public, SessionAuthGuard, SessionAuthService, SessionRevokedError } from '@app/cluster-cache';
import type { Session } from '@app/cluster-cache';
import { User, UsersService } from './users.service';

/** What the demo keeps in a session's metadata. */
export interface SessionMetadata {
  /** The browser's User-Agent at sign-in. */
  userAgent: string;
  /** The node that created the session. */
  node: string;
}

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

/**
 * Sign-in, sign-out and "my sessions", on the library's auth kit: every route
 * needs a live session (`SessionAuthGuard`: the signed `demo_session` cookie,
 * made on any node; sessions older than SESSION_RENEW_AFTER get a new token,
 * set on the same response) except the two `@Public()` ones.
 */
@Controller()
@UseGuards(SessionAuthGuard)
export class SessionController {
  constructor(
    private readonly auth: SessionAuthService<SessionMetadata>,
    private readonly users: UsersService,
    private readonly cluster: ClusterService,
  ) {}

  /**
   * Sign in: checks the password, starts a session on the cluster, sets the
   * cookie; the session the browser had (if any) ends. At most
   * DEMO_SIGNIN_LIMIT (10) attempts per client address and minute on the
   * whole cluster, right or wrong; then 429 with Retry-After.
   */
  @Post('session')
  @Public()
  @UseGuards(ThrottlerGuard)
  @HttpCode(200)
  async signIn(@Body() body: SignInBody, @Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    const user = await this.users.verify(body?.username, body?.password);
    if (user === undefined) throw new UnauthorizedException('wrong username or password');
    const userAgent = String(request.headers['user-agent'] ?? 'unknown').slice(0, 200);
    const { session } = await this.auth.signIn(request, response, user.id, { userAgent, node: this.cluster.self().name }).catch((error: unknown) => {
      // "Sign out everywhere" of this user ran while the session was being made: it ended it too.
      throw error instanceof SessionRevokedError ? new ConflictException('signed out everywhere meanwhile: sign in again') : error;
    });
    return { user, session: view(session), servedBy: this.cluster.self().name };
  }

  /** Sign out this browser (the session ends on every node). Public: a browser whose session is gone can still clear its cookie. */
  @Delete('session')
  @Public()
  @HttpCode(200)
  async signOut(@Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    return { signedOut: await this.auth.signOut(request, response), servedBy: this.cluster.self().name };
  }

  /** Who am I, and which node answered. */
  @Get('me')
  me(@CurrentSession() session: Session<SessionMetadata>) {
    return { user: this.userOf(session), session: view(session), servedBy: this.cluster.self().name };
  }

  /** My sessions on the whole cluster (every device I signed in from). */
  @Get('sessions')
  async list(@CurrentSession() session: Session<SessionMetadata>) {
    const user = this.userOf(session);
    const sessions = await this.auth.store.list(user.id);
    return { sessions: sessions.map((s) => ({ ...view(s), current: s.handle === session.handle })), servedBy: this.cluster.self().name };
  }

  /** Sign out everywhere: every session of mine ends, on every node. */
  @Delete('sessions')
  @HttpCode(200)
  async revokeAll(@Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse) {
    return { revoked: await this.auth.signOutEverywhere(request, response), servedBy: this.cluster.self().name };
  }

  /** The session's user (a session stores the id only); 401 if the user is gone. */
  private userOf(session: Session<SessionMetadata>): User {
    const user = this.users.find(String(session.userId));
    if (user === undefined) throw new UnauthorizedException('unknown user');
    return user;
  }
}
