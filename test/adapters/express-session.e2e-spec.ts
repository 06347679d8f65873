/**
 * express-session + Passport (local strategy) on ExpressSessionStore, two real
 * app nodes behind the round-robin balancer, on the mesh and on Redis: sign in
 * through one node, stay signed in on both, sign out, signed out on both.
 */
import { Controller, Get, Inject, Module, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import type { Authenticator } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { ANY, CacheStore, ClusterCacheModule, ClusterCacheOptions } from '@app/cluster-cache';
import { ExpressSessionStore } from '@app/cluster-cache/express-session';
import { BACKENDS, http, SESSION_SECRET, twoNodesDuring, USERS } from './harness';
import type { NodeName } from './harness';

const NODE = Symbol('node');
const PASSPORT = Symbol('passport');

interface User {
  id: string;
}

@Controller()
class AuthController {
  constructor(
    @Inject(NODE) private readonly node: NodeName,
    @Inject(PASSPORT) private readonly passport: Authenticator,
  ) {}

  @Post('login')
  async login(@Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const user = await new Promise<User | false>((resolve, reject) => {
      const next: NextFunction = (error?: unknown) => reject(error);
      this.passport.authenticate('local', (error: unknown, found: User | false) => (error ? reject(error) : resolve(found)))(request, response, next);
    });
    if (!user) throw new UnauthorizedException();
    // Passport regenerates the session (a new id on sign-in) and saves it before the response ends.
    await new Promise<void>((resolve, reject) => request.logIn(user, (error) => (error ? reject(error) : resolve())));
    return { user: request.user, node: this.node };
  }

  @Get('me')
  me(@Req() request: Request) {
    if (!request.isAuthenticated()) throw new UnauthorizedException();
    return { user: request.user, node: this.node };
  }

  @Post('logout')
  async logout(@Req() request: Request) {
    await new Promise<void>((resolve, reject) => request.logout((error) => (error ? reject(error) : resolve())));
    return { node: this.node };
  }
}

/** The app of one node: express-session on the replicated cache, Passport's session support on top. */
async function expressApp(node: NodeName, cacheOptions: ClusterCacheOptions): Promise<NestExpressApplication> {
  const passport = new Passport();
  passport.use(new LocalStrategy((username, password, done) => done(null, USERS[username] === password ? { id: username } : false)));
  passport.serializeUser((user, done) => done(null, (user as User).id));
  passport.deserializeUser((id: string, done) => done(null, id in USERS ? { id } : false));

  @Module({
    imports: [ClusterCacheModule.forRoot(cacheOptions)],
    controllers: [AuthController],
    providers: [
      { provide: NODE, useValue: node },
      { provide: PASSPORT, useValue: passport },
    ],
  })
  class AppModule {}

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
  app.use((_: Request, response: Response, next: NextFunction) => {
    response.setHeader('x-node', node);
    next();
  });
  // The one line that replaces connect-redis or the MemoryStore:
  app.use(session({ store: new ExpressSessionStore(app.get(CacheStore)), secret: SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 10 * 60_000 } }));
  app.use(passport.initialize());
  app.use(passport.session());
  return app;
}

/** The session id in an express-session cookie (`connect.sid=s%3A<id>.<signature>`). */
function sidOf(cookie: string): string {
  return decodeURIComponent(cookie.slice('connect.sid='.length)).slice(2).split('.')[0];
}

describe.each(BACKENDS)('express-session + Passport on ExpressSessionStore, two nodes behind a round-robin balancer, on %s', (_, makeBackend) => {
  const nodes = twoNodesDuring(makeBackend, expressApp);
  const sessions = () => nodes.a.app.get(CacheStore).namespace('express-sessions').all(ANY);


  it('signs in through one node, stays signed in on both, signs out on both', async () => {
    expect((await http(nodes.lb, 'POST', '/login', { json: { username: 'ada', password: 'wrong' } })).status).toBe(401);
    expect(await sessions()).toEqual([]); // saveUninitialized: false, and a failed sign-in stores nothing

    const login = await http(nodes.lb, 'POST', '/login', { json: { username: 'ada', password: USERS.ada } });
    expect(login.status).toBe(201);
    expect(login.body).toEqual({ user: { id: 'ada' }, node: login.node });
    expect(login.setCookie).toMatch(/^connect\.sid=s%3A/);
    const cookie = login.setCookie!;
    expect((await sessions()).map(([sid]) => sid)).toEqual([sidOf(cookie)]);

    // Through the balancer: two requests in a row go to both nodes, each reads the session.
    const first = await http(nodes.lb, 'GET', '/me', { cookie });
    const second = await http(nodes.lb, 'GET', '/me', { cookie });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(new Set([first.node, second.node])).toEqual(new Set(['a', 'b']));
    for (const answer of [first, second]) expect(answer.body).toEqual({ user: { id: 'ada' }, node: answer.node });
    // And on each node directly.
    for (const node of [nodes.a, nodes.b]) expect(await http(node.url, 'GET', '/me', { cookie })).toMatchObject({ status: 200, node: node.name, body: { user: { id: 'ada' } } });

    const logout = await http(nodes.lb, 'POST', '/logout', { cookie });
    expect(logout.status).toBe(201);
    // Passport ended the signed-in session (destroy) and started an anonymous one under a new id.
    const [[sid, stored]] = await sessions();
    expect(sid).not.toBe(sidOf(cookie));
    expect(JSON.parse(stored as string)).not.toHaveProperty('passport.user');
    expect(sidOf(logout.setCookie!)).toBe(sid);
    const after = [await http(nodes.lb, 'GET', '/me', { cookie }), await http(nodes.lb, 'GET', '/me', { cookie })];
    expect(after.map((answer) => answer.status)).toEqual([401, 401]);
    expect(new Set(after.map((answer) => answer.node))).toEqual(new Set(['a', 'b']));
    for (const node of [nodes.a, nodes.b]) expect(await http(node.url, 'GET', '/me', { cookie })).toMatchObject({ status: 401, node: node.name });
  });

  it('keeps two users apart, and one signing out leaves the other signed in', async () => {
    const ada = (await http(nodes.a.url, 'POST', '/login', { json: { username: 'ada', password: USERS.ada } })).setCookie!;
    const grace = (await http(nodes.b.url, 'POST', '/login', { json: { username: 'grace', password: USERS.grace } })).setCookie!;
    expect((await http(nodes.b.url, 'GET', '/me', { cookie: ada })).body).toMatchObject({ user: { id: 'ada' } });
    expect((await http(nodes.a.url, 'GET', '/me', { cookie: grace })).body).toMatchObject({ user: { id: 'grace' } });
    await http(nodes.a.url, 'POST', '/logout', { cookie: grace });
    expect((await http(nodes.b.url, 'GET', '/me', { cookie: grace })).status).toBe(401);
    expect((await http(nodes.b.url, 'GET', '/me', { cookie: ada })).status).toBe(200);
    await http(nodes.b.url, 'POST', '/logout', { cookie: ada });
  });
});
