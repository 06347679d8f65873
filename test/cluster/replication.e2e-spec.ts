import { connect, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ANY } from '@app/cluster-cache';
import { startNode, TestNode } from '../utils/cluster-app';
import { waitFor } from '../utils/wait-for';

/** Real TCP between nodes booted in this process, each on its own loopback address. */
describe('replication over TCP (3+ nodes on 127.0.0.x)', () => {
  const nodes: TestNode[] = [];
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;

  beforeAll(async () => {
    a = await startNode({ node: { name: 'a@127.0.0.11', port: 0 } });
    nodes.push(a);
    b = await startNode({ node: { name: 'b@127.0.0.12', port: 0 }, extraNodes: [a.address] });
    nodes.push(b);
    // c knows only b: the mesh must close itself (transitive join).
    c = await startNode({ node: { name: 'c@127.0.0.13', port: 0 }, extraNodes: [b.address] });
    nodes.push(c);
    await waitFor(() => nodes.every((n) => n.cluster.nodes().length === 2), 10_000, 'a full mesh of 3');
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('forms a full mesh from one seed each and logs who initiated', () => {
    expect(c.cluster.nodes().map((n) => n.name).sort()).toEqual(['a@127.0.0.11', 'b@127.0.0.12']);
    expect(a.logs().some((l) => /a@127.0.0.11 initiated the cluster/.test(l))).toBe(true);
    expect(c.logs().some((l) => /c@127.0.0.13 joined the cluster/.test(l))).toBe(true);
    expect(c.events.some((e) => e.type === 'joined')).toBe(true);
  });

  it('lets b and c read a sync put on a as soon as it resolves', async () => {
    for (let i = 0; i < 20; i++) {
      await a.cache.put(['k', i], { i });
      expect(b.cache.get(['k', i])).toEqual({ i });
      expect(c.cache.get(['k', i])).toEqual({ i });
    }
    expect(c.cache.all(['k', ANY])).toHaveLength(20);
  });

  it('makes a session created on one node valid on every node, and a sign-out anywhere a sign-out everywhere', async () => {
    const { token } = await b.sessions.create('ada', { device: 'laptop' });
    expect(a.sessions.get(token)?.userId).toBe('ada');
    expect(c.sessions.list('ada')).toHaveLength(1);
    await c.sessions.delete(token);
    expect(a.sessions.get(token)).toBeUndefined();
    expect(b.sessions.get(token)).toBeUndefined();
  });

  it('converges when several nodes write the same keys at once', async () => {
    await Promise.all([a, b, c].flatMap((n, i) => Array.from({ length: 50 }, (_, j) => n.cache.put(['race', j], `${i}`))));
    const views = [a, b, c].map((n) => JSON.stringify(n.cache.all(['race', ANY])));
    expect(views[1]).toBe(views[0]);
    expect(views[2]).toBe(views[0]);
  });

  it('copies 100k entries to a fresh node, which then matches', async () => {
    for (let i = 0; i < 100_000; i += 5000) {
      await a.cache.putMany(Array.from({ length: 5000 }, (_, j) => [['bulk', i + j], { n: i + j, pad: 'x'.repeat(40) }] as const));
    }
    const d = await startNode({ node: { name: 'd@127.0.0.14', port: 0 }, extraNodes: [c.address] });
    nodes.push(d);
    expect(d.cluster.ready).toBe(true);
    expect(d.cache.all(['bulk', ANY])).toHaveLength(100_000);
    expect(d.cache.get(['bulk', 99_999])).toEqual({ n: 99_999, pad: 'x'.repeat(40) });
    expect(JSON.stringify(d.cache.all(['k', ANY]))).toBe(JSON.stringify(a.cache.all(['k', ANY])));
    await waitFor(() => d.cluster.nodes().length === 3, 10_000, 'd linked to all');
  });

  it('refuses a node with the wrong cookie, in both directions, logging it, and keeps serving', async () => {
    const intruder = await startNode({ node: { name: 'x@127.0.0.19', port: 0 }, cookie: 'another-cookie-0123456789', extraNodes: [a.address], joinTimeout: 1000 });
    nodes.push(intruder);
    await expect(intruder.cluster.connect(b.address)).rejects.toThrow();
    await expect(a.cluster.connect(intruder.address)).rejects.toThrow();
    expect(intruder.cluster.nodes()).toEqual([]);
    expect(a.cluster.nodes().map((n) => n.name)).not.toContain('x@127.0.0.19');
    // Each side logs each refusal with the other's address.
    await waitFor(() => a.logs().some((l) => /^warn .*127\.0\.0\.1\d*:\d+.*cookie/.test(l)), 5000, 'a logs the refusal');
    await waitFor(() => intruder.logs().some((l) => /^warn .*127\.0\.0\.1\d*:\d+.*cookie/.test(l)), 5000, 'the intruder logs the refusal');
    await a.cache.put('still-serving', 1);
    expect(c.cache.get('still-serving')).toBe(1);
  });

  it('closes a connection announcing a 64 MiB frame, or sending random bytes, and keeps serving', async () => {
    const [host, port] = [a.address.split(':')[0], Number(a.address.split(':')[1])];
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 * 1024);
    for (const payload of [header, randomBytes(4096)]) {
      const socket: Socket = connect({ host, port });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.on('connect', () => socket.write(payload));
      await closed;
    }
    await b.cache.put('after-garbage', 1);
    expect(a.cache.get('after-garbage')).toBe(1);
    expect(a.cluster.nodes().length).toBeGreaterThanOrEqual(3);
  });
});
