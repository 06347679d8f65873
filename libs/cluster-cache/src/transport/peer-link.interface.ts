import type { NodeInfo } from './node-info';

/**
 * Why a link closed:
 * - `'leave'` - the peer announced a graceful shutdown (not a failure);
 * - `'shutdown'` - this node's transport is closing;
 * - `'duplicate'` - another connection to the same peer won the tie-break; that link
 *   already exists or is about to be announced through {@link Transport.onLink};
 * - `'replaced'` - the peer restarted: a connection from its new incarnation took over;
 * - `'heartbeat-timeout'` - nothing was received for `deadPeerTimeout`;
 * - `'protocol-error'` - the peer sent a malformed, unexpected or oversized frame;
 * - `'socket-error'` - the connection failed (reset, broken pipe, TLS error, ...);
 * - `'ack-timeout'` - closed by this node because the peer did not acknowledge in time;
 * - `'closed'` - the connection ended without a `leave`: the peer crashed or dropped the
 *   link, or {@link PeerLink.close} was called without a reason.
 *
 * Everything but `'leave'`, `'shutdown'` and `'duplicate'` means the peer may have missed
 * messages and should be treated as failed.
 */
export type LinkCloseReason =
  | 'leave'
  | 'shutdown'
  | 'duplicate'
  | 'replaced'
  | 'heartbeat-timeout'
  | 'protocol-error'
  | 'socket-error'
  | 'ack-timeout'
  | 'closed';

/** `'outbound'` when this node opened the connection, `'inbound'` when the peer did. */
export type LinkDirection = 'inbound' | 'outbound';

/** Receives each message from the peer, in the order it was sent. */
export type MessageHandler = (message: unknown) => void;

/** Receives the id of each ack from the peer, in the order sent. */
export type AckHandler = (id: number) => void;

/** Receives the reason a link closed, once. */
export type LinkCloseHandler = (reason: LinkCloseReason) => void;

/**
 * An authenticated, ordered connection to one peer.
 *
 * Messages are any msgpack-serialisable values (objects, arrays, strings, numbers,
 * Buffers, Maps, Dates...). Each arrives as a copy, in the order sent, until the link
 * closes; a message sent on a link that then closes may or may not have arrived.
 */
export interface PeerLink {
  /** Identifier of the underlying connection, the same on both ends. */
  readonly id: string;
  /** The authenticated peer. */
  readonly peer: NodeInfo;
  /** Which side opened the connection. */
  readonly direction: LinkDirection;
  /** Why the link closed; `undefined` while it is open. */
  readonly closeReason: LinkCloseReason | undefined;
  /**
   * Bytes sent but not yet handed to the network. Senders of bulk data (e.g. a table
   * copy) should pause while this is high; nothing else limits it.
   */
  readonly bufferedBytes: number;

  /**
   * Encodes `message` now and queues it; the messages of one tick go out in one write.
   *
   * @returns `false` if the link is closed and the message was dropped.
   * @throws TransportError `'encode-failed'` or `'frame-too-large'` when the message
   * cannot be sent; the link stays usable.
   */
  send(message: unknown): boolean;

  /**
   * Like {@link send}, for a message object sent unchanged to several peers (a
   * write): it is encoded once, for all links, without this link's record
   * structures.
   *
   * @returns `false` if the link is closed and the message was dropped.
   * @throws TransportError `'encode-failed'` or `'frame-too-large'`; the link stays usable.
   */
  sendShared(message: object): boolean;

  /**
   * Acknowledges the peer's messages up to `id` (an id the peer's messages
   * carry; acks are cumulative). An ack is a small frame of its own, written out
   * at once with what was sent before it, not at the end of the tick: the peer
   * may be waiting for it while this node still has work queued.
   *
   * @returns `false` if the link is closed and the ack was dropped.
   */
  sendAck(id: number): boolean;

  /** Registers a handler for the peer's acks, in order; returns its unsubscribe function. */
  onAck(handler: AckHandler): () => void;

  /**
   * Registers a handler for incoming messages; returns its unsubscribe function.
   * Register it when the link is announced ({@link Transport.onLink}) to miss nothing.
   * A handler that throws is logged and does not affect the link.
   */
  onMessage(handler: MessageHandler): () => void;

  /**
   * Registers a handler called once when the link closes (asynchronously if it already
   * has); returns its unsubscribe function.
   */
  onClose(handler: LinkCloseHandler): () => void;

  /**
   * Closes the link (default reason `'closed'`). Messages already sent are flushed first
   * unless `reason` is a failure (`'heartbeat-timeout'`, `'protocol-error'`,
   * `'socket-error'`, `'ack-timeout'`, `'replaced'`). The peer sees `'leave'` for `'leave'`
   * and `'shutdown'`, `'duplicate'` for `'duplicate'`, and `'closed'` otherwise.
   */
  close(reason?: LinkCloseReason): void;
}
