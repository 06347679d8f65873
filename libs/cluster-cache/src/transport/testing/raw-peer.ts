import { connect, type Socket } from 'node:net';
import type { FrameProtection } from '../frame-cipher';
import { FramedSocket } from '../framed-socket';
import { clientHandshake, handshakeKeyFor, type HandshakeResult } from '../handshake';
import type { NodeInfo } from '../node-info';
import { HANDSHAKE_MAX_FRAME_BYTES, TRANSPORT_DEFAULTS } from '../transport.constants';

/** Opens a plain TCP socket (from `localAddress` if given), for specs that speak (or garble) the protocol by hand. */
export function openRawSocket(host: string, port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once `socket` is closed. */
export function whenClosed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A peer that authenticated by hand and then does only what the spec tells it to. */
export interface FakePeer {
  conn: FramedSocket;
  socket: Socket;
  handshake: HandshakeResult;
  /** Seals a plain frame with the link's keys, as a real node would, and writes it. */
  send(frame: Buffer): void;
}

/**
 * Connects and completes the client handshake as `self`, then stays silent: it sends no
 * heartbeats, which lets specs play a hung or crashed peer.
 */
export async function connectFakePeer(
  host: string,
  port: number,
  self: NodeInfo,
  credentials: { cluster: string; cookie: string },
  frames: FrameProtection = 'encrypted',
): Promise<FakePeer> {
  const key = await handshakeKeyFor(credentials.cookie, credentials.cluster);
  const socket = await openRawSocket(host, port);
  const conn = new FramedSocket(
    socket,
    `${host}:${port}`,
    HANDSHAKE_MAX_FRAME_BYTES,
    TRANSPORT_DEFAULTS.closeTimeout,
  );
  const handshake = await clientHandshake(conn, {
    self,
    cluster: credentials.cluster,
    key,
    timeout: TRANSPORT_DEFAULTS.handshakeTimeout,
    frames,
  });
  conn.setFrameHandler(() => undefined);
  return { conn, socket, handshake, send: (frame) => conn.write(handshake.sealer.seal(frame)) };
}
