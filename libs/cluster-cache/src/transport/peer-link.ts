import { FRAME_TAG_BYTES, type FrameOpener, type FrameSealer } from './frame-cipher';
import { decodeAckBody, encodeAckFrame, encodeFrame, FRAME_OVERHEAD_BYTES, FrameKind, MessageCodec } from './frame-codec';
import type { FramedSocket } from './framed-socket';
import type { HandshakeResult } from './handshake';
import type { NodeInfo } from './node-info';
import type {
  AckHandler,
  LinkCloseHandler,
  LinkCloseReason,
  LinkDirection,
  MessageHandler,
  PeerLink,
} from './peer-link.interface';
import type { ResolvedTransportOptions } from './transport-options.interface';
import { LinkHandlers } from './link-handlers';
import { errorMessage, TransportError } from './transport.error';
import { transportMessages } from './transport.messages';

// Plain frames without a body, sealed on each send.
const PING_FRAME = encodeFrame(FrameKind.Ping);
const LEAVE_FRAME = encodeFrame(FrameKind.Leave);
const DUPLICATE_FRAME = encodeFrame(FrameKind.Duplicate);
const CODEC_RESET_FRAME = encodeFrame(FrameKind.CodecReset);

/** Reasons that still flush what was sent; the others drop the socket at once. */
const GRACEFUL = new Set<LinkCloseReason>(['leave', 'shutdown', 'duplicate', 'closed']);

/**
 * A {@link PeerLink} over an authenticated socket (TCP or TLS).
 *
 * Every frame is sealed with the link's keys from the handshake (see frame-cipher.ts)
 * and every frame received is opened before anything else looks at it: one that fails
 * closes the link as `'protocol-error'` ("frame authentication failed").
 *
 * Heartbeats: every `heartbeatInterval` the link sends a ping, and counts the time since
 * it last received a byte (any byte, even part of a large frame). A ping every tick, even
 * while other frames flow, keeps the peer's longest silence to one interval plus this
 * process's stalls. The count is taken after the event loop has read the sockets (an
 * immediate after the timer), so bytes that arrived during a stall of this process (GC, a
 * busy loop) count as received; and counting ticks rather than reading a clock means such
 * a stall costs at most one tick, not a false `'heartbeat-timeout'`.
 */
export class SocketPeerLink implements PeerLink {
  readonly id: string;
  readonly peer: NodeInfo;
  /** Name of the node that opened the connection; duplicate resolution uses it. */
  readonly initiator: string;

  private readonly codec: MessageCodec;
  private readonly sealer: FrameSealer;
  private readonly opener: FrameOpener;
  private readonly handlers: LinkHandlers;
  private readonly ackFrame = encodeAckFrame(0);
  private heartbeat?: NodeJS.Timeout;
  private silentFor = 0;
  private lastBytesReceived = 0;

  constructor(
    private readonly conn: FramedSocket,
    handshake: HandshakeResult,
    readonly direction: LinkDirection,
    private readonly options: ResolvedTransportOptions,
    /** Called when a frame fails authentication, for the transport's counters. */
    private readonly onForgedFrame: () => void = () => undefined,
  ) {
    this.id = handshake.id;
    this.peer = handshake.peer;
    this.initiator = handshake.initiator;
    this.sealer = handshake.sealer;
    this.opener = handshake.opener;
    this.codec = new MessageCodec(options.maxFrameBytes, FRAME_TAG_BYTES);
    this.handlers = new LinkHandlers(this.peer.name, options.logger);
    conn.maxFrameBytes = options.maxFrameBytes;
    conn.onClose((error) => this.finish(closeReasonOf(error), error));
  }

  get closeReason(): LinkCloseReason | undefined {
    return this.handlers.reason;
  }

  private get reason(): LinkCloseReason | undefined {
    return this.handlers.reason;
  }

  get bufferedBytes(): number {
    return this.conn.bufferedBytes;
  }

  /** Starts delivering frames (those that came with the handshake first) and heartbeats. */
  start(): void {
    if (this.reason) return;
    this.conn.setFrameHandler((payload) => this.receive(payload));
    // A frame that came with the handshake may have closed the link already (a peer refused at its hello).
    if (this.reason) return;
    this.heartbeat = setInterval(() => setImmediate(() => this.tick()), this.options.heartbeatInterval);
  }

  send(message: unknown): boolean {
    if (this.reason) return false;
    let frame: Buffer;
    try {
      frame = this.codec.encode(message);
    } catch (error) {
      this.write(CODEC_RESET_FRAME);
      throw error;
    }
    this.write(frame);
    return true;
  }

  sendShared(message: object): boolean {
    if (this.reason) return false;
    // Stateless: a failed encode leaves this link's encoder as it was, no reset frame needed.
    // Encoded once for every link; only the sealing is this link's.
    this.write(this.codec.encodeShared(message));
    return true;
  }

  sendAck(id: number): boolean {
    if (this.reason) return false;
    // One plain ack frame per link, rewritten each time: sealing copies it.
    this.ackFrame.writeDoubleBE(id, FRAME_OVERHEAD_BYTES);
    this.write(this.ackFrame);
    this.conn.flush();
    return true;
  }

  onAck(handler: AckHandler): () => void {
    return this.handlers.onAck(handler);
  }

  onMessage(handler: MessageHandler): () => void {
    return this.handlers.onMessage(handler);
  }

  onClose(handler: LinkCloseHandler): () => void {
    return this.handlers.onClose(handler);
  }

  close(reason: LinkCloseReason = 'closed'): void {
    if (this.reason) return;
    if (reason === 'leave' || reason === 'shutdown') this.write(LEAVE_FRAME);
    if (reason === 'duplicate') this.write(DUPLICATE_FRAME);
    this.finish(reason, undefined, true);
  }

  /** Seals a plain frame and queues it; frames are sealed in the order they go out. */
  private write(frame: Buffer): void {
    this.conn.write(this.sealer.seal(frame));
  }

  private receive(payload: Buffer): void {
    if (this.reason) return;
    let body: Buffer;
    try {
      body = this.opener.open(payload);
    } catch (error) {
      this.onForgedFrame();
      return this.finish('protocol-error', error as Error);
    }
    switch (payload[0]) {
      case FrameKind.Message:
      case FrameKind.Shared: {
        let message: unknown;
        try {
          message = payload[0] === FrameKind.Shared ? this.codec.decodeShared(body) : this.codec.decode(body);
        } catch (error) {
          return this.finish('protocol-error', error as Error);
        }
        return this.handlers.deliver(message);
      }
      case FrameKind.Ack: {
        let id: number;
        try {
          id = decodeAckBody(body);
        } catch (error) {
          return this.finish('protocol-error', error as Error);
        }
        return this.handlers.deliverAck(id);
      }
      case FrameKind.Ping:
        return;
      case FrameKind.Leave:
        return this.finish('leave');
      case FrameKind.Duplicate:
        return this.finish('duplicate');
      case FrameKind.CodecReset:
        return this.codec.resetDecoder();
      default:
        return this.finish('protocol-error', new TransportError('protocol-error', transportMessages.unexpectedFrameKind(payload[0])));
    }
  }

  private tick(): void {
    if (this.reason) return;
    const { heartbeatInterval, deadPeerTimeout } = this.options;
    if (this.conn.bytesReceived === this.lastBytesReceived) {
      this.silentFor += heartbeatInterval;
    } else {
      this.silentFor = 0;
      this.lastBytesReceived = this.conn.bytesReceived;
    }
    if (this.silentFor >= deadPeerTimeout) {
      return this.finish(
        'heartbeat-timeout',
        new Error(`nothing received for ${this.silentFor} ms`),
      );
    }
    this.write(PING_FRAME);
  }

  private finish(reason: LinkCloseReason, error?: Error, local = false): void {
    this.handlers.close(reason, () => {
      clearInterval(this.heartbeat);
      if (GRACEFUL.has(reason)) this.conn.end();
      else this.conn.destroy(error);
      this.logClose(reason, error, local);
    });
  }

  private logClose(reason: LinkCloseReason, error: Error | undefined, local: boolean): void {
    const { logger } = this.options;
    const [peer, address] = [this.peer.name, this.conn.remoteAddress];
    // The loser of a dial race (both nodes dialled at once, at start) is no news: the peer stays linked through the other connection.
    if (reason === 'duplicate') return;
    if (local) logger.debug(transportMessages.closedLink(peer, address, reason));
    else if (reason === 'leave') logger.log(transportMessages.peerLeft(peer, address));
    else logger.warn(transportMessages.linkFailed(peer, address, reason, error && errorMessage(error)));
  }
}

function closeReasonOf(error: Error | undefined): LinkCloseReason {
  if (!error) return 'closed';
  const protocol = error instanceof TransportError && (error.code === 'protocol-error' || error.code === 'frame-auth-failed');
  return protocol ? 'protocol-error' : 'socket-error';
}
