import type { Socket } from 'node:net';
import { REFUSAL_LOG_PERIOD } from './transport.constants';
import type { CaptureLogger } from './testing/capture-logger';
import { openRawSocket, whenClosed } from './testing/raw-peer';
import { TestCluster } from './testing/test-cluster';
import { waitFor } from './testing/wait-for';

const A = '127.0.6.1';
const B = '127.0.6.2';
const C = '127.0.6.3';
const D = '127.0.6.4';
const E = '127.0.6.5';

/** The warnings that match `pattern`. */
function warnings(logger: CaptureLogger, pattern: RegExp): string[] {
  return logger.lines.filter((line) => line.level === 'warn' && pattern.test(line.message)).map((line) => line.message);
}

describe('TcpTransport limits on unauthenticated connections', () => {
  const cluster = new TestCluster();
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    jest.restoreAllMocks();
    await cluster.closeAll();
  });

  /** A silent connection to `port` from `from`: it never starts its handshake. */
  async function silent(from: string, port: number): Promise<Socket> {
    const socket = await openRawSocket(A, port, from);
    socket.on('error', () => undefined);
    sockets.push(socket);
    return socket;
  }

  it('closes connections over the per-address limit at once, counts each and logs one line per period', async () => {
    const { transport: a, logger } = await cluster.start(A, {
      name: 'a@test',
      maxUnauthenticated: 10,
      maxUnauthenticatedPerAddress: 2,
      handshakeTimeout: 60_000,
    });
    const held = [await silent(B, a.self.port), await silent(B, a.self.port)];
    await waitFor(() => a.stats().unauthenticated === 2, 2_000, 'two connections to be admitted');

    const over = await Promise.all([1, 2, 3].map(() => silent(B, a.self.port)));
    await Promise.all(over.map(whenClosed));

    expect(held.some((socket) => socket.closed)).toBe(false);
    expect(a.stats()).toMatchObject({ unauthenticated: 2, refused: { addressLimit: 3, limit: 0, handshake: 0 } });
    expect(warnings(logger, /maxUnauthenticatedPerAddress/)).toEqual([
      expect.stringMatching(new RegExp(`^Refused connection from ${B}:\\d+: 2 connections from ${B} are authenticating already`)),
    ]);
    // Another address has places of its own.
    await silent(C, a.self.port);
    await waitFor(() => a.stats().unauthenticated === 3, 2_000, 'the connection from another address');

    // A period later, the next refusal is logged again, with the count of those that were not.
    const now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now + REFUSAL_LOG_PERIOD);
    await whenClosed(await silent(B, a.self.port));
    expect(warnings(logger, /maxUnauthenticatedPerAddress/)).toHaveLength(2);
    expect(warnings(logger, /maxUnauthenticatedPerAddress/)[1]).toMatch(/\(2 similar line\(s\) not logged before this one\)$/);
  });

  it('closes connections over the total limit at once, and serves again once places free up', async () => {
    const { transport: a, logger } = await cluster.start(A, {
      name: 'a@test',
      maxUnauthenticated: 3,
      maxUnauthenticatedPerAddress: 2,
      handshakeTimeout: 60_000,
    });
    const held = [await silent(B, a.self.port), await silent(B, a.self.port), await silent(C, a.self.port)];
    await waitFor(() => a.stats().unauthenticated === 3, 2_000, 'three connections to be admitted');

    await whenClosed(await silent(D, a.self.port));
    expect(a.stats().refused).toEqual({ limit: 1, addressLimit: 0, handshake: 0 });
    expect(warnings(logger, /maxUnauthenticated\)/)).toHaveLength(1);

    // A node that comes while the port is full is refused too: the limit does not tell friend from foe.
    const { transport: e } = await cluster.start(E, { name: 'e@test' });
    await expect(e.connect(A, a.self.port)).rejects.toBeDefined();

    for (const socket of held) socket.destroy();
    await waitFor(() => a.stats().unauthenticated === 0, 2_000, 'the places to free up');
    await expect(e.connect(A, a.self.port)).resolves.toMatchObject({ peer: { name: 'a@test' } });
  });

  it('does not count linked peers: more peers than the limit link, one after another', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test', maxUnauthenticated: 1, maxUnauthenticatedPerAddress: 1 });
    for (const [host, name] of [[B, 'b@test'], [C, 'c@test'], [D, 'd@test']]) {
      const { transport } = await cluster.start(host, { name });
      await transport.connect(A, a.self.port);
    }
    expect(a.links()).toHaveLength(3);
    expect(a.stats()).toMatchObject({ unauthenticated: 0, refused: { limit: 0, addressLimit: 0 } });
  });

  it('frees the place of a connection closed at the handshake timeout', async () => {
    const { transport: a } = await cluster.start(A, {
      name: 'a@test',
      maxUnauthenticatedPerAddress: 1,
      handshakeTimeout: 200,
    });
    await whenClosed(await silent(B, a.self.port));
    await waitFor(() => a.stats().unauthenticated === 0, 2_000, 'the place to free up');
    expect(a.stats().refused).toEqual({ limit: 0, addressLimit: 0, handshake: 1 });
    const { transport: b } = await cluster.start(B, { name: 'b@test' });
    await expect(b.connect(A, a.self.port)).resolves.toBeDefined();
  });
});
