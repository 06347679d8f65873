import type { INestApplication } from '@nestjs/common';
import { RedisSessionCache, SessionStore } from '@app/cluster-cache';
import { RedisServer, startRedisServer } from '../utils/redis-server';
import { AuthAppModule } from './fixtures/auth-app.module';
import { ADAPTERS, Answer, bearer, call, cookieIn, startApp } from './fixtures/http';

const SECRET = 'e2e-secret-e2e-secret';
const RENEW_AFTER = 1_000;
const CONCURRENT = 16;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The same guard on the Redis backend (`backend: 'redis'`), where the session
 * store's reads are promises: two app nodes on one redis-server, over Express
 * and Fastify. A sign-in on one node is valid on the other; a rotation under
 * concurrent requests on both is won once (Redis runs the rotation script
 * atomically); sign-out everywhere ends the sessions for both nodes.
 */
describe.each(ADAPTERS)('SessionAuthGuard on the Redis backend (%s, two app nodes)', (adapter) => {
  let redis: RedisServer;
  let a: { app: INestApplication; url: string };
  let b: { app: INestApplication; url: string };

  beforeAll(async () => {
    redis = await startRedisServer();
    const node = (id: string) =>
      startApp(
        adapter,
        AuthAppModule.forNode(
          { backend: 'redis', redis: { url: redis.url }, node: { name: `redis-${id}-${adapter}@127.0.0.1` }, sessions: { ttl: 60_000, rotationGrace: 2_000 } },
          { cookie: { secret: SECRET, secure: false }, renewAfter: RENEW_AFTER },
        ),
      );
    a = await node('a');
    b = await node('b');
  }, 30_000);

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await redis?.stop();
  });

  it('uses the Redis store, and a session signed in on one node is valid on the other (bearer and cookie)', async () => {
    expect(a.app.get(SessionStore)).toBeInstanceOf(RedisSessionCache);
    const signIn = await call(`${a.url}/session`, { method: 'POST', json: { userId: 'ada', device: 'laptop' } });
    expect(signIn.status).toBe(200);
    const me = await call(`${b.url}/me`, { headers: bearer(signIn.body.token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: 'ada', device: 'laptop', handle: signIn.body.handle, property: signIn.body.handle });
    expect((await call(`${b.url}/me`, { headers: { cookie: cookieIn(signIn.setCookie)! } })).status).toBe(200);
    expect((await call(`${b.url}/me`, { headers: bearer('C'.repeat(43)) })).status).toBe(401);
    expect((await call(`${b.url}/open`)).status).toBe(200);
  });

  it('rotates once under concurrent requests on both nodes, and answers every one', async () => {
    const signIn = await call(`${b.url}/session`, { method: 'POST', json: { userId: 'grace' } });
    const old = cookieIn(signIn.setCookie)!;
    await sleep(RENEW_AFTER + 50);
    const answers: Answer[] = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => call(`${(i % 2 === 0 ? a : b).url}/me`, { headers: { cookie: old } })));
    expect(answers.map((r) => r.status)).toEqual(Array(CONCURRENT).fill(200));
    const renewed = new Set(answers.map((r) => cookieIn(r.setCookie)).filter((c) => c !== undefined));
    expect(renewed.size).toBe(1);
    expect(await a.app.get(SessionStore).list('grace')).toHaveLength(1);
    expect((await call(`${a.url}/me`, { headers: { cookie: [...renewed][0]! } })).status).toBe(200);
  });

  it('signs out everywhere from one node: the sessions end for both', async () => {
    const one = await call(`${a.url}/session`, { method: 'POST', json: { userId: 'linus' } });
    const two = await call(`${b.url}/session`, { method: 'POST', json: { userId: 'linus' } });
    const everywhere = await call(`${a.url}/sessions`, { method: 'DELETE', headers: bearer(two.body.token) });
    expect(everywhere.body).toEqual({ revoked: 2 });
    for (const node of [a, b]) {
      expect((await call(`${node.url}/me`, { headers: bearer(one.body.token) })).status).toBe(401);
      expect((await call(`${node.url}/me`, { headers: { cookie: cookieIn(two.setCookie)! } })).status).toBe(401);
    }
  });
});
