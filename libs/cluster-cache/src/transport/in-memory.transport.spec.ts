import { InMemoryNetwork, InMemoryTransport } from './in-memory.transport';
import { createNodeInfo } from './node-info';
import type { LinkCloseReason, PeerLink } from './peer-link.interface';
import { CaptureLogger } from './testing/capture-logger';
import { waitFor } from './testing/wait-for';

describe('InMemoryTransport', () => {
  let network: InMemoryNetwork;
  const nodes: InMemoryTransport[] = [];
  beforeEach(() => {
    network = new InMemoryNetwork();
  });
  afterEach(() => Promise.all(nodes.splice(0).map((node) => node.close())));

  async function start(name: string): Promise<InMemoryTransport> {
    const node = new InMemoryTransport(createNodeInfo(name, 'mem'), network, new CaptureLogger());
    nodes.push(node);
    await node.listen();
    return node;
  }

  /** Links b to a; returns both ends with what each receives. */
  async function link(a: InMemoryTransport, b: InMemoryTransport) {
    const atA = new Promise<PeerLink>((resolve) => a.onLink(resolve));
    const toA = await b.connect(a.self.host, a.self.port);
    const toB = await atA;
    const received = { a: [] as unknown[], b: [] as unknown[] };
    toB.onMessage((message) => received.a.push(message));
    toA.onMessage((message) => received.b.push(message));
    return { toA, toB, received };
  }

  function closeReason(link: PeerLink): Promise<LinkCloseReason> {
    return new Promise((resolve) => link.onClose(resolve));
  }

  it('delivers copies of messages both ways, asynchronously and in order', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toA, toB, received } = await link(a, b);
    const message = { n: 1, tags: new Map([['k', 'v']]) };

    toA.send(message);
    toA.send({ n: 2 });
    toB.send('pong');
    message.n = 99; // the sender's later changes must not reach the receiver
    expect(received.a).toEqual([]);

    await waitFor(() => received.a.length === 2 && received.b.length === 1);
    expect(received.a).toEqual([{ n: 1, tags: new Map([['k', 'v']]) }, { n: 2 }]);
    expect(received.b).toEqual(['pong']);
    expect([toA.id, toA.direction, toB.direction]).toEqual([toB.id, 'outbound', 'inbound']);
    expect(toA.peer).toEqual(a.self);
  });

  it('resolves the existing link when already linked', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toA, toB } = await link(a, b);
    expect(await b.connect(a.self.host, a.self.port)).toBe(toA);
    expect(await a.connect(b.self.host, b.self.port)).toBe(toB);
    expect(a.links()).toEqual([toB]);
  });

  it('shows a graceful close as leave after the messages sent before it', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toA, toB, received } = await link(a, b);
    const reasons = Promise.all([closeReason(toB), closeReason(toA)]);
    toA.send('last words');

    await b.close();

    expect(await reasons).toEqual(['leave', 'shutdown']);
    expect(received.a).toEqual(['last words']);
    expect(a.links()).toEqual([]);
  });

  it('shows a crash as closed', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toB } = await link(a, b);
    b.crash();
    expect(await closeReason(toB)).toBe('closed');
  });

  it('cuts partitioned nodes apart until healed', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toA, toB, received } = await link(a, b);
    const reasons = Promise.all([closeReason(toA), closeReason(toB)]);
    toA.send('lost in the split');

    network.partition('a', 'b');

    expect(await reasons).toEqual(['heartbeat-timeout', 'heartbeat-timeout']);
    await expect(b.connect(a.self.host, a.self.port)).rejects.toMatchObject({ code: 'connect-timeout' });
    network.heal();
    const healed = await link(a, b);
    healed.toA.send('after the heal');
    await waitFor(() => healed.received.a.length === 1);
    expect(received.a).toEqual([]);
  });

  it('replaces the link of a restarted node', async () => {
    const a = await start('a');
    const oldB = await start('b');
    const { toB: oldLink } = await link(a, oldB);
    const oldReason = closeReason(oldLink);
    oldB.crash(); // frees the address; a has not been told yet in a real network
    const newB = await start('b');

    await link(a, newB);

    expect(await oldReason).toBe('replaced');
    expect(a.links().map((l) => l.peer.incarnation)).toEqual([newB.self.incarnation]);
  });

  it('rejects connects to nowhere and after close', async () => {
    const a = await start('a');
    await expect(a.connect('mem', 1)).rejects.toMatchObject({ code: 'connect-failed' });
    await a.close();
    await expect(a.connect('mem', 1)).rejects.toMatchObject({ code: 'shutdown' });
  });

  it('throws for a message it cannot encode', async () => {
    const a = await start('a');
    const b = await start('b');
    const { toA } = await link(a, b);
    expect(() => toA.send({ big: 2n ** 100n })).toThrow(expect.objectContaining({ code: 'encode-failed' }));
    expect(toA.closeReason).toBeUndefined();
  });
});
