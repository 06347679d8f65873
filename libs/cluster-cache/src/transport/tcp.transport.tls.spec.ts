import { connect, type Socket } from 'node:net';
import type { PeerLink } from './peer-link.interface';
import { TestCluster } from './testing/test-cluster';
import { createTlsFixtures, hasOpenssl, type TlsFixtures } from './testing/tls-fixtures';
import { waitFor } from './testing/wait-for';

const A = '127.0.4.1';
const B = '127.0.4.2';
const C = '127.0.4.3';

// Certificates come from the openssl binary; without it there is nothing to test with.
(hasOpenssl() ? describe : describe.skip)('TcpTransport over TLS', () => {
  const cluster = new TestCluster();
  let certs: TlsFixtures;
  beforeAll(() => {
    certs = createTlsFixtures([A, B, C]);
  });
  afterEach(() => cluster.closeAll());

  const trusted = () => ({ ca: certs.ca, ...certs.node });

  it('links two nodes with mutual certificates and exchanges messages', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test', tls: trusted() });
    const { transport: b } = await cluster.start(B, { name: 'b@test', tls: trusted() });
    const received: unknown[] = [];
    const announced = new Promise<PeerLink>((resolve) => a.onLink(resolve));

    const link = await b.connect(A, a.self.port);
    (await announced).onMessage((message) => received.push(message));
    link.send({ over: 'tls' });
    await waitFor(() => received.length === 1);

    expect(received).toEqual([{ over: 'tls' }]);
    expect(link.peer.name).toBe('a@test');
  });

  it('refuses a client whose certificate another authority signed', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', tls: trusted() });
    const { transport: rogue } = await cluster.start(C, {
      name: 'rogue@test',
      tls: { ca: certs.ca, ...certs.rogue }, // trusts the cluster, but is not trusted by it
    });

    await expect(rogue.connect(A, a.self.port)).rejects.toBeDefined();
    await waitFor(() => logger.has('warn', /Refused TLS connection from 127\.[\d.]+:\d+: certificate rejected/));
    expect(a.links()).toEqual([]);

    const { transport: b } = await cluster.start(B, { name: 'b@test', tls: trusted() });
    await expect(b.connect(A, a.self.port)).resolves.toBeDefined();
  });

  it('refuses a client without a certificate', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', tls: trusted() });
    const { transport: anonymous } = await cluster.start(C, { name: 'anon@test', tls: { ca: certs.ca } });

    await expect(anonymous.connect(A, a.self.port)).rejects.toBeDefined();
    await waitFor(() => logger.has('warn', /Refused TLS connection from 127\.[\d.]+:\d+: certificate rejected/));
    expect(a.links()).toEqual([]);
  });

  it('does not connect to a server whose certificate another authority signed', async () => {
    const { transport: rogue } = await cluster.start(A, { name: 'rogue@test', tls: { ca: certs.ca, ...certs.rogue } });
    const { transport: b, logger } = await cluster.start(B, { name: 'b@test', tls: trusted() });

    await expect(b.connect(A, rogue.self.port)).rejects.toMatchObject({ code: 'connect-failed' });
    expect(logger.has('warn', /TLS with 127\.0\.[\d.]+:\d+ failed: .*certificate/)).toBe(true);
  });

  it('refuses a plain TCP client', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', tls: trusted() });
    const { transport: plain } = await cluster.start(B, { name: 'b@test' });

    await expect(plain.connect(A, a.self.port)).rejects.toBeDefined();
    await waitFor(() => logger.has('warn', /Refused TLS connection from 127\.[\d.]+:\d+: ERR_SSL/));
  });

  it('closes connections that never finish the TLS handshake at the handshake timeout', async () => {
    const { transport: a, logger } = await cluster.start(A, {
      name: 'a@test',
      tls: trusted(),
      handshakeTimeout: 300,
      maxUnauthenticatedPerAddress: 64, // all from one address here
    });
    // Silent TCP connections, as a flood of them would be: each holds a descriptor until closed.
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = connect({ host: A, port: a.self.port, localAddress: B });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      sockets.push(socket);
    }
    await waitFor(() => a.stats().unauthenticated === 20, 2_000, 'the connections to be accepted');
    const since = Date.now();

    await waitFor(() => sockets.every((socket) => socket.closed), 3_000, 'every stalled connection to be closed');
    expect(Date.now() - since).toBeLessThan(1_500);
    expect(a.stats()).toMatchObject({ unauthenticated: 0, refused: { handshake: 20 } });
    // One line for the lot: the rest are counted, not logged one by one.
    expect(logger.lines.filter((line) => /ERR_TLS_HANDSHAKE_TIMEOUT/.test(line.message))).toHaveLength(1);

    const { transport: b } = await cluster.start(B, { name: 'b@test', tls: trusted() });
    await expect(b.connect(A, a.self.port)).resolves.toBeDefined();
  });

  it('closes pending TLS negotiations on close', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test', tls: trusted() });
    // Connects but never starts TLS: only close() can end it before the timeout.
    const socket = connect({ host: A, port: a.self.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await a.close();
    await closed;
  });
});
