import { Socket } from 'node:net';
import { FrameSealer } from './frame-cipher';
import { encodeFrame, FrameKind } from './frame-codec';
import { createNodeInfo } from './node-info';
import type { LinkCloseReason, PeerLink } from './peer-link.interface';
import type { TcpTransport } from './tcp.transport';
import { connectFakePeer, type FakePeer } from './testing/raw-peer';
import { TEST_CREDENTIALS, TestCluster } from './testing/test-cluster';
import { waitFor } from './testing/wait-for';

const A = '127.0.2.1';
const B = '127.0.2.2';
const FAKE = '127.0.2.9';

describe('SocketPeerLink', () => {
  const cluster = new TestCluster();
  const fakes: FakePeer[] = [];
  afterEach(async () => {
    for (const fake of fakes.splice(0)) fake.socket.destroy();
    await cluster.closeAll();
  });

  /** Links a fake peer to `transport`; resolves the link as `transport` sees it. */
  async function linkFakePeer(transport: TcpTransport): Promise<{ fake: FakePeer; link: PeerLink }> {
    const announced = new Promise<PeerLink>((resolve) => transport.onLink(resolve));
    const fake = await connectFakePeer(A, transport.self.port, createNodeInfo('fake@test', FAKE, 1), TEST_CREDENTIALS);
    fakes.push(fake);
    return { fake, link: await announced };
  }

  function closeReason(link: PeerLink): Promise<LinkCloseReason> {
    return new Promise((resolve) => link.onClose(resolve));
  }

  describe('heartbeats', () => {
    it('closes a link to a peer that stopped sending as heartbeat-timeout', async () => {
      const { transport, logger } = await cluster.start(A, { heartbeatInterval: 20, deadPeerTimeout: 100 });
      // The fake peer completed the handshake and then sends nothing, not even pings.
      const { link, fake } = await linkFakePeer(transport);

      expect(await closeReason(link)).toBe('heartbeat-timeout');
      expect(transport.links()).toEqual([]);
      expect(logger.has('warn', /fake@test .* failed: heartbeat-timeout/)).toBe(true);
      await waitFor(() => fake.socket.destroyed, 2_000, 'the socket to close');
    });

    it('drops a silent peer within 1.5 s with the default timing (writes waiting for it are released then)', async () => {
      const { transport } = await cluster.start(A);
      const { link } = await linkFakePeer(transport);
      const since = Date.now();
      expect(await closeReason(link)).toBe('heartbeat-timeout');
      // deadPeerTimeout (1 s) + at most one heartbeat (250 ms); the old defaults took 5–6 s.
      expect(Date.now() - since).toBeLessThan(1_500);
    });

    it('keeps an idle link open by sending pings', async () => {
      const options = { heartbeatInterval: 10, deadPeerTimeout: 50 };
      const { transport: a } = await cluster.start(A, { ...options, name: 'a@test' });
      const { transport: b } = await cluster.start(B, { ...options, name: 'b@test' });
      const link = await b.connect(A, a.self.port);
      const writes = jest.spyOn(Socket.prototype, 'write');
      try {
        // Many pings each way, so far longer than deadPeerTimeout with nothing else sent.
        await waitFor(() => writes.mock.calls.length >= 40, 5_000, 'pings');
      } finally {
        writes.mockRestore();
      }
      expect(link.closeReason).toBeUndefined();
      expect(a.links()).toHaveLength(1);
    });

    it('keeps pings away from message handlers', async () => {
      const options = { heartbeatInterval: 10, deadPeerTimeout: 50 };
      const { transport: a } = await cluster.start(A, { ...options, name: 'a@test' });
      const { transport: b } = await cluster.start(B, { ...options, name: 'b@test' });
      const received: unknown[] = [];
      a.onLink((link) => link.onMessage((message) => received.push(message)));
      const link = await b.connect(A, a.self.port);
      const writes = jest.spyOn(Socket.prototype, 'write');
      try {
        await waitFor(() => writes.mock.calls.length >= 20, 5_000, 'pings');
      } finally {
        writes.mockRestore();
      }
      link.send('only this');
      await waitFor(() => received.length > 0);
      expect(received).toEqual(['only this']);
    });
  });

  describe('close reasons', () => {
    it('sees a peer that drops its socket as closed, not leave', async () => {
      const { transport } = await cluster.start(A);
      const { link, fake } = await linkFakePeer(transport);
      fake.socket.destroy();
      expect(await closeReason(link)).toBe('closed');
    });

    it('sees a reset connection as socket-error', async () => {
      const { transport } = await cluster.start(A);
      const { link, fake } = await linkFakePeer(transport);
      fake.socket.resetAndDestroy();
      expect(await closeReason(link)).toBe('socket-error');
    });

    it('sees a leave frame as leave', async () => {
      const { transport } = await cluster.start(A);
      const { link, fake } = await linkFakePeer(transport);
      fake.send(encodeFrame(FrameKind.Leave));
      expect(await closeReason(link)).toBe('leave');
    });

    it('closes on a malformed message as protocol-error and keeps serving', async () => {
      const { transport, logger } = await cluster.start(A, { name: 'a@test' });
      const { link, fake } = await linkFakePeer(transport);
      fake.send(encodeFrame(FrameKind.Message, Buffer.from([0xc1, 0xc1, 0xc1])));
      expect(await closeReason(link)).toBe('protocol-error');
      expect(logger.has('warn', /fake@test .* failed: protocol-error/)).toBe(true);

      const { transport: b } = await cluster.start(B, { name: 'b@test' });
      await expect(b.connect(A, transport.self.port)).resolves.toBeDefined();
    });

    it('closes on an unknown frame kind as protocol-error', async () => {
      const { transport } = await cluster.start(A);
      const { link, fake } = await linkFakePeer(transport);
      fake.send(encodeFrame(99 as FrameKind));
      expect(await closeReason(link)).toBe('protocol-error');
    });

    it('closes on a frame header above maxFrameBytes as protocol-error', async () => {
      const { transport, logger } = await cluster.start(A, { maxFrameBytes: 1024 });
      const { link, fake } = await linkFakePeer(transport);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(1025, 0);
      fake.socket.write(header);
      expect(await closeReason(link)).toBe('protocol-error');
      expect(logger.has('warn', /1025 bytes exceeds the 1024-byte limit/)).toBe(true);
    });

    it('closes on an ack frame of the wrong size as protocol-error', async () => {
      const { transport } = await cluster.start(A);
      const { link, fake } = await linkFakePeer(transport);
      fake.send(encodeFrame(FrameKind.Ack, Buffer.alloc(4)));
      expect(await closeReason(link)).toBe('protocol-error');
    });

    it('reports the reason given to close() locally', async () => {
      const { transport } = await cluster.start(A);
      const { link } = await linkFakePeer(transport);
      const reason = closeReason(link);
      link.close('ack-timeout');
      expect(await reason).toBe('ack-timeout');
      expect(link.closeReason).toBe('ack-timeout');
      expect(await closeReason(link)).toBe('ack-timeout'); // a late handler still hears it
    });
  });

  describe('send', () => {
    async function linkedPair() {
      const { transport: a } = await cluster.start(A, { name: 'a@test' });
      const { transport: b } = await cluster.start(B, { name: 'b@test' });
      const received: unknown[] = [];
      a.onLink((link) => link.onMessage((message) => received.push(message)));
      return { link: await b.connect(A, a.self.port), received };
    }

    it('encodes a shared message once for every link, and seals it for each', async () => {
      const { transport: a } = await cluster.start(A, { name: 'a@test' });
      const received: Array<[string, unknown]> = [];
      const links: PeerLink[] = [];
      for (const [host, name] of [[B, 'b@test'], [FAKE, 'c@test']]) {
        const { transport } = await cluster.start(host, { name });
        transport.onLink((link) => link.onMessage((message) => received.push([name, message])));
        links.push(await a.connect(host, transport.self.port));
      }
      const seals = jest.spyOn(FrameSealer.prototype, 'seal');
      const write = Object.freeze({ type: 'put', key: 'session:1', value: { user: 42 } });
      try {
        for (const link of links) link.sendShared(write);
        // Two seals of one and the same encoding.
        expect(seals).toHaveBeenCalledTimes(2);
        expect(seals.mock.calls[1][0]).toBe(seals.mock.calls[0][0]);
      } finally {
        seals.mockRestore();
      }
      await waitFor(() => received.length === 2);
      expect(received.sort()).toEqual([['b@test', write], ['c@test', write]]);
    });

    it('returns false once the link is closed', async () => {
      const { link } = await linkedPair();
      link.close();
      expect(link.send('dropped')).toBe(false);
    });

    it('throws for a message it cannot encode and keeps the link usable', async () => {
      const { link, received } = await linkedPair();
      link.send({ id: 1, n: 1 });
      expect(() => link.send({ id: 2, n: 2n ** 100n })).toThrow(expect.objectContaining({ code: 'encode-failed' }));
      // Same shape as the failed message: decodes only if both codecs restarted together.
      link.send({ id: 3, n: 3 });
      link.send({ id: 4, n: 4 });
      await waitFor(() => received.length === 3);
      expect(received).toEqual([{ id: 1, n: 1 }, { id: 3, n: 3 }, { id: 4, n: 4 }]);
      expect(link.closeReason).toBeUndefined();
    });

    it('throws for a message above maxFrameBytes without sending it', async () => {
      const { transport: a } = await cluster.start(A, { name: 'a@test', maxFrameBytes: 1024 });
      const { transport: b } = await cluster.start(B, { name: 'b@test', maxFrameBytes: 1024 });
      const received: unknown[] = [];
      a.onLink((link) => link.onMessage((message) => received.push(message)));
      const link = await b.connect(A, a.self.port);
      expect(() => link.send({ blob: Buffer.alloc(2048) })).toThrow(
        expect.objectContaining({ code: 'frame-too-large' }),
      );
      link.send({ blob: Buffer.alloc(16) });
      await waitFor(() => received.length === 1);
      expect(received).toEqual([{ blob: Buffer.alloc(16) }]);
    });

    it('keeps delivering when a message handler throws', async () => {
      const { transport: a, logger } = await cluster.start(A, { name: 'a@test' });
      const { transport: b } = await cluster.start(B, { name: 'b@test' });
      const received: unknown[] = [];
      a.onLink((link) => {
        link.onMessage(() => {
          throw new Error('handler bug');
        });
        link.onMessage((message) => received.push(message));
      });
      const link = await b.connect(A, a.self.port);
      link.send(1);
      link.send(2);
      await waitFor(() => received.length === 2);
      expect(logger.has('error', /handler bug/)).toBe(true);
      expect(link.closeReason).toBeUndefined();
    });

    it('delivers acks to ack handlers, in order with messages, and not to message handlers', async () => {
      const { transport: a } = await cluster.start(A, { name: 'a@test' });
      const { transport: b } = await cluster.start(B, { name: 'b@test' });
      const received: unknown[] = [];
      a.onLink((link) => {
        link.onMessage((message) => received.push(message));
        link.onAck((id) => received.push(`ack ${id}`));
      });
      const link = await b.connect(A, a.self.port);
      link.send('first');
      expect(link.sendAck(2 ** 40 + 1)).toBe(true);
      link.send('last');
      await waitFor(() => received.length === 3);
      expect(received).toEqual(['first', `ack ${2 ** 40 + 1}`, 'last']);
    });

    it('writes an ack out at once, with what was queued before it', async () => {
      const { link } = await linkedPair();
      link.send({ blob: Buffer.alloc(10_000) });
      expect(link.bufferedBytes).toBeGreaterThan(10_000);
      link.sendAck(1);
      // Handed to the socket now, not at the end of the tick (loopback takes it whole).
      expect(link.bufferedBytes).toBeLessThan(10_000);
      link.close();
      expect(link.sendAck(2)).toBe(false);
    });

    it('shows queued bytes in bufferedBytes until they are flushed', async () => {
      const { link } = await linkedPair();
      link.send({ blob: Buffer.alloc(10_000) });
      expect(link.bufferedBytes).toBeGreaterThan(10_000);
      await waitFor(() => link.bufferedBytes === 0);
    });
  });
});
