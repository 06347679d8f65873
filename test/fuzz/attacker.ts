import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { FramedSocket } from '@app/cluster-cache/transport/framed-socket';
import { decodeHandshakePayload, FrameDecoder } from '@app/cluster-cache/transport/frame-codec';
import { clientHandshake, type HandshakeResult } from '@app/cluster-cache/transport/handshake';
import type { NodeInfo } from '@app/cluster-cache/transport/node-info';
import { HANDSHAKE_MAX_FRAME_BYTES, TRANSPORT_DEFAULTS } from '@app/cluster-cache/transport/transport.constants';
import type { PostAuthInput, PreAuthInput } from './inputs';

/**
 * The fuzzer's end of the wire: it opens connections to the cluster port
 * (from any loopback address), plays inputs on them and reports whether,
 * and how soon, the node closed them; it authenticates with the cookie when
 * it plays a member; it sends UDP packets to the gossip group.
 */

/** What became of one connection. */
export interface Outcome {
  /** The node closed the connection (FIN or reset) within the deadline. */
  closed: boolean;
  /** ms from the first byte sent (or the connect) to the close. */
  after: number;
  /** The handshake messages the node sent back, decoded (a `refused` with its reason, a `challenge`). */
  replies: unknown[];
}

/** Opens a TCP connection to `host:port` from `from`; rejects if it cannot connect. */
export function openSocket(host: string, port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress: from });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // a reset by the node is an expected end
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves true once `socket` is closed, false if it is still open after `ms`. */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Plays one input before authentication and waits (up to `deadline` ms) for
 * the node to close the connection. With `destroy` the fuzzer resets it
 * itself and does not wait.
 */
export async function playPreAuth(input: PreAuthInput, target: { host: string; port: number }, from: string, deadline: number): Promise<Outcome> {
  const socket = await openSocket(target.host, target.port, from);
  const decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES);
  const replies: unknown[] = [];
  let challenged: () => void = () => undefined;
  const challenge = new Promise<void>((resolve) => (challenged = resolve));
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const payload of decoder.push(chunk)) {
        const reply = decodeHandshakePayload(payload);
        replies.push(reply);
        if ((reply as { type?: string }).type === 'challenge') challenged();
      }
    } catch {
      // The node sends only handshake frames; anything else would show in `replies` missing.
    }
  });
  const start = Date.now();
  for (const [index, chunk] of input.chunks.entries()) {
    if (socket.closed) break;
    if (index === input.afterChallenge) await Promise.race([challenge, closedWithin(socket, 2_000)]);
    if (index > 0 && input.gap > 0) await new Promise((resolve) => setTimeout(resolve, input.gap));
    if (!socket.writable) break;
    socket.write(chunk);
  }
  if (input.finish === 'destroy') {
    socket.destroy();
    return { closed: true, after: Date.now() - start, replies };
  }
  if (input.finish === 'end' && socket.writable) socket.end();
  const closed = await closedWithin(socket, deadline);
  if (!closed) socket.destroy();
  return { closed, after: Date.now() - start, replies };
}

/** A connection the fuzzer authenticated with the cookie: it plays a member. */
export interface Member {
  socket: Socket;
  conn: FramedSocket;
  handshake: HandshakeResult;
  /** Seals a plain frame as the link's next one and returns its bytes (not written). */
  seal(frame: Buffer): Buffer;
}

/** Connects from `from` and runs the client handshake as `self`, with the cluster key of the cookie. */
export async function authenticate(target: { host: string; port: number }, from: string, self: NodeInfo, cluster: string, key: Buffer): Promise<Member> {
  const socket = await openSocket(target.host, target.port, from);
  const conn = new FramedSocket(socket, `${target.host}:${target.port}`, HANDSHAKE_MAX_FRAME_BYTES, TRANSPORT_DEFAULTS.closeTimeout);
  const handshake = await clientHandshake(conn, { self, cluster, key, timeout: TRANSPORT_DEFAULTS.handshakeTimeout, frames: 'encrypted' });
  conn.setFrameHandler(() => undefined); // what the node says is not read
  return { socket, conn, handshake, seal: (frame) => handshake.sealer.seal(frame) };
}

/** Plays one input on an authenticated link and waits (up to `deadline` ms) for the node to close it. */
export async function playPostAuth(member: Member, input: PostAuthInput, deadline: number): Promise<Outcome> {
  const start = Date.now();
  for (const frame of input.frames) {
    if (!member.socket.writable) break;
    member.socket.write(frame);
  }
  if (input.finish === 'end' && member.socket.writable) member.socket.end();
  const closed = await closedWithin(member.socket, deadline);
  if (!closed) member.socket.destroy();
  return { closed, after: Date.now() - start, replies: [] };
}

/** A UDP socket that sends to a multicast group on loopback, and hears what is sent to it. */
export async function gossipSocket(port: number, group: string, onPacket?: (packet: Buffer) => void): Promise<UdpSocket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, group, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setMulticastInterface('127.0.0.1');
  socket.setMulticastLoopback(true);
  socket.addMembership(group, '127.0.0.1');
  socket.on('error', () => undefined);
  if (onPacket) socket.on('message', (packet) => onPacket(packet));
  return socket;
}

/** Sends one packet to `group:port`; resolves once it is handed to the kernel. */
export function sendPacket(socket: UdpSocket, packet: Buffer, port: number, group: string): Promise<void> {
  return new Promise((resolve) => socket.send(packet, port, group, () => resolve()));
}
