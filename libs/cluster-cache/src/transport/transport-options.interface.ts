import type { ConnectionOptions, SecureContextOptions } from 'node:tls';
import type { TransportLogger } from './transport-logger.interface';

/**
 * TLS settings for cluster traffic. Both sides present a certificate and verify the
 * other's against `ca`; the cookie handshake still runs inside the TLS session.
 */
export interface TransportTlsOptions extends SecureContextOptions {
  /**
   * Replaces Node's check that the server certificate names the host dialled (by default
   * the certificate must carry the peer's address as a subject alternative name).
   */
  checkServerIdentity?: ConnectionOptions['checkServerIdentity'];
}

/**
 * Options of a {@link Transport}. Values are assumed valid (validated by the caller);
 * durations are in milliseconds and default to {@link TRANSPORT_DEFAULTS}.
 */
export interface TransportOptions {
  /** Cluster name; a node of another cluster is refused in the handshake. */
  cluster: string;
  /** Shared secret proved in the handshake. It never crosses the wire. */
  cookie: string | Buffer;
  /** Largest frame accepted or sent after the handshake. */
  maxFrameBytes?: number;
  /** A ping goes out when nothing else was sent for this long. */
  heartbeatInterval?: number;
  /** A link that received nothing for this long is closed as `'heartbeat-timeout'`. */
  deadPeerTimeout?: number;
  /** Longest a connection may take to authenticate. */
  handshakeTimeout?: number;
  /** Longest an outgoing connection may take to establish. */
  connectTimeout?: number;
  /** Longest a graceful close waits for the peer before destroying the socket. */
  closeTimeout?: number;
  /** Enables TLS with mutual certificate verification. */
  tls?: TransportTlsOptions;
  /**
   * Whether this node encrypts the frames it sends after the handshake (ChaCha20-Poly1305);
   * `false` only authenticates them, for links TLS encrypts already. Default true.
   */
  encryptFrames?: boolean;
  /** Accepted connections that may be authenticating at once; more are closed at once. */
  maxUnauthenticated?: number;
  /** The same, from one source address. */
  maxUnauthenticatedPerAddress?: number;
  /** Where refusals and link events are logged; defaults to `console`. */
  logger?: TransportLogger;
}

/** {@link TransportOptions} with every default applied. */
export type ResolvedTransportOptions = Required<Omit<TransportOptions, 'tls'>> &
  Pick<TransportOptions, 'tls'>;
