import type { INestApplication } from '@nestjs/common';
import { ClusterService, SessionStore } from '@app/cluster-cache';
import { TEST_COOKIE } from '../utils/cluster-app';
import { waitFor } from '../utils/wait-for';
import { AuthAppModule } from './fixtures/auth-app.module';
import { AdapterName, ADAPTERS, Answer, bearer, call, cookieIn, startApp } from './fixtures/http';

const SECRET = 'e2e-secret-e2e-secret';
const RENEW_AFTER = 1_000;
const GRACE = 2_000;
/** Requests sent at once with the same old token, alternating between the nodes. */
const CONCURRENT = 24;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Node {
  app: INestApplication;
  url: string;
  name: string;
}

/** Node `id` of a two-node cluster on `adapter`: sessions renewed after 1 s, a 2 s rotation grace. */
async function startNode(adapter: AdapterName, id: string, seeds: string[] = []): Promise<Node> {
  const name = `rot-${id}-${adapter}@127.0.0.1`;
  const { app, url } = await startApp(
    adapter,
    AuthAppModule.forNode(
      { node: { name }, cookie: TEST_COOKIE, extraNodes: seeds, sessions: { ttl: 60_000, rotationGrace: GRACE } },
      { cookie: { secret: SECRET, secure: false }, renewAfter: RENEW_AFTER },
    ),
  );
  return { app, url, name };
}

function clusterAddress(node: Node): string {
  const self = node.app.get(ClusterService).self();
  return `${self.host}:${self.port}`;
}

/**
 * Renewal by rotation on two nodes of one cluster, over Express and Fastify:
 * many requests with the same old token at once, half on each node. One
 * rotation wins across the cluster (one new token, in the responses of the
 * node that rotated), and every request is answered 200 — the losing node's
 * requests go through with the old token, which the rotation grace keeps
 * valid. Then sign-out everywhere from one node ends the sessions on both.
 */
describe.each(ADAPTERS)('renewal and rotation on two nodes (%s)', (adapter) => {
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    a = await startNode(adapter, 'a');
    b = await startNode(adapter, 'b', [clusterAddress(a)]);
    await waitFor(() => a.app.get(ClusterService).nodes().length === 1 && b.app.get(ClusterService).nodes().length === 1, 10_000, 'a and b to be linked');
  }, 30_000);

  afterAll(async () => {
    await b?.app.close();
    await a?.app.close();
  });

  /** `CONCURRENT` requests to GET /me at once, alternating a, b, a …, each with `headers`. */
  const burst = (headers: Record<string, string>): Promise<Answer[]> => Promise.all(Array.from({ length: CONCURRENT }, (_, i) => call(`${(i % 2 === 0 ? a : b).url}/me`, { headers })));

  it('rotates a cookie session once across the cluster under concurrent requests, and answers every one', async () => {
    const signIn = await call(`${a.url}/session`, { method: 'POST', json: { userId: 'ada' } });
    const old = cookieIn(signIn.setCookie)!;
    await sleep(RENEW_AFTER + 50);

    const answers = await burst({ cookie: old });
    expect(answers.map((r) => r.status)).toEqual(Array(CONCURRENT).fill(200));
    const renewed = new Set(answers.map((r) => cookieIn(r.setCookie)).filter((c) => c !== undefined));
    expect(renewed.size).toBe(1); // one winner
    const [fresh] = [...renewed];
    expect(fresh).not.toBe(old);
    // Nobody was sent the old cookie back. One session is left on both nodes; an answer is on it, or (a request
    // of the node that lost the race, still with the old token) on the old one, which the grace kept valid.
    expect(answers.every((r) => r.setCookie.every((c) => !c.startsWith(`${old};`)))).toBe(true);
    const [session] = await a.app.get(SessionStore).list('ada');
    expect(await b.app.get(SessionStore).list('ada')).toEqual([session]);
    expect(session.handle).not.toBe(signIn.body.handle);
    expect(answers.every((r) => r.body.handle === session.handle || r.body.handle === signIn.body.handle)).toBe(true);

    // The new cookie works on both nodes (and is not renewed again: it is fresh).
    for (const node of [a, b]) {
      const me = await call(`${node.url}/me`, { headers: { cookie: fresh! } });
      expect(me.status).toBe(200);
      expect(me.setCookie).toEqual([]);
    }
    // The old one ends with the grace, on both nodes.
    await waitFor(async () => (await call(`${a.url}/me`, { headers: { cookie: old } })).status === 401, GRACE + 3_000, 'the old cookie to stop working on a');
    expect((await call(`${b.url}/me`, { headers: { cookie: old } })).status).toBe(401);
  });

  it('rotates a bearer token once across the cluster: the new token in X-Session-Token', async () => {
    const signIn = await call(`${b.url}/session`, { method: 'POST', json: { userId: 'grace', cookie: false } });
    expect(signIn.setCookie).toEqual([]);
    const old = signIn.body.token as string;
    await sleep(RENEW_AFTER + 50);

    const answers = await burst(bearer(old));
    expect(answers.map((r) => r.status)).toEqual(Array(CONCURRENT).fill(200));
    const renewed = new Set(answers.map((r) => r.headers['x-session-token']).filter((t) => t !== undefined));
    expect(renewed.size).toBe(1);
    const [fresh] = [...renewed] as string[];
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const node of [a, b]) expect((await call(`${node.url}/me`, { headers: bearer(fresh) })).status).toBe(200);
  });

  it('signs out everywhere on one node: the sessions end on both, the cookies the guards remembered too', async () => {
    const laptop = cookieIn((await call(`${a.url}/session`, { method: 'POST', json: { userId: 'linus', device: 'laptop' } })).setCookie)!;
    const phone = cookieIn((await call(`${b.url}/session`, { method: 'POST', json: { userId: 'linus', device: 'phone' } })).setCookie)!;
    for (const node of [a, b]) for (const cookie of [laptop, phone]) expect((await call(`${node.url}/me`, { headers: { cookie } })).status).toBe(200);

    const everywhere = await call(`${b.url}/sessions`, { method: 'DELETE', headers: { cookie: phone } });
    expect(everywhere.status).toBe(200);
    expect(everywhere.body.revoked).toBe(2);
    expect(everywhere.setCookie).toEqual(['session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
    for (const node of [a, b]) for (const cookie of [laptop, phone]) expect((await call(`${node.url}/me`, { headers: { cookie } })).status).toBe(401);
  });
});
