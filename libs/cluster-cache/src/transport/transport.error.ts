import { ClusterCacheError } from '../errors/cluster-cache.error';
/**
 * What went wrong, as a stable string for code to test:
 * - `'connect-failed'` - the TCP/TLS connection could not be established (see `cause`);
 * - `'connect-timeout'` - it took longer than `connectTimeout`;
 * - `'handshake-timeout'` - the peer did not complete the handshake within `handshakeTimeout`;
 * - `'connection-closed'` - the connection ended during the handshake;
 * - `'protocol-version'` - the peer speaks another protocol version;
 * - `'wrong-cluster'` - the peer belongs to another cluster;
 * - `'auth-failed'` - a cookie proof did not verify (the cookies differ);
 * - `'name-conflict'` - the peer uses this node's own name;
 * - `'protocol-error'` - a malformed, unexpected, empty or oversized frame;
 * - `'frame-auth-failed'` - a frame after the handshake failed authentication: forged,
 *   altered, replayed, reordered, or one before it was dropped;
 * - `'encode-failed'` - a message given to `send` cannot be serialised;
 * - `'frame-too-large'` - a message given to `send` encodes to more than `maxFrameBytes`;
 * - `'shutdown'` - the transport is closing or closed.
 */
export type TransportErrorCode =
  | 'connect-failed'
  | 'connect-timeout'
  | 'handshake-timeout'
  | 'connection-closed'
  | 'protocol-version'
  | 'wrong-cluster'
  | 'auth-failed'
  | 'name-conflict'
  | 'protocol-error'
  | 'frame-auth-failed'
  | 'encode-failed'
  | 'frame-too-large'
  | 'shutdown';

/**
 * Error raised by the transport. Network and protocol failures are logged and reported
 * through these errors; they never escape as uncaught exceptions.
 */
export class TransportError extends ClusterCacheError {
  constructor(
    /** Machine-readable failure kind. */
    readonly code: TransportErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The message of an error of any type, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Errors of a peer that is not there (yet), as opposed to one that answers but cannot be trusted. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'EPIPE']);

/** Whether a failure to link is the network's (no one there yet), not a peer that answered and was refused. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TransportError || NETWORK_ERRORS.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The transport error code of a failure, for telling failures of one kind apart. */
export function errorCode(error: unknown): string {
  return error instanceof TransportError ? error.code : 'other';
}

/** What calls on a closed transport fail with. */
export function shutdownError(): TransportError {
  return new TransportError('shutdown', 'the transport is closed');
}
