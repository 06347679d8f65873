/**
 * Defaults of the optional {@link TransportOptions}. Durations are in milliseconds.
 */
export const TRANSPORT_DEFAULTS = {
  /** Largest frame accepted or sent once the handshake is done: 16 MiB. */
  maxFrameBytes: 16 * 1024 * 1024,
  /** A ping goes out when nothing else was sent for this long. */
  heartbeatInterval: 250,
  /**
   * A link that received nothing for this long is closed as `'heartbeat-timeout'`: writes
   * waiting for a peer that went silent resolve within about this long plus one heartbeat.
   */
  deadPeerTimeout: 1_000,
  /** Longest a connection may take to authenticate (a silent peer is dropped after it). */
  handshakeTimeout: 5_000,
  /** Longest an outgoing TCP (and TLS) connection may take to establish. */
  connectTimeout: 5_000,
  /** Longest a graceful close waits for the peer to close its side before destroying the socket. */
  closeTimeout: 2_000,
} as const;

/** Version of the wire protocol, checked in the handshake. */
export const PROTOCOL_VERSION = 4;

/**
 * Frame size limit before authentication. Handshake frames are a few hundred bytes, so an
 * unauthenticated peer cannot make a node hold `maxFrameBytes` per connection.
 */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;

/** Queued bytes that trigger a flush before the end of the tick, bounding the batch size. */
export const FLUSH_THRESHOLD_BYTES = 1024 * 1024;
