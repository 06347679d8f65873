import { pack } from 'msgpackr';
import { encodeAckFrame, encodeFrame, FRAME_OVERHEAD_BYTES, FrameKind } from './frame-codec';
import type { LinkCloseReason, PeerLink } from './peer-link.interface';
import { FrameProxy } from './testing/frame-proxy';
import { TestCluster, type TestNodeOptions } from './testing/test-cluster';
import { waitFor } from './testing/wait-for';

const A = '127.0.5.1';
const B = '127.0.5.2';
const PROXY = '127.0.5.9';

/** No pings during a spec: the frames through the proxy are the ones the spec sends. */
const QUIET: TestNodeOptions = { heartbeatInterval: 10_000, deadPeerTimeout: 30_000 };

/**
 * What an on-path attacker without the cookie can do to a live link: splice frames in,
 * alter, drop or replay the ones it sees. Each closes the link instead of being believed.
 */
describe('TcpTransport frame authentication, through a proxy that plays the attacker', () => {
  const cluster = new TestCluster();
  let proxy: FrameProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await cluster.closeAll();
  });

  /** Links b to a through the proxy; returns a's end of the link, what it received and how it closed. */
  async function linkThroughProxy(options: TestNodeOptions = {}) {
    const { transport: a, logger } = await cluster.start(A, { name: 'a@test', ...QUIET, ...options });
    const { transport: b } = await cluster.start(B, { name: 'b@test', ...QUIET, ...options });
    proxy = await FrameProxy.start(PROXY, { host: A, port: a.self.port });
    const announced = new Promise<PeerLink>((resolve) => a.onLink(resolve));
    const toA = await b.connect(PROXY, proxy.port);
    const atA = await announced;
    const received: unknown[] = [];
    atA.onMessage((message) => received.push(message));
    const closed = new Promise<LinkCloseReason>((resolve) => atA.onClose(resolve));
    return { a, logger, toA, atA, received, closed, proxy };
  }

  /** Sends `message` and waits until a has it, so the proxy has passed its frame. */
  async function deliver(link: PeerLink, received: unknown[], message: unknown): Promise<void> {
    const before = received.length;
    link.send(message);
    await waitFor(() => received.length > before, 5_000, 'the message');
  }

  it('closes the link on a forged message spliced into the stream, and never delivers it', async () => {
    const { a, logger, toA, received, closed, proxy } = await linkThroughProxy();
    await deliver(toA, received, 'before');

    // A write as the attacker would forge it: a frame that needs no encoder state.
    proxy.inject(encodeFrame(FrameKind.Shared, pack({ type: 'put', key: 'session:forged', value: { user: 'mallory' } })));

    expect(await closed).toBe('protocol-error');
    expect(received).toEqual(['before']);
    expect(logger.has('warn', /Link to b@test \(.*\) failed: protocol-error \(frame authentication failed: frame 1 /)).toBe(true);
    expect(a.stats().forgedFrames).toBe(1);
  });

  it('takes a forged leave frame as a failure, not as a graceful leave', async () => {
    const { closed, proxy } = await linkThroughProxy();
    proxy.inject(encodeFrame(FrameKind.Leave));
    expect(await closed).toBe('protocol-error');
  });

  it.each([
    ['an ack', encodeAckFrame(7)],
    ['a ping', encodeFrame(FrameKind.Ping)],
  ])('authenticates %s too', async (_, frame) => {
    const { atA, closed, proxy } = await linkThroughProxy();
    const acks: number[] = [];
    atA.onAck((id) => acks.push(id));
    proxy.inject(frame);
    expect(await closed).toBe('protocol-error');
    expect(acks).toEqual([]);
  });

  it('closes the link when a byte of a frame is altered on the way', async () => {
    const { toA, received, closed, proxy } = await linkThroughProxy();
    proxy.tamperNext(({ bytes }) => {
      const altered = Buffer.from(bytes);
      altered[FRAME_OVERHEAD_BYTES + 3] ^= 0x01; // inside the text of the message
      return altered;
    });
    toA.send('transfer 100 to alice');
    expect(await closed).toBe('protocol-error');
    expect(received).toEqual([]);
  });

  it('closes the link when a captured frame is replayed', async () => {
    const { a, logger, toA, received, closed, proxy } = await linkThroughProxy();
    await deliver(toA, received, 'sign out everywhere');
    const captured = proxy.fromClient.at(-1)!;

    proxy.inject(captured.bytes);

    expect(await closed).toBe('protocol-error');
    expect(received).toEqual(['sign out everywhere']);
    expect(logger.has('warn', /frame authentication failed: .*replayed, reordered, or one before it was dropped/)).toBe(true);
    expect(a.stats().forgedFrames).toBe(1);
  });

  it('closes the link when a frame is dropped on the way (the next one fails)', async () => {
    const { toA, received, closed, proxy } = await linkThroughProxy();
    proxy.tamperNext(() => undefined);
    toA.send('revoke session 1');
    await proxy.framesFromClient(proxy.fromClient.length + 1);
    toA.send('create session 2');
    expect(await closed).toBe('protocol-error');
    expect(received).toEqual([]);
  });

  it('closes the link when two frames arrive swapped', async () => {
    const { toA, received, closed, proxy } = await linkThroughProxy();
    let held: Buffer | undefined;
    proxy.tamperNext(({ bytes }) => {
      held = bytes;
      return undefined;
    });
    proxy.tamperNext(({ bytes }) => Buffer.concat([bytes, held!]));
    toA.send('first');
    toA.send('second');
    expect(await closed).toBe('protocol-error');
    expect(received).toEqual([]);
  });

  it('encrypts frames by default: the text of a message does not cross the wire', async () => {
    const { toA, received, proxy } = await linkThroughProxy();
    await deliver(toA, received, 'user-42 session 5f1c0ffee');
    expect(Buffer.concat(proxy.wire).includes('5f1c0ffee')).toBe(false);
  });

  it('still authenticates every frame when encryption is off', async () => {
    const { toA, received, closed, proxy } = await linkThroughProxy({ encryptFrames: false });
    await deliver(toA, received, 'user-42 session 5f1c0ffee');
    expect(Buffer.concat(proxy.wire).includes('5f1c0ffee')).toBe(true);

    proxy.inject(encodeFrame(FrameKind.Leave));
    expect(await closed).toBe('protocol-error');
  });
});
