import { createSocket, Socket } from 'node:dgram';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import { waitFor } from '../transport/testing/wait-for';
import { GossipDiscovery } from './gossip.discovery';
import { GossipCodec, Heartbeat } from './gossip-packet';
import { recordingContext, RecordingContext } from './testing/discovery-context';
import { freeUdpPort } from './testing/free-port';

const GROUP = '233.252.1.32';
const LOOPBACK = '127.0.0.1';

/** Real UDP multicast on loopback (interface 127.0.0.1), each test on its own free port. */
describe('GossipDiscovery on loopback multicast', () => {
  const started: GossipDiscovery[] = [];
  const sockets: Socket[] = [];
  let port: number;

  beforeEach(async () => {
    port = await freeUdpPort();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await Promise.all(sockets.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  async function node(ctx: RecordingContext, options: ConstructorParameters<typeof GossipDiscovery>[0] = {}): Promise<GossipDiscovery> {
    const strategy = new GossipDiscovery({ interface: LOOPBACK, port, interval: 30, ...options });
    started.push(strategy);
    await strategy.start(ctx);
    return strategy;
  }

  /** A plain UDP socket on the group, to inject packets as an attacker (or a peer) would. */
  async function injector(): Promise<Socket> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(port, GROUP, () => resolve()));
    socket.setMulticastInterface(LOOPBACK);
    socket.setMulticastLoopback(true);
    return socket;
  }

  function inject(socket: Socket, packet: Buffer): Promise<void> {
    return new Promise((resolve, reject) => socket.send(packet, port, GROUP, (error) => (error ? reject(error) : resolve())));
  }

  it('two nodes find each other, and each ignores its own heartbeats', async () => {
    const a = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001 });
    const b = recordingContext({ name: 'b@127.0.0.12', host: '127.0.0.12', port: 14002 });
    const ga = await node(a);
    const gb = await node(b);
    await waitFor(() => a.addresses.has('127.0.0.12:14002') && b.addresses.has('127.0.0.11:14001'), 5_000, 'both found');
    await waitFor(() => ga.stats().own > 0 && gb.stats().own > 0, 5_000, 'own heartbeats looped back');
    expect([...a.addresses]).toEqual(['127.0.0.12:14002']);
    expect([...b.addresses]).toEqual(['127.0.0.11:14001']);
    expect(ga.stats()).toMatchObject({ malformed: 0, unauthenticated: 0, foreign: 0, replayed: 0 });
    expect(ga.stats().sent).toBeGreaterThan(0);
    expect(a.logger.has('log', new RegExp(`multicast heartbeats to ${GROUP}:${port} \\(ttl 1\\) on 127.0.0.1, every 30 ms, signed`))).toBe(true);
  });

  it('with a secret: nodes sharing it find each other; a node with another secret hears nothing and is not heard', async () => {
    const secret = 'gossip-secret-0123456789';
    const a = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001 });
    const b = recordingContext({ name: 'b@127.0.0.12', host: '127.0.0.12', port: 14002 });
    const c = recordingContext({ name: 'c@127.0.0.13', host: '127.0.0.13', port: 14003 });
    const ga = await node(a, { secret });
    await node(b, { secret });
    const gc = await node(c, { secret: 'another-secret-0123456789' });
    await waitFor(() => a.addresses.has('127.0.0.12:14002') && b.addresses.has('127.0.0.11:14001'), 5_000, 'a and b found');
    await waitFor(() => gc.stats().unauthenticated >= 4 && ga.stats().unauthenticated >= 2, 5_000, 'c dropping a and b, a dropping c');
    expect(c.reports).toEqual([]);
    expect([...a.addresses]).toEqual(['127.0.0.12:14002']);
    expect(a.logger.has('log', /encrypted \(AES-256-GCM\)/)).toBe(true);
    expect(c.logger.has('debug', /dropped a unauthenticated packet from 127\.0\.0\.1:\d+: cannot decrypt/)).toBe(true);
  });

  it('two clusters with different cookies on the same group never join; another cluster name is counted as foreign', async () => {
    const a = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001, cookie: 'cookie-one-0123456789' });
    const b = recordingContext({ name: 'b@127.0.0.12', host: '127.0.0.12', port: 14002, cookie: 'cookie-two-0123456789' });
    const c = recordingContext({ name: 'c@127.0.0.13', host: '127.0.0.13', port: 14003, cookie: 'cookie-one-0123456789', cluster: 'other' });
    const ga = await node(a);
    const gb = await node(b);
    await node(c);
    await waitFor(() => ga.stats().unauthenticated >= 3 && gb.stats().unauthenticated >= 3 && ga.stats().foreign >= 3, 5_000, 'drops counted');
    expect(a.reports).toEqual([]);
    expect(b.reports).toEqual([]);
  });

  it('drops replayed, stale, tampered, truncated, garbage and foreign packets, counts them, and keeps working', async () => {
    const ctx = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001 });
    const strategy = await node(ctx, { interval: 60_000 });
    const socket = await injector();
    const peer = await GossipCodec.forCookie(ctx.cookie, ctx.cluster);
    const beat = (h: Partial<Heartbeat>): Buffer =>
      peer.encode({ cluster: ctx.cluster, node: 'p@127.0.0.99', host: '127.0.0.99', port: 15000, incarnation: 'feedfacefeedface', timestamp: Date.now(), sequence: 5, ...h });

    const fresh = beat({});
    await inject(socket, fresh);
    await waitFor(() => strategy.stats().accepted === 1, 5_000, 'the fresh heartbeat');
    expect(ctx.reports).toEqual([['127.0.0.99:15000']]);

    await inject(socket, fresh); // the same packet again
    await inject(socket, beat({ sequence: 4 })); // an older sequence of that incarnation
    await inject(socket, beat({ sequence: 9, timestamp: Date.now() - 60_000, port: 15001 })); // authentic but stale
    await inject(socket, beat({ sequence: 10, timestamp: Date.now() + 60_000, port: 15002 })); // from too far in the future
    await waitFor(() => strategy.stats().replayed === 4, 5_000, 'four replays');

    const tampered = Buffer.from(beat({ sequence: 11, port: 15003 }));
    tampered[tampered.length - 40] ^= 0x01;
    await inject(socket, tampered);
    await inject(socket, beat({ sequence: 12, port: 15004 }).subarray(0, 30));
    await inject(socket, Buffer.from('heartbeat::\x83t\x00\x00\x00\x01d\x00\x04node'));
    await inject(socket, Buffer.alloc(0));
    const foreign = await GossipCodec.forCookie(ctx.cookie, 'another-cluster');
    await inject(socket, foreign.encode({ cluster: 'another-cluster', node: 'f@127.0.0.98', host: '127.0.0.98', port: 15005, incarnation: 'ab', timestamp: Date.now(), sequence: 1 }));
    await waitFor(() => strategy.stats().malformed === 3 && strategy.stats().unauthenticated === 1 && strategy.stats().foreign === 1, 5_000, 'the drops');

    // A newer sequence of the same sender is still accepted.
    await inject(socket, beat({ sequence: 13, port: 15000 }));
    await waitFor(() => strategy.stats().accepted === 2, 5_000, 'the next heartbeat');
    expect(ctx.reports).toEqual([['127.0.0.99:15000'], ['127.0.0.99:15000']]);
    expect(strategy.stats()).toMatchObject({ accepted: 2, replayed: 4, malformed: 3, unauthenticated: 1, foreign: 1 });
    expect(strategy.stats().received).toBe(strategy.stats().own + 11);
    expect(ctx.logger.has('debug', /dropped a replayed packet from 127\.0\.0\.1:\d+: sequence 5 of p@127\.0\.0\.99 already seen/)).toBe(true);
    expect(ctx.logger.has('debug', /dropped a replayed packet .* outside the 30000 ms window/)).toBe(true);
    expect(ctx.logger.has('debug', /dropped a foreign packet .* cluster "another-cluster"/)).toBe(true);
    expect(ctx.logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('accepts a restarted sender (new incarnation) whose sequence starts again', async () => {
    const ctx = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001 });
    const strategy = await node(ctx, { interval: 60_000 });
    const socket = await injector();
    const peer = await GossipCodec.forCookie(ctx.cookie, ctx.cluster);
    const beat = (incarnation: string, sequence: number) =>
      peer.encode({ cluster: ctx.cluster, node: 'p@127.0.0.99', host: '127.0.0.99', port: 15000, incarnation, timestamp: Date.now(), sequence });
    await inject(socket, beat('aaaa', 50));
    await waitFor(() => strategy.stats().accepted === 1, 5_000, 'the first incarnation');
    await inject(socket, beat('bbbb', 1));
    await waitFor(() => strategy.stats().accepted === 2, 5_000, 'the second incarnation');
    expect(strategy.stats().replayed).toBe(0);
  });

  it('reports the sender address for a node listening on a wildcard host', async () => {
    const ctx = recordingContext({ name: 'a@127.0.0.11', host: '127.0.0.11', port: 14001 });
    const wildcard = recordingContext({ name: 'w@127.0.0.1', host: '0.0.0.0', port: 14009 });
    await node(ctx);
    await node(wildcard);
    await waitFor(() => ctx.addresses.size > 0, 5_000, 'the wildcard node');
    expect([...ctx.addresses]).toEqual(['127.0.0.1:14009']);
  });

  it('fails to start with an explanation when the port is held without sharing, and frees its port on stop', async () => {
    const holder = createSocket({ type: 'udp4' });
    sockets.push(holder);
    await new Promise<void>((resolve) => holder.bind(port, GROUP, () => resolve()));
    const strategy = new GossipDiscovery({ interface: LOOPBACK, port });
    await expect(strategy.start(recordingContext({ port: 14001 }))).rejects.toThrow(
      new RegExp(`gossip discovery cannot use multicast group ${GROUP} port ${port} on 127.0.0.1: .*EADDRINUSE.*another program holds ${GROUP}:${port} without sharing it`),
    );
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    sockets.splice(sockets.indexOf(holder), 1);

    const ok = await node(recordingContext({ port: 14001 }));
    await ok.stop();
    // Closed: a socket without address reuse can bind the port again.
    const after = createSocket({ type: 'udp4' });
    sockets.push(after);
    await new Promise<void>((resolve, reject) => {
      after.once('error', reject);
      after.bind(port, GROUP, () => resolve());
    });
  });

  it('checks its options when constructed', () => {
    expect(() => new GossipDiscovery({ interface: 'lo' })).toThrow(InvalidOptionError);
    expect(() => new GossipDiscovery({ interface: 'lo' })).toThrow(/`gossip.interface` must be the IPv4 address .* not an interface name/);
    expect(() => new GossipDiscovery({ interface: '192.0.2.77' })).toThrow(/192\.0\.2\.77, which is not an address of this host/);
    expect(() => new GossipDiscovery({ group: '10.0.0.1' })).toThrow(/IPv4 multicast address/);
    expect(() => new GossipDiscovery({ port: 70000 })).toThrow(/`gossip.port` must be an integer from 1 to 65535/);
    expect(() => new GossipDiscovery({ secret: 'short' })).toThrow(/at least 16 characters/);
    expect(() => new GossipDiscovery({ broadcastAddress: '10.77.0.255' })).toThrow(/only used with broadcastOnly: true/);
    expect(new GossipDiscovery().destination).toBe('233.252.1.32:45892');
    expect(new GossipDiscovery({ broadcastOnly: true, broadcastAddress: '10.77.0.255' }).destination).toBe('10.77.0.255:45892');
  });
});
