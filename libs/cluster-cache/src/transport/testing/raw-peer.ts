import { connect, type Socket } from 'node:net';
import { FramedSocket } from '../framed-socket';
import { clientHandshake, deriveHandshakeKey, type HandshakeResult } from '../handshake';
import type { NodeInfo } from '../node-info';
import { HANDSHAKE_MAX_FRAME_BYTES, TRANSPORT_DEFAULTS } from '../transport.constants';

/** Opens a plain TCP socket, for specs that speak (or garble) the protocol by hand. */
export function openRawSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => resolve(socket));
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
): Promise<FakePeer> {
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
    key: deriveHandshakeKey(credentials.cookie, credentials.cluster),
    timeout: TRANSPORT_DEFAULTS.handshakeTimeout,
  });
  conn.setFrameHandler(() => undefined);
  return { conn, socket, handshake };
}
