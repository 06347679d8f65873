import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { FramedSocket } from './framed-socket';
import { encodeFrame, encodeHandshakeFrame, FrameKind, decodeHandshakePayload } from './frame-codec';
import { createNodeInfo } from './node-info';
import type { TcpTransport } from './tcp.transport';
import { HANDSHAKE_MAX_FRAME_BYTES, PROTOCOL_VERSION } from './transport.constants';
import { openRawSocket, whenClosed } from './testing/raw-peer';
import { TEST_CREDENTIALS, TestCluster } from './testing/test-cluster';
import { waitFor } from './testing/wait-for';

const A = '127.0.3.1';
const B = '127.0.3.2';
const C = '127.0.3.3';

describe('TcpTransport refusals', () => {
  const cluster = new TestCluster();
  afterEach(() => cluster.closeAll());

  /** A peer with the same cookie can still link to `transport`, and `transport` to it. */
  async function stillServes(transport: TcpTransport, cookie = TEST_CREDENTIALS.cookie): Promise<void> {
    const { transport: c } = await cluster.start(C, { name: 'c@test', cookie });
    const link = await c.connect(transport.self.host, transport.self.port);
    expect(link.peer.name).toBe(transport.self.name);
    link.close();
    await waitFor(() => transport.links().length === 0);
    await expect(transport.connect(C, c.self.port)).resolves.toMatchObject({ peer: { name: 'c@test' } });
  }

  /** Runs the first handshake step by hand: the server's answer to `hello`. */
  async function sendHello(port: number, hello: object): Promise<{ reply: unknown; conn: FramedSocket }> {
    const socket = await openRawSocket(A, port);
    const conn = new FramedSocket(socket, `${A}:${port}`, HANDSHAKE_MAX_FRAME_BYTES, 1_000);
    conn.write(encodeHandshakeFrame(hello));
    return { reply: decodeHandshakePayload(await conn.read()), conn };
  }

  const hello = (overrides: object = {}) => ({
    type: 'hello',
    proto: PROTOCOL_VERSION,
    cluster: 'test',
    node: createNodeInfo('raw@test', B, 1),
    nonce: randomBytes(32),
    frames: 'encrypted',
    ...overrides,
  });

  describe('cookie', () => {
    it('refuses a client with the wrong cookie, logs on both sides and keeps serving', async () => {
      const { transport: a, logger: aLog } = await cluster.start(A, { name: 'a@test' });
      const { transport: b, logger: bLog } = await cluster.start(B, { name: 'b@test', cookie: 'wrong' });

      await expect(b.connect(A, a.self.port)).rejects.toMatchObject({ code: 'auth-failed' });

      expect(bLog.has('warn', new RegExp(`Handshake with ${A}:\\d+ failed: a@test could not prove`))).toBe(true);
      await waitFor(() => aLog.has('warn', /Refused connection from 127\.0\.\d+\.\d+:\d+: .*cookies differ/));
      expect(a.links()).toEqual([]);
      expect(b.links()).toEqual([]);
      await stillServes(a);
      await stillServes(b, 'wrong');
    });

    it('refuses a server with the wrong cookie, logs on both sides and keeps serving', async () => {
      const { transport: a, logger: aLog } = await cluster.start(A, { name: 'a@test', cookie: 'wrong' });
      const { transport: b, logger: bLog } = await cluster.start(B, { name: 'b@test' });

      await expect(b.connect(A, a.self.port)).rejects.toMatchObject({ code: 'auth-failed' });

      expect(bLog.has('warn', /Handshake with .* failed: a@test could not prove it holds the cluster cookie/)).toBe(true);
      await waitFor(() => aLog.has('warn', /Refused connection from .*cookies differ/));
      await stillServes(a, 'wrong');
      await stillServes(b);
    });

    it('says a cookie mismatch less and less often (not on every dial), and what to do about it', async () => {
      const { transport: a, logger: aLog } = await cluster.start(A, { name: 'a@test' });
      const { transport: b, logger: bLog } = await cluster.start(B, { name: 'b@test', cookie: 'another cookie of 16+ chars' });
      // b dials a once a second for a minute (a member's probe), on a clock the spec moves.
      let now = Date.now();
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
      try {
        for (let second = 0; second < 60; second++) {
          now += 1_000;
          await expect(b.connect(A, a.self.port)).rejects.toMatchObject({ code: 'auth-failed' });
          await waitFor(() => a.stats().refused.handshake === second + 1);
        }
      } finally {
        clock.mockRestore();
      }
      const failed = bLog.lines.filter((l) => l.level === 'warn' && l.message.startsWith('Handshake with'));
      // At once, then 5, 15 and 35 s later (doubling waits), instead of 60 lines.
      expect(failed).toHaveLength(4);
      expect(failed[0].message).toMatch(new RegExp(`^Handshake with ${A}:\\d+ failed: a@test could not prove it holds the cluster cookie: the cookies differ; every node of a cluster needs the same cookie$`));
      expect(failed[1].message).toMatch(/\(4 more time\(s\) since the last line like this; the next in 10 s at the earliest\)$/);
      expect(failed[3].message).toMatch(/\(19 more time\(s\) since the last line like this; the next in 40 s at the earliest\)$/);
      // The node dialled backs off too, by host (each dial comes from another port), within its one line per 10 s of refusals.
      const refused = aLog.lines.filter((l) => l.level === 'warn' && l.message.startsWith('Refused connection from'));
      expect(refused.map((l) => l.message.replace(/:\d+:/, ':<port>:'))).toEqual([
        `Refused connection from ${B}:<port>: the peer refused the handshake: the cookies differ`,
        `Refused connection from ${B}:<port>: the peer refused the handshake: the cookies differ (9 more time(s) since the last line like this; the next in 20 s at the earliest) (1 similar line(s) not logged before this one)`,
        `Refused connection from ${B}:<port>: the peer refused the handshake: the cookies differ (19 more time(s) since the last line like this; the next in 40 s at the earliest)`,
      ]);
      expect(a.stats().refused.handshake).toBe(60);
    });

    it('refuses a client whose proof is wrong', async () => {
      const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
      const { conn } = await sendHello(a.self.port, hello());
      conn.write(encodeHandshakeFrame({ type: 'proof', proof: randomBytes(32) }));

      expect(decodeHandshakePayload(await conn.read())).toEqual({ type: 'refused', reason: 'auth-failed' });
      await conn.closed;
      expect(logger.has('warn', /Refused connection from .*raw@test could not prove/)).toBe(true);
      await stillServes(a);
    });
  });

  it('refuses a node of another cluster', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test', cluster: 'other' });

    await expect(b.connect(A, a.self.port)).rejects.toMatchObject({ code: 'wrong-cluster' });
    await waitFor(() => logger.has('warn', /Refused connection from .*b@test belongs to cluster 'other'/));
    await stillServes(a);
  });

  it('refuses another protocol version', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
    const other = PROTOCOL_VERSION + 1;
    const { reply, conn } = await sendHello(a.self.port, hello({ proto: other, nonce: 'another shape' }));

    expect(reply).toEqual({ type: 'refused', reason: 'protocol-version' });
    await conn.closed;
    expect(logger.has('warn', new RegExp(`peer speaks protocol ${other}, not ${PROTOCOL_VERSION}`))).toBe(true);
  });

  it('refuses a node that uses its own name', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: twin } = await cluster.start(B, { name: 'a@test' });
    await expect(twin.connect(A, a.self.port)).rejects.toMatchObject({ code: 'name-conflict' });
  });

  it('refuses a message frame before the handshake', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
    const socket = await openRawSocket(A, a.self.port);
    const conn = new FramedSocket(socket, 'a', HANDSHAKE_MAX_FRAME_BYTES, 1_000);
    conn.write(encodeFrame(FrameKind.Message, Buffer.from([0x01])));

    expect(decodeHandshakePayload(await conn.read())).toEqual({ type: 'refused', reason: 'protocol-error' });
    await conn.closed;
    expect(logger.has('warn', /expected a handshake frame/)).toBe(true);
    expect(a.links()).toEqual([]);
  });

  it('closes a socket that sends random bytes and keeps serving', async () => {
    // A short timeout too, in case the random header announces a small frame and waits.
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', handshakeTimeout: 300 });
    const socket = await openRawSocket(A, a.self.port);
    socket.on('error', () => undefined); // the server may reset the connection
    const from = `${socket.localAddress}:${socket.localPort}`;
    socket.write(randomBytes(4096));

    await whenClosed(socket);
    await waitFor(() => logger.has('warn', new RegExp(`Refused connection from ${from}: `)));
    await stillServes(a);
  });

  it('closes a socket that sends an empty frame, with a message that says so', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
    const socket = await openRawSocket(A, a.self.port);
    socket.on('error', () => undefined);
    socket.write(Buffer.alloc(4)); // a header announcing 0 bytes: not even a kind byte

    await whenClosed(socket);
    await waitFor(() => logger.has('warn', /Refused connection from .*: empty frame \(length 0\): every frame holds at least its kind byte/));
    expect(logger.has('warn', /Cannot read properties/)).toBe(false);
    await stillServes(a);
  });

  describe('strings a peer chose, in logs', () => {
    const forged = 'evil@x\nLinked to evil@10.0.0.66 at 10.0.0.66:14000 (inbound)\u001b[2J';

    /** No line of `logger` holds a raw control character. */
    const clean = (logger: { lines: Array<{ message: string }> }) =>
      logger.lines.every((line) => !/[\u0000-\u001f\u007f-\u009f]/.test(line.message));

    it('refuses a node name with a newline or ESC, and logs it escaped on one line', async () => {
      const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
      const { reply, conn } = await sendHello(a.self.port, hello({ node: createNodeInfo(forged, B, 1) }));

      expect(reply).toEqual({ type: 'refused', reason: 'protocol-error' });
      await conn.closed;
      await waitFor(() => logger.has('warn', /Refused connection from/));
      expect(clean(logger)).toBe(true);
      expect(logger.has('warn', /node name "evil@x\\nLinked to evil@10\.0\.0\.66 .*\\x1b\[2J" holds control characters/)).toBe(true);
      expect(logger.has('log', /^Linked to evil/)).toBe(false);
    });

    it('logs another cluster name escaped', async () => {
      const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
      const { conn } = await sendHello(a.self.port, hello({ cluster: `other\n${forged}` }));
      await conn.closed;
      await waitFor(() => logger.has('warn', /belongs to cluster 'other\\nevil@x\\nLinked/));
      expect(clean(logger)).toBe(true);
    });

    it('refuses a server whose name holds control characters, and logs it escaped', async () => {
      const { transport: b, logger } = await cluster.start(B, { name: 'b@test' });
      const { transport: evil } = await cluster.start(A, { name: forged });
      await expect(b.connect(A, evil.self.port)).rejects.toMatchObject({ code: 'protocol-error' });
      expect(clean(logger)).toBe(true);
      expect(logger.has('warn', /Handshake with .* failed: the peer's node name "evil@x\\nLinked/)).toBe(true);
    });
  });

  it('logs refused connections once per period and counts every one', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
    for (let i = 0; i < 5; i++) {
      const { conn } = await sendHello(a.self.port, hello({ cluster: 'other' }));
      await conn.closed;
    }
    await waitFor(() => a.stats().refused.handshake === 5);
    expect(logger.lines.filter((line) => /Refused connection/.test(line.message))).toHaveLength(1);
  });

  it('closes a socket whose frame header announces 64 MiB before any body arrives', async () => {
    // The handshake timeout is far away: the close must come from the header alone.
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', handshakeTimeout: 60_000 });
    const socket = await openRawSocket(A, a.self.port);
    socket.on('error', () => undefined);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 * 1024, 0);
    socket.write(header);

    await whenClosed(socket);
    await waitFor(() => logger.has('warn', /Refused connection from .*frame of 67108864 bytes exceeds/));
    await stillServes(a);
  });

  it('closes a socket that sends nothing after the handshake timeout', async () => {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', handshakeTimeout: 200 });
    const socket = await openRawSocket(A, a.self.port);

    await whenClosed(socket);
    await waitFor(() => logger.has('warn', /Refused connection from .*handshake not completed within 200 ms/));
    await stillServes(a);
  });

  it('gives up on a server that never answers after the handshake timeout', async () => {
    const { transport: a } = await cluster.start(A, { name: 'a@test' });
    const { transport: b } = await cluster.start(B, { name: 'b@test', handshakeTimeout: 200 });
    // A raw server: accepts the connection and stays silent.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, C, resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      await expect(b.connect(C, port)).rejects.toMatchObject({ code: 'handshake-timeout' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    await expect(b.connect(A, a.self.port)).resolves.toBeDefined();
  });
});
