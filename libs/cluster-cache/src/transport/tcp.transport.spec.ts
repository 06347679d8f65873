import { Socket } from 'node:net';
import { createNodeInfo } from './node-info';
import type { LinkCloseReason, PeerLink } from './peer-link.interface';
import { TcpTransport } from './tcp.transport';
import { connectFakePeer } from './testing/raw-peer';
import { TEST_CREDENTIALS, TestCluster } from './testing/test-cluster';
import { waitFor } from './testing/wait-for';

// Each spec file uses its own loopback range; every node gets its own address and port 0.
const A = '127.0.1.1';
const B = '127.0.1.2';
const C = '127.0.1.3';

/** Collects what a link receives. */
function inbox(link: PeerLink): unknown[] {
  const messages: unknown[] = [];
  link.onMessage((message) => messages.push(message));
  return messages;
}

/** Resolves the next link `transport` announces. */
function nextLink(transport: TcpTransport): Promise<PeerLink> {
  return new Promise((resolve) => {
    const off = transport.onLink((link) => {
      off();
      resolve(link);
    });
  });
}

describe('TcpTransport', () => {
  const cluster = new TestCluster();
  afterEach(() => cluster.closeAll());

  it('links two nodes that then exchange messages both ways, in order', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    const inboundLink = nextLink(a);

    const toA = await b.connect(A, a.self.port);
    const toB = await inboundLink;
    const atA = inbox(toB);
    const atB = inbox(toA);
    for (let i = 0; i < 5; i++) {
      toA.send({ from: 'b', i });
      toB.send({ from: 'a', i, nested: { list: [i, 'x'], at: new Date(i) } });
    }

    await waitFor(() => atA.length === 5 && atB.length === 5, 5_000, 'messages');
    expect(atA).toEqual([0, 1, 2, 3, 4].map((i) => ({ from: 'b', i })));
    expect(atB).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ from: 'a', i, nested: { list: [i, 'x'], at: new Date(i) } })),
    );
    expect(toA.peer).toMatchObject({ name: 'a@test', host: A, port: a.self.port, incarnation: a.self.incarnation });
    expect(toB.peer).toMatchObject({ name: 'b@test', host: B, incarnation: b.self.incarnation });
    expect([toA.direction, toB.direction]).toEqual(['outbound', 'inbound']);
    expect(toA.id).toBe(toB.id);
    expect(a.links()).toEqual([toB]);
    expect(b.links()).toEqual([toA]);
  });

  it('writes port 0 back as the bound port', async () => {
    const { transport } = await cluster.start(A);
    expect(transport.self.port).toBeGreaterThan(0);
  });

  it('delivers 10k messages in order in far fewer socket writes', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    const inboundLink = nextLink(a);
    const link = await b.connect(A, a.self.port);
    const received = inbox(await inboundLink);
    const writes = jest.spyOn(Socket.prototype, 'write');
    try {
      for (let seq = 0; seq < 10_000; seq++) link.send({ seq, key: `session:${seq}` });
      await waitFor(() => received.length === 10_000, 10_000, '10k messages');
      expect(received.every((message, i) => (message as { seq: number }).seq === i)).toBe(true);
      // Every send of one tick shares a write (up to the flush threshold): a handful, not 10k.
      expect(writes.mock.calls.length).toBeLessThan(50);
    } finally {
      writes.mockRestore();
    }
  });

  it('resolves the existing link when the node is already linked, either way', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });

    const [first, second] = await Promise.all([b.connect(A, a.self.port), b.connect(A, a.self.port)]);
    expect(second).toBe(first);
    expect(await b.connect(A, a.self.port)).toBe(first);
    await waitFor(() => a.links().length === 1);
    expect(await a.connect(B, b.self.port)).toBe(a.links()[0]);
    expect(b.links()).toEqual([first]);
  });

  it('announces every new link through onLink, inbound and outbound', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    const announcedAtA: PeerLink[] = [];
    const announcedAtB: PeerLink[] = [];
    a.onLink((link) => announcedAtA.push(link));
    const off = b.onLink((link) => announcedAtB.push(link));

    const link = await b.connect(A, a.self.port);
    await waitFor(() => announcedAtA.length === 1);
    expect(announcedAtB).toEqual([link]);
    expect(announcedAtA[0].peer.name).toBe('b@test');

    off();
    const { transport: c } = await cluster.start(C, { name: 'c@test' });
    await b.connect(C, c.self.port);
    expect(announcedAtB).toHaveLength(1);
  });

  it('keeps exactly one link, the same on both sides, when two nodes connect at once', async () => {
    // Repeated because which handshake completes first varies from run to run.
    for (let round = 0; round < 5; round++) {
      const { transport: a } = await cluster.start(A, { name: 'a@test' });
      const { transport: b } = await cluster.start(B, { name: 'b@test' });
      const closed: LinkCloseReason[] = [];
      for (const node of [a, b]) node.onLink((link) => link.onClose((reason) => closed.push(reason)));

      await Promise.all([a.connect(B, b.self.port), b.connect(A, a.self.port)]);

      await waitFor(
        () => a.links().length === 1 && b.links().length === 1 && a.links()[0].id === b.links()[0].id,
        5_000,
        'one shared link',
      );
      const [atA] = a.links();
      expect(atA.closeReason).toBeUndefined();
      // The survivor is the connection opened by the lower name, 'a@test'.
      expect(atA.direction).toBe('outbound');
      expect(closed.every((reason) => reason === 'duplicate')).toBe(true);
      const received = inbox(b.links()[0]);
      atA.send('still works');
      await waitFor(() => received.length === 1);
      await cluster.closeAll();
    }
  });

  it('closes as leave on the other side when a node closes gracefully', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    const inboundLink = nextLink(a);
    const atB = await b.connect(A, a.self.port);
    const atA = await inboundLink;
    const reasons: Record<string, LinkCloseReason> = {};
    atA.onClose((reason) => (reasons.a = reason));
    atB.onClose((reason) => (reasons.b = reason));
    const received = inbox(atA);
    atB.send('last words');

    await b.close();

    await waitFor(() => reasons.a !== undefined);
    expect(reasons).toEqual({ a: 'leave', b: 'shutdown' });
    expect(received).toEqual(['last words']);
    expect(a.links()).toEqual([]);
    expect(b.links()).toEqual([]);
  });

  it('refuses to connect once closed', async () => {
    const { transport: a } = await cluster.start(A);
    await a.close();
    await expect(a.connect(B, 1)).rejects.toMatchObject({ code: 'shutdown' });
    await expect(a.listen()).rejects.toMatchObject({ code: 'shutdown' });
  });

  it('rejects with connect-failed when nothing listens', async () => {
    const { transport: a } = await cluster.start(A);
    const { transport: b } = await cluster.start(B);
    const port = b.self.port;
    await b.close();
    await expect(a.connect(B, port)).rejects.toMatchObject({ code: 'connect-failed' });
  });

  it('replaces the link of a peer that restarted with a new incarnation', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    // The first incarnation of b hangs without closing its socket, as after kill -9
    // on a host that is still up: a has not noticed yet.
    const oldB = await connectFakePeer(A, a.self.port, createNodeInfo('b@test', B, 1), TEST_CREDENTIALS);
    await waitFor(() => a.links().length === 1);
    const [oldLink] = a.links();
    const oldReason = new Promise<LinkCloseReason>((resolve) => oldLink.onClose(resolve));

    const { transport: newB } = await cluster.start(B, { name: 'b@test' });
    await newB.connect(A, a.self.port);

    expect(await oldReason).toBe('replaced');
    await waitFor(() => a.links().length === 1 && a.links()[0] !== oldLink);
    expect(a.links()[0].peer.incarnation).toBe(newB.self.incarnation);
    oldB.socket.destroy();
  });

  it('leaves no open handles after close', async () => {
    const baseline = countResources();
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    const link = await b.connect(A, a.self.port);
    link.send('hello');
    // Still connecting or authenticating when everything closes.
    const pending = cluster.create(C).transport.connect(A, a.self.port).catch(() => undefined);

    await Promise.all([a.close(), b.close(), cluster.closeAll()]);
    await pending;

    await waitFor(() => sameResources(countResources(), baseline), 5_000, 'handles to close');
  });
});

/** Active libuv handles by type (sockets, servers, timers, immediates). */
function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function sameResources(now: Map<string, number>, before: Map<string, number>): boolean {
  return [...new Set([...now.keys(), ...before.keys()])].every(
    (type) => (now.get(type) ?? 0) <= (before.get(type) ?? 0),
  );
}
