import { buildDemoOnce, DemoRun, request, sessionCookie, testEnv } from './demo-harness';
import { waitFor } from '../utils/wait-for';

/**
 * The demo as a person runs it: `scripts/demo.js` starts node a, node b and
 * the round-robin load balancer as real processes; the test signs in through
 * the balancer, kills and restarts a node, and signs out on the other.
 */
describe('the demo: two nodes behind a round-robin load balancer (real processes)', () => {
  let demo: DemoRun;
  let lb: string;
  let urlA: string;
  let urlB: string;
  let cookie: string;

  /** `n` requests to GET /me through the balancer, in a row. */
  async function meThroughLb(n: number) {
    const answers = [];
    for (let i = 0; i < n; i++) answers.push(await request(`${lb}/me`, { cookie }));
    return answers;
  }

  function alternates(servedBy: (string | undefined)[]): boolean {
    return servedBy.every((node, i) => node !== undefined && (i === 0 || node !== servedBy[i - 1]));
  }

  beforeAll(async () => {
    buildDemoOnce();
    demo = new DemoRun(await testEnv());
    await demo.ready();
    lb = `http://127.0.0.1:${demo.layout.lb.port}`;
    urlA = `http://127.0.0.1:${demo.node('a').port}`;
    urlB = `http://127.0.0.1:${demo.node('b').port}`;
    // Both nodes hold the cluster's data and see each other.
    await waitFor(async () => {
      const [a, b] = await Promise.all([request(`${urlA}/cluster`), request(`${urlB}/cluster`)]);
      return a.body.ready && b.body.ready && a.body.peers.length === 1 && b.body.peers.length === 1;
    }, 20_000, 'a and b to be linked');
  }, 120_000);

  afterAll(async () => {
    demo?.killAll();
    demo?.removeData();
  });

  afterEach(() => {
    // On failure, the processes' output tells what happened.
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) console.log(`demo output:\n${demo.log()}`);
  });

  it('signs in through the load balancer and the session is valid on both nodes, alternately', async () => {
    const signIn = await request(`${lb}/session`, { method: 'POST', json: { username: 'ada', password: 'analytical-engine' } });
    expect(signIn.status).toBe(200);
    expect(signIn.body.user).toEqual({ id: 'ada', name: 'Ada Lovelace' });
    expect(signIn.setCookie.join()).toMatch(/HttpOnly/);
    expect(signIn.setCookie.join()).toMatch(/SameSite=Lax/);
    cookie = sessionCookie(signIn.setCookie)!;
    expect(cookie).toBeDefined();

    const answers = await meThroughLb(10);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.every((a) => a.body.user.id === 'ada')).toBe(true);
    const servedBy = answers.map((a) => a.servedBy);
    expect(new Set(servedBy)).toEqual(new Set(['a@127.0.0.1', 'b@127.0.0.1']));
    expect(alternates(servedBy)).toBe(true);
    // The body says the same node as the header.
    expect(answers.every((a) => a.body.servedBy === a.servedBy)).toBe(true);
  });

  it('limits sign-in attempts per client address on the whole cluster: the 11th in a minute gets 429, whichever node it reaches', async () => {
    // A client elsewhere, through the balancer (which puts its address in X-Forwarded-For).
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    const wrong = { username: 'ada', password: 'not-her-password' };
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await request(`${lb}/session`, { method: 'POST', json: wrong, headers }));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(401));
    // Both nodes counted: without the shared count each would allow 10.
    expect(new Set(answers.map((a) => a.servedBy))).toEqual(new Set(['a@127.0.0.1', 'b@127.0.0.1']));
    const eleventh = await request(`${lb}/session`, { method: 'POST', json: wrong, headers });
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.message).toMatch(/^too many sign-in attempts from your address/);
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThan(0);
    const twelfth = await request(`${lb}/session`, { method: 'POST', json: { username: 'ada', password: 'analytical-engine' }, headers });
    expect(twelfth.status).toBe(429);
    expect(twelfth.servedBy).not.toBe(eleventh.servedBy);
    expect(twelfth.setCookie).toEqual([]);
  });

  it('refuses a cross-site sign-in with 403 and no Set-Cookie, and takes one from the demo\'s own pages', async () => {
    const ada = { username: 'ada', password: 'analytical-engine' };
    for (const url of [lb, urlA, urlB]) {
      const json = await request(`${url}/session`, { method: 'POST', json: ada, headers: { origin: 'http://evil.example' } });
      expect(json.status).toBe(403);
      expect(json.setCookie).toEqual([]);
      const form = await request(`${url}/session`, { method: 'POST', form: ada, headers: { origin: 'http://127.0.0.1:1' } });
      expect(form.status).toBe(403);
      expect(form.setCookie).toEqual([]);
    }
    // The balancer's page and the nodes' pages are the demo's own origins (scripts/demo-nodes.js lists them).
    for (const origin of [lb, urlA, urlB, lb.replace('127.0.0.1', 'localhost')]) {
      const signIn = await request(`${lb}/session`, { method: 'POST', json: ada, headers: { origin } });
      expect(signIn.status).toBe(200);
      const signOut = await request(`${lb}/session`, { method: 'DELETE', cookie: sessionCookie(signIn.setCookie), headers: { origin } });
      expect(signOut.status).toBe(200);
    }
  });

  it('serves /cluster and /metrics to loopback clients only (no DEMO_ADMIN_TOKEN set)', async () => {
    for (const path of ['/cluster', '/metrics']) {
      expect((await request(`${lb}${path}`)).status).toBe(200);
      expect((await request(`${urlA}${path}`)).status).toBe(200);
      // A client elsewhere, through the balancer: refused on both nodes.
      const refused = [1, 2].map(() => request(`${lb}${path}`, { headers: { 'x-forwarded-for': '203.0.113.9' } }));
      const answers = await Promise.all(refused);
      expect(answers.map((a) => a.status)).toEqual([403, 403]);
      expect(answers[0].body.message).toMatch(/loopback clients only; set DEMO_ADMIN_TOKEN/);
      expect((await request(`${lb}${path}`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer guess-guess-guess-guess' } })).status).toBe(403);
    }
  });

  it('keeps answering every request after kill -9 of node a', async () => {
    process.kill(demo.pidOf('a'), 'SIGKILL');
    await waitFor(() => demo.records.some((r) => r.demo === 'exit' && r.id === 'a'), 10_000, 'the script to see a end');

    const answers = await meThroughLb(10);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.map((a) => a.servedBy)).toEqual(Array(10).fill('b@127.0.0.1'));
  });

  it('restarts a: it rejoins, and requests alternate again with the same session', async () => {
    demo.restart('a');
    await waitFor(async () => {
      const [a, b] = await Promise.all([request(`${urlA}/cluster`), request(`${urlB}/cluster`)]);
      return a.body.ready && a.body.peers.some((p: { name: string }) => p.name === 'b@127.0.0.1') && b.body.peers.some((p: { name: string }) => p.name === 'a@127.0.0.1');
    }, 30_000, 'a to rejoin b');
    // The new a holds the session it was killed with (copied from b, or from its disk).
    expect((await request(`${urlA}/me`, { cookie })).status).toBe(200);

    // The balancer sends a requests again once its back-off expired.
    await waitFor(async () => alternates((await meThroughLb(2)).map((a) => a.servedBy)), 10_000, 'the balancer to use a again');
    const answers = await meThroughLb(10);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(alternates(answers.map((a) => a.servedBy))).toBe(true);
    expect(new Set(answers.map((a) => a.body.session.handle)).size).toBe(1);
  });

  it('signs out on b, and /me on a answers 401', async () => {
    const signOut = await request(`${urlB}/session`, { method: 'DELETE', cookie });
    expect(signOut.status).toBe(200);
    expect(signOut.body).toMatchObject({ signedOut: true, servedBy: 'b@127.0.0.1' });
    const me = await request(`${urlA}/me`, { cookie });
    expect(me.status).toBe(401);
    expect(me.servedBy).toBe('a@127.0.0.1');
    const throughLb = await meThroughLb(2);
    expect(throughLb.map((a) => a.status)).toEqual([401, 401]);
  });

  it('stops every node it started on SIGTERM (Ctrl-C)', async () => {
    const b = demo.pidOf('b');
    const exit = await demo.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(demo.records).toContainEqual(expect.objectContaining({ demo: 'exit', id: 'b', pid: b }));
    expect(() => process.kill(b, 0)).toThrow();
  });
});
