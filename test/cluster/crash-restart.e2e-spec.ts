import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess, spawnNode, stopNode } from '../utils/node-process';
import { waitFor } from '../utils/wait-for';

const COOKIE = 'crash-test-cookie-0123456789';
const A = { name: 'a@127.0.0.41', port: '24141' };
const B = { name: 'b@127.0.0.42', port: '24142' };
const address = (n: { name: string; port: string }) => `${n.name.split('@')[1]}:${n.port}`;

async function signIn(node: NodeProcess, user: string, ttl?: number): Promise<string> {
  const response = await fetch(`${node.url}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, ttl }) });
  if (response.status !== 201) throw new Error(`sign-in on ${node.name}: ${response.status}`);
  return (await response.json()).token;
}

async function me(node: NodeProcess, token: string): Promise<number> {
  return (await fetch(`${node.url}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
}

async function signOut(node: NodeProcess, token: string): Promise<void> {
  await fetch(`${node.url}/session`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
}

/** Real processes, real TCP, real files: kill -9, restart, rejoin. */
describe('two nodes as real processes: kill -9, restart, rejoin, persistence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncc-crash-'));
  const running: NodeProcess[] = [];
  const start = async (n: typeof A, seeds: string[]) => {
    const node = await spawnNode(n.name, { CLUSTER_PORT: n.port, CLUSTER_COOKIE: COOKIE, CLUSTER_SEEDS: seeds.join(','), CACHE_DIR: join(dir, n.name), SESSION_TTL: '600000' });
    running.push(node);
    return node;
  };

  afterAll(async () => {
    await Promise.all(running.map((n) => stopNode(n, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving after kill -9 of a node, which rejoins and catches up; expiry and persistence follow Pow', async () => {
    let a = await start(A, [address(B)]);
    const b = await start(B, [address(A)]);
    await waitFor(() => a.events.some((e) => e.type === 'nodeup') && b.events.some((e) => e.type === 'nodeup'), 15_000, 'a and b linked');

    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(i % 2 ? a : b, `user${i}`)));
    for (const token of before) expect([await me(a, token), await me(b, token)]).toEqual([200, 200]);
    const short = await signIn(a, 'short-lived', 1500);
    expect(await me(b, short)).toBe(200);

    // kill -9 a: b still serves every session, and detects the crash.
    await stopNode(a, 'SIGKILL');
    await waitFor(() => b.events.some((e) => e.type === 'nodedown' && e.node === A.name), 15_000, 'b to see a down');
    expect(b.events.find((e) => e.type === 'nodedown')).toMatchObject({ reason: expect.not.stringMatching(/^leave$/) });
    for (const token of before) expect(await me(b, token)).toBe(200);
    // Pow: survivors expire a dead writer's keys.
    await waitFor(async () => (await me(b, short)) === 401, 10_000, 'the short-TTL session to expire on b');

    // Meanwhile on b: new sessions and sign-outs.
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(b, `late${i}`)));
    await signOut(b, before[0]);
    await signOut(b, before[1]);

    // Restart a on the same directory: the cluster is running, so a takes the cluster's data.
    a = await start(A, [address(B)]);
    await waitFor(() => a.events.some((e) => e.type === 'joined'), 15_000, 'a to rejoin');
    expect(a.events.find((e) => e.type === 'joined')).toMatchObject({ node: A.name, from: B.name });
    expect(a.output.some((l) => /\[ClusterCache a@127\.0\.0\.41\].*a@127\.0\.0\.41 joined the cluster: \d+ entries copied from b@127\.0\.0\.42/.test(l))).toBe(true);
    for (const token of [...before.slice(2), ...during]) expect(await me(a, token)).toBe(200);
    expect([await me(a, before[0]), await me(a, before[1])]).toEqual([401, 401]);

    // Both down; a starts alone and loads what it has on disk.
    await Promise.all([stopNode(a, 'SIGKILL'), stopNode(b, 'SIGKILL')]);
    a = await start(A, [address(B)]);
    expect(a.output.some((l) => /no cluster found: a@127\.0\.0\.41 initiated the cluster with \d+ entries from disk/.test(l))).toBe(true);
    for (const token of [...before.slice(2), ...during]) expect(await me(a, token)).toBe(200);
    const onlyOnA = await signIn(a, 'after-restart');
    await signOut(a, during[0]);

    // b comes back with stale disk data: it takes the running cluster's data, not its own.
    const b2 = await start(B, [address(A)]);
    await waitFor(() => b2.events.some((e) => e.type === 'joined'), 15_000, 'b to rejoin');
    expect(b2.output.some((l) => /b@127\.0\.0\.42 joined the cluster: \d+ entries copied from a@127\.0\.0\.41/.test(l))).toBe(true);
    expect(await me(b2, onlyOnA)).toBe(200);
    expect(await me(b2, during[0])).toBe(401);
    expect(await me(b2, during[1])).toBe(200);
  });
});
