import { waitFor } from '../utils/wait-for';
import { ExecutionContext, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { IncomingMessage } from 'node:http';
import { authStateOf, SessionAuthGuard } from '@app/cluster-cache';
import { configureDemoApp } from '../../apps/demo/src/demo-app';
import { DemoModule } from '../../apps/demo/src/demo.module';

/**
 * The demo app's HTTP API in-process, on one node without a cluster (no CLUSTER_COOKIE).
 * These specs sign in more than 10 times a minute from 127.0.0.1: the sign-in limit is
 * raised here, and checked with its default below.
 */
const ENV = { NODE_NAME: 'solo@127.0.0.1', SESSION_SECRET: 'test-secret-test-secret', SESSION_TTL: '600000', DEMO_SIGNIN_LIMIT: '1000' };

async function startApp(env: Record<string, string>): Promise<INestApplication> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const moduleRef = await Test.createTestingModule({ imports: [DemoModule] }).compile();
    const app = configureDemoApp(moduleRef.createNestApplication({ logger: false }));
    await app.listen(0, '127.0.0.1');
    return app;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The `demo_session=…` pair a response set. */
function cookieOf(response: request.Response): string {
  const set = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const pair = set.map((c) => c.split(';')[0]).find((c) => c.startsWith('demo_session=') && c !== 'demo_session=');
  if (pair === undefined) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return pair;
}

const ADA = { username: 'ada', password: 'analytical-engine' };

describe('the demo app (in-process, one node)', () => {
  let app: INestApplication;
  let server: ReturnType<INestApplication['getHttpServer']>;

  beforeAll(async () => {
    app = await startApp(ENV);
    server = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves the page with a nonce-based CSP, and says which node served every response', async () => {
    const page = await request(server).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['x-served-by']).toBe('solo@127.0.0.1');
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.headers['content-security-policy'])?.[1];
    expect(nonce).toBeDefined();
    expect(page.text).toContain(`<script nonce="${nonce}">`);
    expect(page.text).not.toMatch(/<script[^>]+src=/);
    expect(page.headers['x-powered-by']).toBeUndefined();
    // Errors and unknown routes too.
    expect((await request(server).get('/me').expect(401)).headers['x-served-by']).toBe('solo@127.0.0.1');
    expect((await request(server).get('/nope').expect(404)).headers['x-served-by']).toBe('solo@127.0.0.1');
  });

  it('refuses a wrong password or an unknown user with the same 401', async () => {
    const wrong = await request(server).post('/session').send({ username: 'ada', password: 'nope' }).expect(401);
    const unknown = await request(server).post('/session').send({ username: 'nobody', password: 'nope' }).expect(401);
    expect(wrong.body.message).toBe(unknown.body.message);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    await request(server).post('/session').send({}).expect(401);
  });

  it('signs in with JSON or a form, sets a signed HttpOnly SameSite=Lax cookie, and never returns the token', async () => {
    const json = await request(server).post('/session').send(ADA).expect(200);
    expect(json.body).toMatchObject({ user: { id: 'ada', name: 'Ada Lovelace' }, servedBy: 'solo@127.0.0.1', session: { node: 'solo@127.0.0.1' } });
    const setCookie = String(json.headers['set-cookie']);
    expect(setCookie).toMatch(/^demo_session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
    const token = cookieOf(json).split('=')[1].split('.')[0];
    expect(JSON.stringify(json.body)).not.toContain(token);
    // SESSION_TTL: the expiry is taken when the write applies, a moment after createdAt.
    const lifetime = json.body.session.expiresAt - json.body.session.createdAt;
    expect(lifetime).toBeGreaterThanOrEqual(600_000);
    expect(lifetime).toBeLessThan(601_000);

    const form = await request(server).post('/session').type('form').send(ADA).expect(200);
    expect(form.body.user.id).toBe('ada');
    await request(server).get('/me').set('cookie', cookieOf(form)).expect(200);
  });

  it('lets /me through only with a correctly signed cookie of a live session', async () => {
    const cookie = cookieOf(await request(server).post('/session').send(ADA).expect(200));
    const me = await request(server).get('/me').set('cookie', `other=1; ${cookie}`).expect(200);
    expect(me.body).toMatchObject({ user: { id: 'ada' }, servedBy: 'solo@127.0.0.1', session: { userAgent: expect.any(String) } });
    const [token, mac] = cookie.split('=')[1].split('.');
    await request(server).get('/me').set('cookie', `demo_session=${token}`).expect(401);
    await request(server).get('/me').set('cookie', `demo_session=${token}.${mac.slice(1)}x`).expect(401);
    await request(server).get('/me').set('cookie', `demo_session=${'A'.repeat(43)}.${mac}`).expect(401);
  });

  it('ends the previous session of a browser that signs in again', async () => {
    const first = cookieOf(await request(server).post('/session').send(ADA).expect(200));
    const second = cookieOf(await request(server).post('/session').set('cookie', first).send(ADA).expect(200));
    await request(server).get('/me').set('cookie', first).expect(401);
    await request(server).get('/me').set('cookie', second).expect(200);
  });

  it('lists my sessions, signs out one, and signs out everywhere', async () => {
    const grace = { username: 'grace', password: 'cobol-1959' };
    const laptop = cookieOf(await request(server).post('/session').set('user-agent', 'laptop').send(grace).expect(200));
    const phone = cookieOf(await request(server).post('/session').set('user-agent', 'phone').send(grace).expect(200));
    const tablet = cookieOf(await request(server).post('/session').set('user-agent', 'tablet').send(grace).expect(200));

    const list = await request(server).get('/sessions').set('cookie', phone).expect(200);
    expect(list.body.sessions.map((s: { userAgent: string; current: boolean }) => [s.userAgent, s.current])).toEqual([
      ['laptop', false],
      ['phone', true],
      ['tablet', false],
    ]);
    expect(list.body.sessions[0]).toEqual({
      handle: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      userAgent: 'laptop',
      node: 'solo@127.0.0.1',
      createdAt: expect.any(Number),
      expiresAt: expect.any(Number),
      current: false,
    });

    const signOut = await request(server).delete('/session').set('cookie', tablet).expect(200);
    expect(signOut.body.signedOut).toBe(true);
    expect(String(signOut.headers['set-cookie'])).toMatch(/^demo_session=; Max-Age=0/);
    await request(server).get('/me').set('cookie', tablet).expect(401);

    const everywhere = await request(server).delete('/sessions').set('cookie', phone).expect(200);
    expect(everywhere.body.revoked).toBe(2);
    await request(server).get('/me').set('cookie', laptop).expect(401);
    await request(server).get('/me').set('cookie', phone).expect(401);
    await request(server).delete('/sessions').set('cookie', phone).expect(401);
  });

  it('reports the node in /cluster, /health and /metrics', async () => {
    const cluster = await request(server).get('/cluster').expect(200);
    expect(cluster.body).toMatchObject({ self: { name: 'solo@127.0.0.1' }, peers: [], ready: true, stats: { node: 'solo@127.0.0.1' } });
    expect(Array.isArray(cluster.body.events)).toBe(true);

    // Alone, the node serves (ready) but has fewer peers than the demo expects.
    const health = await request(server).get('/health').expect(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.details['cluster-cache']).toMatchObject({ status: 'degraded', ready: true, peers: [] });

    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^cluster_cache_ready\{node="solo@127.0.0.1"\} 1$/m);
    expect(metrics.text).toMatch(/^cluster_cache_peers\{node="solo@127.0.0.1"\} 0$/m);
    expect(metrics.text).toMatch(/^cluster_cache_entries\{table="sessions",node="solo@127.0.0.1"\} \d+$/m);
    expect(metrics.text).toMatch(/^cluster_cache_events_total\{type="nodeup",node="solo@127.0.0.1"\} 0$/m);
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total/m);
  });
});

describe('session rotation by age (SESSION_RENEW_AFTER=0: every request renews)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp({ ...ENV, NODE_NAME: 'rotating@127.0.0.1', SESSION_RENEW_AFTER: '0', SESSION_ROTATION_GRACE: '300' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('replaces the token and the cookie, and the old token stops working after the rotation grace', async () => {
    const server = app.getHttpServer();
    const first = cookieOf(await request(server).post('/session').send(ADA).expect(200));
    const me = await request(server).get('/me').set('cookie', first).expect(200);
    const second = cookieOf(me);
    expect(second).not.toBe(first);
    expect(me.body.session.handle).not.toBe(undefined);
    await waitFor(async () => (await request(server).get('/me').set('cookie', first)).status === 401, 5000, 'the old token to stop working');
    const again = await request(server).get('/me').set('cookie', second).expect(200);
    expect(cookieOf(again)).not.toBe(second);
  });

  it('rotates once for requests that overlap with the same token (single-flight): all get the same new cookie', async () => {
    const server = app.getHttpServer();
    const cookie = cookieOf(await request(server).post('/session').send(ADA).expect(200));
    // Four requests in the guard at the same moment (over HTTP they would rarely overlap).
    const guard = app.get(SessionAuthGuard);
    const me = () => undefined;
    const calls = [1, 2, 3, 4].map(() => {
      const req = { headers: { cookie } } as unknown as IncomingMessage;
      const cookies: string[] = [];
      const res = { appendHeader: (_name: string, value: string) => cookies.push(value) };
      const context = { getArgByIndex: (index: number) => [req, res][index], getHandler: () => me, getClass: () => Object } as unknown as ExecutionContext;
      return { req, cookies, passed: guard.canActivate(context) };
    });
    expect(await Promise.all(calls.map((c) => c.passed))).toEqual([true, true, true, true]);
    expect(new Set(calls.map((c) => authStateOf(c.req)!.session.handle)).size).toBe(1);
    expect(new Set(calls.map((c) => c.cookies.join())).size).toBe(1);
    const rotated = calls[0].cookies[0].split(';')[0];
    expect(rotated).not.toBe(cookie);
    await request(server).get('/me').set('cookie', rotated).expect(200);
    await waitFor(async () => (await request(server).get('/me').set('cookie', cookie)).status === 401, 5000, 'the old token to stop working');
  });
});

describe('the demo app\'s guard rails (in-process, default settings)', () => {
  let app: INestApplication;
  let server: ReturnType<INestApplication['getHttpServer']>;
  const WRONG = { username: 'ada', password: 'wrong' };
  /** A client elsewhere, as the demo's balancer (a proxy on loopback) names it. */
  const remote = (address: string) => ({ 'x-forwarded-for': address });

  beforeAll(async () => {
    const { DEMO_SIGNIN_LIMIT: _raised, ...defaults } = ENV;
    app = await startApp({ ...defaults, NODE_NAME: 'guarded@127.0.0.1', DEMO_ADMIN_TOKEN: 'admin-token-for-the-specs' });
    server = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers the 11th sign-in attempt of a client address in a minute with 429, even with the right password', async () => {
    const client = remote('198.51.100.7');
    for (let i = 1; i <= 10; i++) {
      const answer = await request(server).post('/session').set(client).send(WRONG).expect(401);
      expect(answer.headers['x-ratelimit-remaining']).toBe(String(10 - i));
    }
    const eleventh = await request(server).post('/session').set(client).send(WRONG).expect(429);
    expect(eleventh.body.message).toMatch(/^too many sign-in attempts from your address: try again in (59|60) s$/);
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    const right = await request(server).post('/session').set(client).send(ADA).expect(429);
    expect(right.headers['set-cookie']).toBeUndefined();
    // Another address is not affected, and neither are the other routes.
    await request(server).post('/session').set(remote('198.51.100.8')).send(ADA).expect(200);
    await request(server).get('/me').set(client).expect(401);
  });

  it('refuses a cross-site POST or DELETE with 403 before it does anything: no session, no Set-Cookie', async () => {
    const client = remote('198.51.100.20');
    const json = await request(server).post('/session').set(client).set('origin', 'http://evil.example').send(ADA).expect(403);
    expect(json.headers['set-cookie']).toBeUndefined();
    expect(json.body.message).toMatch(/^cross-site POST refused: its Origin "http:\/\/evil\.example" is not one of this demo's origins/);
    // A form, as a login-CSRF page would send it; a page on another port of the same host is another origin.
    const form = await request(server).post('/session').set(client).set('origin', 'http://127.0.0.1:9999').type('form').send(ADA).expect(403);
    expect(form.headers['set-cookie']).toBeUndefined();
    await request(server).post('/session').set(client).set('origin', 'null').send(ADA).expect(403);
    // Without Origin, the Referer says where the request came from.
    await request(server).post('/session').set(client).set('referer', 'http://evil.example/login.html').send(ADA).expect(403);

    // The demo's own origins (without DEMO_ALLOWED_ORIGINS: this node's and npm run demo's) are fine.
    const cookie = cookieOf(await request(server).post('/session').set(client).set('origin', 'http://127.0.0.1:8080').send(ADA).expect(200));
    await request(server).post('/session').set(client).set('referer', 'http://localhost:4002/').send(ADA).expect(200);
    // Signing out (everywhere) from another site is refused too, and the session lives on.
    await request(server).delete('/sessions').set(client).set('cookie', cookie).set('origin', 'http://evil.example').expect(403);
    await request(server).delete('/session').set(client).set('cookie', cookie).set('origin', 'http://evil.example').expect(403);
    await request(server).get('/me').set('cookie', cookie).expect(200);
    await request(server).delete('/session').set(client).set('cookie', cookie).set('origin', 'http://127.0.0.1:4000').expect(200);
    await request(server).get('/me').set('cookie', cookie).expect(401);
  });

  it('serves /cluster and /metrics to loopback clients, and to others only with DEMO_ADMIN_TOKEN', async () => {
    for (const path of ['/cluster', '/metrics']) {
      await request(server).get(path).expect(200);
      const refused = await request(server).get(path).set(remote('203.0.113.9')).expect(403);
      expect(refused.body.message).toMatch(/serves \/cluster and \/metrics to loopback clients, and to others with Authorization: Bearer <DEMO_ADMIN_TOKEN>/);
      await request(server).get(path).set(remote('203.0.113.9')).set('authorization', 'Bearer not-the-admin-token').expect(403);
      await request(server).get(path).set(remote('203.0.113.9')).set('authorization', 'Bearer admin-token-for-the-specs').expect(200);
      // X-Forwarded-For is believed only from a proxy on loopback: through one, 127.0.0.1 is a loopback client.
      await request(server).get(path).set(remote('127.0.0.1')).expect(200);
    }
    // /health stays public (load balancers and orchestrators probe it).
    await request(server).get('/health').set(remote('203.0.113.9')).expect(200);
  });
});
