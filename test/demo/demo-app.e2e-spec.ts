import { waitFor } from '../utils/wait-for';
import { ExecutionContext, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { IncomingMessage } from 'node:http';
import { authOf, SessionGuard } from '../../apps/demo/src/auth/session.guard';
import { configureDemoApp } from '../../apps/demo/src/demo-app';
import { DemoModule } from '../../apps/demo/src/demo.module';

/** The demo app's HTTP API in-process, on one node without a cluster (no CLUSTER_COOKIE). */
const ENV = { NODE_NAME: 'solo@127.0.0.1', SESSION_SECRET: 'test-secret-test-secret', SESSION_TTL: '600000' };

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
    const guard = app.get(SessionGuard);
    const calls = [1, 2, 3, 4].map(() => {
      const req = { headers: { cookie } } as unknown as IncomingMessage;
      const cookies: string[] = [];
      const res = { appendHeader: (_name: string, value: string) => cookies.push(value) };
      const context = { getArgByIndex: (index: number) => [req, res][index] } as unknown as ExecutionContext;
      return { req, cookies, passed: guard.canActivate(context) };
    });
    expect(await Promise.all(calls.map((c) => c.passed))).toEqual([true, true, true, true]);
    expect(new Set(calls.map((c) => authOf(c.req).session.handle)).size).toBe(1);
    expect(new Set(calls.map((c) => c.cookies.join())).size).toBe(1);
    const rotated = calls[0].cookies[0].split(';')[0];
    expect(rotated).not.toBe(cookie);
    await request(server).get('/me').set('cookie', rotated).expect(200);
    await waitFor(async () => (await request(server).get('/me').set('cookie', cookie)).status === 401, 5000, 'the old token to stop working');
  });
});
