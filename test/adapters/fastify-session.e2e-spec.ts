/**
 * @fastify/session on FastifySessionStore, two real Nest apps on the Fastify
 * platform behind the round-robin balancer, on the mesh and on Redis: sign in
 * through one node, stay signed in on both, sign out, signed out on both.
 */
import { Body, Controller, Get, Inject, Module, Post, Req, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifyRequest } from 'fastify';
import { ANY, CacheStore, ClusterCacheModule, ClusterCacheOptions } from '@app/cluster-cache';
import { FastifySessionStore } from '@app/cluster-cache/fastify-session';
import { BACKENDS, http, SESSION_SECRET, twoNodesDuring, USERS } from './harness';
import type { NodeName } from './harness';

const NODE = Symbol('node');

/** The app's own session fields (an app would declare them on fastify's `Session` interface). */
interface Fields {
  user?: string;
}

const fields = (request: FastifyRequest) => request.session as unknown as Fields;

@Controller()
class AuthController {
  constructor(@Inject(NODE) private readonly node: NodeName) {}

  @Post('login')
  async login(@Body() body: { username?: string; password?: string }, @Req() request: FastifyRequest) {
    if (body.username === undefined || USERS[body.username] !== body.password) throw new UnauthorizedException();
    await request.session.regenerate(); // a new session id on sign-in
    fields(request).user = body.username;
    return { user: body.username, node: this.node };
  }

  @Get('me')
  me(@Req() request: FastifyRequest) {
    const user = fields(request).user;
    if (user === undefined) throw new UnauthorizedException();
    return { user, node: this.node };
  }

  @Post('logout')
  async logout(@Req() request: FastifyRequest) {
    await request.session.destroy();
    return { node: this.node };
  }
}

/** The app of one node: @fastify/session on the replicated cache. */
async function fastifyApp(node: NodeName, cacheOptions: ClusterCacheOptions): Promise<NestFastifyApplication> {
  @Module({ imports: [ClusterCacheModule.forRoot(cacheOptions)], controllers: [AuthController], providers: [{ provide: NODE, useValue: node }] })
  class AppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
  app.getHttpAdapter().getInstance().addHook('onRequest', async (_, reply) => {
    reply.header('x-node', node);
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store: new FastifySessionStore(app.get(CacheStore)),
    secret: SESSION_SECRET,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: 10 * 60_000 },
  });
  return app;
}

describe.each(BACKENDS)('@fastify/session on FastifySessionStore, two Fastify nodes behind a round-robin balancer, on %s', (_, makeBackend) => {
  const nodes = twoNodesDuring(makeBackend, fastifyApp);
  const sessions = () => nodes.b.app.get(CacheStore).namespace('fastify-sessions').all(ANY);


  it('signs in through one node, stays signed in on both, signs out on both', async () => {
    expect((await http(nodes.lb, 'POST', '/login', { json: { username: 'ada', password: 'wrong' } })).status).toBe(401);
    expect(await sessions()).toEqual([]);

    const login = await http(nodes.lb, 'POST', '/login', { json: { username: 'ada', password: USERS.ada } });
    expect(login.status).toBe(201);
    expect(login.body).toEqual({ user: 'ada', node: login.node });
    expect(login.setCookie).toMatch(/^sessionId=/);
    const cookie = login.setCookie!;
    const stored = await sessions();
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0][1] as string)).toMatchObject({ user: 'ada', cookie: { originalMaxAge: 10 * 60_000, httpOnly: true } });

    const first = await http(nodes.lb, 'GET', '/me', { cookie });
    const second = await http(nodes.lb, 'GET', '/me', { cookie });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(new Set([first.node, second.node])).toEqual(new Set(['a', 'b']));
    for (const answer of [first, second]) expect(answer.body).toEqual({ user: 'ada', node: answer.node });
    for (const node of [nodes.a, nodes.b]) expect(await http(node.url, 'GET', '/me', { cookie })).toMatchObject({ status: 200, node: node.name, body: { user: 'ada' } });

    const logout = await http(nodes.lb, 'POST', '/logout', { cookie });
    expect(logout.status).toBe(201);
    expect(await sessions()).toEqual([]);
    const after = [await http(nodes.lb, 'GET', '/me', { cookie }), await http(nodes.lb, 'GET', '/me', { cookie })];
    expect(after.map((answer) => answer.status)).toEqual([401, 401]);
    expect(new Set(after.map((answer) => answer.node))).toEqual(new Set(['a', 'b']));
    for (const node of [nodes.a, nodes.b]) expect(await http(node.url, 'GET', '/me', { cookie })).toMatchObject({ status: 401, node: node.name });
  });
});
