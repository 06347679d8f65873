import type { INestApplication } from '@nestjs/common';
import { AuthAppModule } from './fixtures/auth-app.module';
import { ADAPTERS, bearer, call, cookieIn, startApp } from './fixtures/http';

const SECRET = 'e2e-secret-e2e-secret';

/**
 * The auth kit on one node, the same scenarios over Express and Fastify: the
 * guard (APP_GUARD) with a bearer token and with the signed cookie,
 * `@Public()`, the parameter decorators and the request property, sign-out
 * and sign-out everywhere. No cookie-parser, no @fastify/cookie.
 */
describe.each(ADAPTERS)('SessionAuthGuard on %s (one node)', (adapter) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp(adapter, AuthAppModule.forNode({ node: { name: `auth-${adapter}@127.0.0.1` } }, { cookie: { secret: SECRET, secure: false } })));
  });

  afterAll(async () => {
    await app?.close();
  });

  const signIn = async (userId: string, device = 'laptop') => {
    const answer = await call(`${url}/session`, { method: 'POST', json: { userId, device } });
    expect(answer.status).toBe(200);
    return { token: answer.body.token as string, handle: answer.body.handle as string, cookie: cookieIn(answer.setCookie)!, setCookie: answer.setCookie };
  };

  it('signs in: the token in the body, and a signed HttpOnly SameSite=Lax cookie with the session TTL', async () => {
    const { token, cookie, setCookie } = await signIn('ada');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Max-Age=1800; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(cookie.split('=')[1].split('.')[0]).toBe(token);
  });

  it('lets a bearer token through, and hands the session to the decorators and request.authSession', async () => {
    const { token, handle } = await signIn('ada', 'phone');
    const me = await call(`${url}/me`, { headers: bearer(token) });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ userId: 'ada', handle, device: 'phone', property: handle, node: `auth-${adapter}@127.0.0.1` });
    expect((await call(`${url}/closed`, { headers: bearer(token) })).body).toEqual({ userId: 'ada' });
  });

  it('lets the signed cookie through (among other cookies), and refuses a forged or bare one', async () => {
    const { cookie, handle, token } = await signIn('ada');
    const me = await call(`${url}/me`, { headers: { cookie: `theme=dark; ${cookie}; lang=en` } });
    expect(me.status).toBe(200);
    expect(me.body.handle).toBe(handle);
    const mac = cookie.split('.')[1];
    expect((await call(`${url}/me`, { headers: { cookie: `session=${token}` } })).status).toBe(401);
    expect((await call(`${url}/me`, { headers: { cookie: `session=${token}.${mac.slice(1)}x` } })).status).toBe(401);
    expect((await call(`${url}/me`, { headers: { cookie: `session=${'A'.repeat(43)}.${mac}` } })).status).toBe(401);
  });

  it('answers 401 "not signed in" without a token or with an unknown one, with WWW-Authenticate: Bearer', async () => {
    const none = await call(`${url}/me`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ statusCode: 401, message: 'not signed in' });
    expect(none.headers['www-authenticate']).toBe('Bearer realm="session"');
    const unknown = await call(`${url}/me`, { headers: bearer('B'.repeat(43)) });
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="session", error="invalid_token"');
    expect((await call(`${url}/closed`)).status).toBe(401);
  });

  it('lets @Public() routes and controllers through without a token, and attaches nothing there', async () => {
    const open = await call(`${url}/open`);
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ open: true, session: null, viaHelper: null });
    expect((await call(`${url}/public`)).body).toEqual({ public: true });
    const { token } = await signIn('ada');
    expect((await call(`${url}/open`, { headers: bearer(token) })).body.session).toBeNull();
  });

  it('signs out one session (the cookie is cleared, the token stops working), on a @Public route', async () => {
    const laptop = await signIn('grace', 'laptop');
    const phone = await signIn('grace', 'phone');
    const out = await call(`${url}/session`, { method: 'DELETE', headers: { cookie: laptop.cookie } });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ signedOut: true });
    expect(out.setCookie).toEqual(['session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
    expect((await call(`${url}/me`, { headers: { cookie: laptop.cookie } })).status).toBe(401);
    expect((await call(`${url}/me`, { headers: bearer(laptop.token) })).status).toBe(401);
    expect((await call(`${url}/me`, { headers: bearer(phone.token) })).status).toBe(200);
    expect((await call(`${url}/session`, { method: 'DELETE', headers: { cookie: laptop.cookie } })).body).toEqual({ signedOut: false });
  });

  it('signs out everywhere: every session of the user ends, another user\'s lives', async () => {
    const sessions = [await signIn('linus', 'a'), await signIn('linus', 'b'), await signIn('linus', 'c')];
    const other = await signIn('ken');
    // Seen by the guard first (remembered), so the test shows a remembered credential is refused once its session ends.
    for (const s of sessions) expect((await call(`${url}/me`, { headers: { cookie: s.cookie } })).status).toBe(200);
    const everywhere = await call(`${url}/sessions`, { method: 'DELETE', headers: bearer(sessions[1].token) });
    expect(everywhere.status).toBe(200);
    expect(everywhere.body).toEqual({ revoked: 3 });
    for (const s of sessions) {
      expect((await call(`${url}/me`, { headers: { cookie: s.cookie } })).status).toBe(401);
      expect((await call(`${url}/me`, { headers: bearer(s.token) })).status).toBe(401);
    }
    expect((await call(`${url}/me`, { headers: bearer(other.token) })).status).toBe(200);
    expect((await call(`${url}/sessions`, { method: 'DELETE' })).status).toBe(401);
  });

  it('ends the session a browser had when it signs in again', async () => {
    const first = await signIn('ada');
    const again = await call(`${url}/session`, { method: 'POST', json: { userId: 'ada' }, headers: { cookie: first.cookie } });
    expect(again.status).toBe(200);
    expect((await call(`${url}/me`, { headers: { cookie: first.cookie } })).status).toBe(401);
    expect((await call(`${url}/me`, { headers: { cookie: cookieIn(again.setCookie)! } })).status).toBe(200);
  });
});
