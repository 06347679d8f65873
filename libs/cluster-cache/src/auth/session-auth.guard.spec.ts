import { ExecutionContext, HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SessionStore } from '../contract/session-store';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import { SessionCache } from '../sessions/session-cache';
import type { Session, SessionOptions, UserId } from '../sessions/session.interface';
import { ManualClock } from '../store/clock';
import { ClusterCacheTestingModule } from '../testing/cluster-cache-testing.module';
import { Reflector } from '@nestjs/core';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { authStateOf, sessionOf } from './auth-state';
import { Public } from './public.decorator';
import type { SessionAuthOptions } from './session-auth-options.interface';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionAuthModule } from './session-auth.module';
import { SessionAuthService } from './session-auth.service';
import { SessionCredentials } from './session-credentials';
import { signToken } from './signed-cookie';

const TTL = 60_000;
const RENEW_AFTER = 30_000;
const SECRET = 'unit-secret-unit-secret';

/** A request as Express or Fastify gives it: headers, and a prototype of the framework's own. */
class FakeRequest {
  constructor(readonly headers: Record<string, string>) {}
}

/** A Node/Express response: `appendHeader`. */
class FakeResponse {
  readonly headers: Array<[string, string]> = [];
  appendHeader(name: string, value: string) {
    this.headers.push([name, value]);
  }
  values(name: string): string[] {
    return this.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  }
}

/** A Fastify reply: `header` only. */
class FakeReply {
  readonly headers: Array<[string, string]> = [];
  header(name: string, value: string) {
    this.headers.push([name, value]);
    return this;
  }
}

class Routes {
  guarded() {}
  @Public()
  open() {}
}

@Public()
class OpenRoutes {
  any() {}
}

function contextOf(request: object, response: object = new FakeResponse(), handler: () => void = Routes.prototype.guarded, owner: object = Routes): ExecutionContext {
  const args = [request, response];
  return { getArgByIndex: (i: number) => args[i], getHandler: () => handler, getClass: () => owner } as unknown as ExecutionContext;
}

/** The status and reason of what the guard threw (or 200 when it let the request through). */
async function outcome(run: () => boolean | Promise<boolean>): Promise<number> {
  try {
    return (await run()) ? 200 : 403;
  } catch (error) {
    if (error instanceof HttpException) return error.getStatus();
    throw error;
  }
}

const cookieOf = (token: string) => `session=${signToken(token, SECRET)}`;

async function setUp(auth: SessionAuthOptions, store?: 'async') {
  const clock = new ManualClock();
  let builder = Test.createTestingModule({
    imports: [ClusterCacheTestingModule.forRoot({ clock, sessions: { ttl: TTL, rotationGrace: 5_000 } }), SessionAuthModule.forRoot(auth)],
  });
  if (store === 'async') builder = builder.overrideProvider(SessionStore).useFactory({ factory: (mesh: SessionCache) => new PromisedStore(mesh), inject: [SessionCache] });
  const moduleRef = await builder.compile();
  return {
    clock,
    moduleRef,
    guard: moduleRef.get(SessionAuthGuard),
    service: moduleRef.get(SessionAuthService),
    credentials: moduleRef.get(SessionCredentials),
    sessions: moduleRef.get(SessionCache),
  };
}

describe('SessionAuthGuard', () => {
  describe('with bearer tokens and the cookie, on the mesh (synchronous reads)', () => {
    let t: Awaited<ReturnType<typeof setUp>>;
    beforeEach(async () => {
      t = await setUp({ cookie: { secret: SECRET, secure: false }, renewAfter: RENEW_AFTER });
    });
    afterEach(() => t.moduleRef.close());

    it('lets a live bearer token through synchronously, and records the session for the decorators and request.authSession', async () => {
      const { token, session } = await t.sessions.create('ada', { device: 'laptop' });
      const request = new FakeRequest({ authorization: `Bearer ${token}` });
      expect(t.guard.canActivate(contextOf(request))).toBe(true);
      expect(sessionOf(request)).toEqual(session);
      expect(authStateOf(request)).toEqual({ session, token, source: 'bearer' });
      expect((request as unknown as { authSession: Session }).authSession).toEqual(session);
      // The getter is on the prototype: no request grows a property; JSON and keys do not see it.
      expect(Object.keys(request)).toEqual(['headers']);
      expect(Object.getOwnPropertyDescriptor(FakeRequest.prototype, 'authSession')?.get).toBeInstanceOf(Function);
      expect((new FakeRequest({}) as unknown as { authSession: unknown }).authSession).toBeUndefined();
    });

    it('lets a correctly signed cookie of a live session through, and refuses a bad signature or a bare token', async () => {
      const { token } = await t.sessions.create('ada');
      expect(t.guard.canActivate(contextOf(new FakeRequest({ cookie: `theme=dark; ${cookieOf(token)}` })))).toBe(true);
      const forged = `session=${signToken(token, 'another-secret-another')}`;
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ cookie: forged }))))).toBe(401);
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ cookie: `session=${token}` }))))).toBe(401);
    });

    it('answers 401 "not signed in" without a token, with an unknown or malformed one, and says Bearer in WWW-Authenticate', async () => {
      const response = new FakeResponse();
      const missing = (() => {
        try {
          t.guard.canActivate(contextOf(new FakeRequest({}), response));
        } catch (error) {
          return error;
        }
      })();
      expect(missing).toBeInstanceOf(UnauthorizedException);
      expect((missing as UnauthorizedException).message).toBe('not signed in');
      expect(response.values('WWW-Authenticate')).toEqual(['Bearer realm="session"']);
      const unknown = new FakeResponse();
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${'A'.repeat(43)}` }), unknown)))).toBe(401);
      expect(unknown.values('WWW-Authenticate')).toEqual(['Bearer realm="session", error="invalid_token"']);
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ authorization: 'Bearer short' }))))).toBe(401);
      // Another scheme is not the kit's: the cookie decides then.
      const { token } = await t.sessions.create('ada');
      expect(t.guard.canActivate(contextOf(new FakeRequest({ authorization: 'Basic YWRhOmFkYQ==', cookie: cookieOf(token) })))).toBe(true);
    });

    it('lets @Public() routes and controllers through without a token', () => {
      expect(t.guard.canActivate(contextOf(new FakeRequest({}), new FakeResponse(), Routes.prototype.open))).toBe(true);
      expect(t.guard.canActivate(contextOf(new FakeRequest({}), new FakeResponse(), OpenRoutes.prototype.any, OpenRoutes))).toBe(true);
      // Cached per handler, and still per controller: the same method on a controller without @Public() is guarded.
      expect(t.guard.canActivate(contextOf(new FakeRequest({}), new FakeResponse(), OpenRoutes.prototype.any, OpenRoutes))).toBe(true);
      expect(() => t.guard.canActivate(contextOf(new FakeRequest({}), new FakeResponse(), OpenRoutes.prototype.any, Routes))).toThrow(UnauthorizedException);
    });

    it('remembers a verified cookie (no second HMAC) and forgets it when its session ends', async () => {
      const { token } = await t.sessions.create('ada');
      const request = () => new FakeRequest({ cookie: cookieOf(token) });
      expect(t.guard.canActivate(contextOf(request()))).toBe(true);
      expect(t.credentials.remembered.cookie).toBe(1);
      expect(t.guard.canActivate(contextOf(request()))).toBe(true);
      expect(t.credentials.remembered.cookie).toBe(1);
      await t.sessions.revokeAll('ada');
      expect(await outcome(() => t.guard.canActivate(contextOf(request())))).toBe(401);
      expect(t.credentials.remembered.cookie).toBe(0);
    });

    it('remembers a bearer token only once its session was found', async () => {
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${'B'.repeat(43)}` }))))).toBe(401);
      expect(t.credentials.remembered.bearer).toBe(0);
      const { token } = await t.sessions.create('ada');
      t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${token}` })));
      expect(t.credentials.remembered.bearer).toBe(1);
      await t.sessions.delete(token);
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${token}` }))))).toBe(401);
      expect(t.credentials.remembered.bearer).toBe(0);
    });

    it('rotates a session older than renewAfter: the new token in the same response, the old one valid for the grace', async () => {
      const { token } = await t.sessions.create('ada');
      t.clock.advance(RENEW_AFTER);
      const request = new FakeRequest({ cookie: cookieOf(token) });
      const response = new FakeResponse();
      const passed = t.guard.canActivate(contextOf(request, response));
      expect(passed).toBeInstanceOf(Promise);
      expect(await passed).toBe(true);
      const state = authStateOf(request)!;
      expect(state.token).not.toBe(token);
      expect(state.session.createdAt).toBe(t.clock.now());
      expect(response.values('Set-Cookie')).toEqual([`session=${signToken(state.token, SECRET)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`]);
      // The old cookie still passes during the grace (resolving to the new session) and is not rotated again.
      const late = new FakeResponse();
      const old = new FakeRequest({ cookie: cookieOf(token) });
      expect(t.guard.canActivate(contextOf(old, late))).toBe(true);
      expect(sessionOf(old)!.handle).toBe(state.session.handle);
      expect(late.headers).toEqual([]);
      t.clock.advance(5_000);
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ cookie: cookieOf(token) }))))).toBe(401);
      expect(t.guard.canActivate(contextOf(new FakeRequest({ cookie: cookieOf(state.token) })))).toBe(true);
    });

    it('rotates once for concurrent requests with the same old token, and never sends the old cookie back', async () => {
      const { token } = await t.sessions.create('ada');
      t.clock.advance(RENEW_AFTER + 1);
      const calls = [1, 2, 3, 4].map(() => {
        const request = new FakeRequest({ cookie: cookieOf(token) });
        const response = new FakeResponse();
        return { request, response, passed: t.guard.canActivate(contextOf(request, response)) };
      });
      expect(await Promise.all(calls.map((c) => c.passed))).toEqual([true, true, true, true]);
      // One rotation: every request is on the new session; the first carries the new cookie, and the
      // others (which found the old token already pointing at it: the grace) set no cookie at all.
      expect(t.sessions.list('ada')).toHaveLength(1);
      expect(new Set(calls.map((c) => authStateOf(c.request)!.session.handle))).toEqual(new Set([t.sessions.list('ada')[0].handle]));
      const cookies = calls.flatMap((c) => c.response.values('Set-Cookie'));
      expect(cookies).toEqual([`session=${signToken(authStateOf(calls[0].request)!.token, SECRET)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`]);
    });

    it('sends a rotated bearer token in X-Session-Token, and through a Fastify reply', async () => {
      const { token } = await t.sessions.create('ada');
      t.clock.advance(RENEW_AFTER);
      const reply = new FakeReply();
      const request = new FakeRequest({ authorization: `Bearer ${token}` });
      expect(await t.guard.canActivate(contextOf(request, reply))).toBe(true);
      expect(reply.headers).toEqual([['X-Session-Token', authStateOf(request)!.token]]);
    });
  });

  it('touches instead of rotating with renewal: touch (same token, the expiry and the cookie move on)', async () => {
    const t = await setUp({ cookie: { secret: SECRET, secure: false }, bearer: false, renewAfter: RENEW_AFTER, renewal: 'touch' });
    try {
      const { token, session } = await t.sessions.create('ada');
      t.clock.advance(RENEW_AFTER - 1);
      expect(t.guard.canActivate(contextOf(new FakeRequest({ cookie: cookieOf(token) })))).toBe(true);
      t.clock.advance(1);
      const request = new FakeRequest({ cookie: cookieOf(token) });
      const response = new FakeResponse();
      expect(await t.guard.canActivate(contextOf(request, response))).toBe(true);
      expect(authStateOf(request)).toMatchObject({ token, session: { handle: session.handle, createdAt: session.createdAt, expiresAt: t.clock.now() + TTL } });
      expect(response.values('Set-Cookie')).toEqual([`${cookieOf(token)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`]);
      // Renewed just now: the next request is not due.
      t.clock.advance(RENEW_AFTER - 1);
      expect(t.guard.canActivate(contextOf(new FakeRequest({ cookie: cookieOf(token) })))).toBe(true);
      expect(t.sessions.list('ada')).toHaveLength(1);
    } finally {
      await t.moduleRef.close();
    }
  });

  it('works on a store whose reads are promises (Redis): the guard returns a promise', async () => {
    const t = await setUp({ renewAfter: RENEW_AFTER }, 'async');
    try {
      const { token } = await t.sessions.create('ada');
      const request = new FakeRequest({ authorization: `Bearer ${token}` });
      const passed = t.guard.canActivate(contextOf(request));
      expect(passed).toBeInstanceOf(Promise);
      expect(await passed).toBe(true);
      expect(sessionOf(request)!.userId).toBe('ada');
      expect(await outcome(() => t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${'C'.repeat(43)}` }))))).toBe(401);
      t.clock.advance(RENEW_AFTER);
      const response = new FakeResponse();
      expect(await t.guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${token}` }), response))).toBe(true);
      expect(response.values('X-Session-Token')).toHaveLength(1);
    } finally {
      await t.moduleRef.close();
    }
  });

  it('asks accepts() of a subclass last, and refuses with 401 when it says no', async () => {
    @Injectable()
    class OnlyAda extends SessionAuthGuard {
      protected override accepts(session: Session): boolean {
        return session.userId === 'ada';
      }
    }
    const t = await setUp({});
    try {
      const guard = new OnlyAda(t.moduleRef.get(RESOLVED_AUTH_OPTIONS), t.moduleRef.get(SessionStore), t.credentials, t.moduleRef.get(Reflector));
      const ada = await t.sessions.create('ada');
      const grace = await t.sessions.create('grace');
      expect(guard.canActivate(contextOf(new FakeRequest({ authorization: `Bearer ${ada.token}` })))).toBe(true);
      const request = new FakeRequest({ authorization: `Bearer ${grace.token}` });
      expect(await outcome(() => guard.canActivate(contextOf(request)))).toBe(401);
      expect(sessionOf(request)).toBeUndefined();
    } finally {
      await t.moduleRef.close();
    }
  });

  it('stops the start when renewAfter is not shorter than the session TTL', async () => {
    await expect(setUp({ renewAfter: TTL })).rejects.toThrow(InvalidOptionError);
    await expect(setUp({ renewAfter: TTL })).rejects.toThrow(/option `SessionAuthModule.renewAfter` is 60000 ms, not shorter than the session TTL \(60000 ms/);
  });
});

describe('SessionAuthService', () => {
  let t: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async () => {
    t = await setUp({ cookie: { secret: SECRET, secure: false, name: 'session' } });
  });
  afterEach(() => t.moduleRef.close());

  it('signs in: a session, the signed cookie on the response, and the token for bearer clients', async () => {
    const response = new FakeResponse();
    const { token, session } = await t.service.signIn(new FakeRequest({}), response, 'ada', { device: 'phone' });
    expect(session).toMatchObject({ userId: 'ada', metadata: { device: 'phone' } });
    expect(response.values('Set-Cookie')).toEqual([`${cookieOf(token)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`]);
    expect(t.guard.canActivate(contextOf(new FakeRequest({ cookie: cookieOf(token) })))).toBe(true);
    // No cookie when asked not to, and a TTL of its own.
    const bearerOnly = new FakeResponse();
    const issued = await t.service.signIn(undefined, bearerOnly, 'ada', undefined, { cookie: false, ttl: 5_000 });
    expect(bearerOnly.headers).toEqual([]);
    expect(issued.session.expiresAt - issued.session.createdAt).toBe(5_000);
  });

  it('ends the session the request already carries when it signs in again', async () => {
    const first = await t.service.signIn(new FakeRequest({}), new FakeResponse(), 'ada');
    const second = await t.service.signIn(new FakeRequest({ cookie: cookieOf(first.token) }), new FakeResponse(), 'ada');
    expect(t.sessions.get(first.token)).toBeUndefined();
    expect(t.sessions.list('ada').map((s) => s.handle)).toEqual([second.session.handle]);
  });

  it('signs out the request\'s session (on a @Public route too) and clears the cookie', async () => {
    const { token } = await t.service.signIn(undefined, new FakeResponse(), 'ada');
    const response = new FakeResponse();
    expect(await t.service.signOut(new FakeRequest({ cookie: cookieOf(token) }), response)).toBe(true);
    expect(response.values('Set-Cookie')).toEqual(['session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
    expect(t.sessions.get(token)).toBeUndefined();
    expect(await t.service.signOut(new FakeRequest({ cookie: cookieOf(token) }), new FakeResponse())).toBe(false);
    expect(await t.service.signOut(new FakeRequest({}), new FakeResponse())).toBe(false);
  });

  it('signs the user out everywhere, from the session the guard admitted', async () => {
    const laptop = await t.service.signIn(undefined, new FakeResponse(), 'ada');
    const phone = await t.service.signIn(undefined, new FakeResponse(), 'ada');
    const other = await t.service.signIn(undefined, new FakeResponse(), 'grace');
    const request = new FakeRequest({ authorization: `Bearer ${phone.token}` });
    t.guard.canActivate(contextOf(request));
    expect(t.service.current(request)?.session.userId).toBe('ada');
    expect(await t.service.signOutEverywhere(request, new FakeResponse())).toBe(2);
    expect(t.sessions.get(laptop.token)).toBeUndefined();
    expect(t.sessions.get(phone.token)).toBeUndefined();
    expect(t.sessions.get(other.token)).toBeDefined();
    expect(await t.service.signOutEverywhere(new FakeRequest({}), new FakeResponse())).toBe(0);
  });
});

/** The mesh's sessions behind promises, as the Redis backend hands them out. */
class PromisedStore extends SessionStore {
  constructor(private readonly mesh: SessionCache) {
    super();
  }
  get ttl() {
    return this.mesh.ttl;
  }
  get rotationGrace() {
    return this.mesh.rotationGrace;
  }
  create(userId: UserId, metadata?: Record<string, unknown>, options?: SessionOptions) {
    return this.mesh.create(userId, metadata, options);
  }
  get(token: string) {
    return Promise.resolve(this.mesh.get(token));
  }
  byHandle(handle: string) {
    return Promise.resolve(this.mesh.byHandle(handle));
  }
  touch(token: string, options?: SessionOptions) {
    return this.mesh.touch(token, options);
  }
  delete(token: string) {
    return this.mesh.delete(token);
  }
  revoke(userId: UserId, handle: string) {
    return this.mesh.revoke(userId, handle);
  }
  list(userId: UserId) {
    return Promise.resolve(this.mesh.list(userId));
  }
  revokeAll(userId: UserId) {
    return this.mesh.revokeAll(userId);
  }
  rotate(token: string, options?: SessionOptions) {
    return this.mesh.rotate(token, options);
  }
  isOlderThan(session: Session, age: number) {
    return this.mesh.isOlderThan(session, age);
  }
}
