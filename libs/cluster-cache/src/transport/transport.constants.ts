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
  /** Frames after the handshake are encrypted, not only authenticated. */
  encryptFrames: true,
  /**
   * Accepted connections that may be authenticating at once; more are closed at once. A
   * handshake takes about a millisecond, so even a large cluster restarting at once stays far below.
   */
  maxUnauthenticated: 128,
  /** The same, from one source address. */
  maxUnauthenticatedPerAddress: 16,
} as const;

/**
 * Version of the wire protocol, checked in the handshake. 5: the cluster key comes from
 * scrypt, and every frame after the handshake is sealed (ChaCha20-Poly1305, per-link keys).
 */
export const PROTOCOL_VERSION = 5;

/** Refused connections of one kind are logged at most once per this many ms, with a count of the rest. */
export const REFUSAL_LOG_PERIOD = 10_000;

/**
 * A handshake that keeps failing the same way with one address (a node whose
 * cookie differs, dialled again every second) is logged at once, then after
 * this many ms, then after doubling waits up to {@link HANDSHAKE_FAILURE_LOG_MAX}.
 */
export const HANDSHAKE_FAILURE_LOG_FIRST = 5_000;
/** The longest wait between two log lines of one failing handshake, in ms (see {@link HANDSHAKE_FAILURE_LOG_FIRST}). */
export const HANDSHAKE_FAILURE_LOG_MAX = 5 * 60_000;

/**
 * Frame size limit before authentication. Handshake frames are a few hundred bytes, so an
 * unauthenticated peer cannot make a node hold `maxFrameBytes` per connection.
 */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;

/** Queued bytes that trigger a flush before the end of the tick, bounding the batch size. */
export const FLUSH_THRESHOLD_BYTES = 1024 * 1024;
