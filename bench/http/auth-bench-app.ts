/**
 * One app node for bench/http/auth.bench.ts: the same three routes over two
 * kinds of sessions, so that only the sessions differ.
 *
 *   AUTH=kit              the library's auth kit on the mesh: ClusterCacheModule (a cluster when
 *                         CLUSTER_COOKIE is set) + SessionAuthModule (the signed cookie), the guard on GET /me
 *   AUTH=express-session  express-session + connect-redis (REDIS_URL) as their docs set them up
 *                         (resave: false, saveUninitialized: false, the store's touch on), and a guard
 *                         that checks `req.session.userId`
 *
 * Routes: GET /ping (unguarded, no session code at all on the kit app), GET /noop (kit app: a
 * guard that returns true and a parameter decorator that returns a constant — what Nest's
 * guard and parameter plumbing cost alone, with /me's body), GET /me (guarded:
 * `{ userId, createdAt }`), POST /session `{ userId }` (creates a session, sets its cookie).
 * Env: PORT, NODE_NAME, CLUSTER_PORT, CLUSTER_SEEDS, CLUSTER_COOKIE, REDIS_URL, SESSION_SECRET.
 * Prints `{"listening":port}` once it serves. Not a test: run by the bench.
 */
import 'reflect-metadata';
import { Body, CanActivate, Controller, createParamDecorator, DynamicModule, ExecutionContext, Get, HttpCode, Injectable, Module, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ClusterCacheModule, CurrentSession, SessionAuthGuard, SessionAuthModule, SessionAuthService } from '@app/cluster-cache';
import type { Session } from '@app/cluster-cache';

const AUTH = process.env.AUTH;
const SECRET = process.env.SESSION_SECRET ?? 'bench-session-secret-0123456789';
const TTL = 30 * 60_000;

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { pong: true };
  }
}

/** Admits every request: Nest's guard plumbing with no work of its own. */
@Injectable()
class AllowAllGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

const NOOP_SESSION = { userId: 'ada', createdAt: 0 };
/** A custom parameter decorator with no work of its own (as @CurrentSession is a custom one). */
const ConstantSession = createParamDecorator(() => NOOP_SESSION);

@Controller()
class KitController {
  constructor(private readonly auth: SessionAuthService) {}

  @Post('session')
  @HttpCode(200)
  async signIn(@Body() body: { userId: string }, @Req() request: object, @Res({ passthrough: true }) response: object) {
    const { session } = await this.auth.signIn(request as never, response, body.userId);
    return { userId: session.userId };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@CurrentSession() session: Session) {
    return { userId: session.userId, createdAt: session.createdAt };
  }

  @Get('noop')
  @UseGuards(AllowAllGuard)
  noop(@ConstantSession() session: typeof NOOP_SESSION) {
    return { userId: session.userId, createdAt: session.createdAt };
  }
}

/** What express-session's docs put in a guard: a signed-in session has a user id. */
@Injectable()
class ExpressSessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ session?: { userId?: string } }>();
    if (request.session?.userId === undefined) throw new UnauthorizedException();
    return true;
  }
}

type EsRequest = { session: { userId?: string; createdAt?: number; regenerate(cb: (error: unknown) => void): void } };

@Controller()
class ExpressSessionController {
  @Post('session')
  @HttpCode(200)
  async signIn(@Body() body: { userId: string }, @Req() request: EsRequest) {
    // As the docs advise at login: a new session id, then the user in it (saved when the response ends).
    await new Promise<void>((resolve, reject) => request.session.regenerate((error) => (error ? reject(error) : resolve())));
    request.session.userId = body.userId;
    request.session.createdAt = Date.now();
    return { userId: body.userId };
  }

  @Get('me')
  @UseGuards(ExpressSessionGuard)
  me(@Req() request: EsRequest) {
    return { userId: request.session.userId, createdAt: request.session.createdAt };
  }
}

@Module({})
class BenchAppModule {
  static kit(): DynamicModule {
    const seeds = process.env.CLUSTER_SEEDS?.split(',').filter(Boolean);
    return {
      module: BenchAppModule,
      imports: [
        ClusterCacheModule.forRoot({
          node: { name: process.env.NODE_NAME, port: Number(process.env.CLUSTER_PORT ?? 0) },
          cookie: process.env.CLUSTER_COOKIE || undefined,
          extraNodes: seeds,
          sessions: { ttl: TTL },
          ttl: TTL,
        }),
        SessionAuthModule.forRoot({ bearer: false, cookie: { name: 'session', secret: SECRET, secure: false } }),
      ],
      controllers: [PingController, KitController],
    };
  }

  static expressSession(): DynamicModule {
    return { module: BenchAppModule, controllers: [PingController, ExpressSessionController], providers: [ExpressSessionGuard] };
  }
}

async function main(): Promise<void> {
  if (AUTH !== 'kit' && AUTH !== 'express-session') throw new Error(`AUTH must be kit or express-session, got ${AUTH}`);
  const app = await NestFactory.create<NestExpressApplication>(AUTH === 'kit' ? BenchAppModule.kit() : BenchAppModule.expressSession(), { logger: ['error', 'warn'] });
  if (AUTH === 'express-session') {
    // connect-redis 9 on node-redis, express-session 1.19: the setup of their READMEs.
    const session = (await import('express-session')).default;
    const { RedisStore } = await import('connect-redis');
    const { createClient } = await import('redis');
    const client = createClient({ url: process.env.REDIS_URL });
    await client.connect();
    app.use(
      session({
        store: new RedisStore({ client, prefix: 'sess:' }),
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: TTL },
      }),
    );
  }
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ listening: (app.getHttpServer().address() as { port: number }).port })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
