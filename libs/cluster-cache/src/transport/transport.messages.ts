import { logSafe } from '../util/log-safe';
import { PROTOCOL_VERSION } from './transport.constants';

/** Longest node name the handshake accepts, plus room for the cut mark. */
const NAME = 260;
/** Cap of an error text from outside this library (OpenSSL, msgpackr, a handler) in a log line. */
const REASON = 1_000;

/** What to do about a handshake that fails for a setting the nodes must share, by error code. */
const SETTING_HINTS: Record<string, string> = {
  'auth-failed': 'every node of a cluster needs the same cookie',
  'wrong-cluster': 'every node of a cluster needs the same cluster option',
  'name-conflict': 'every node needs its own node.name',
};

/** What to do about a handshake refused with `code` (a setting the nodes must share), if known. */
export function handshakeHint(code: string): string | undefined {
  return Object.hasOwn(SETTING_HINTS, code) ? SETTING_HINTS[code] : undefined;
}

/**
 * Text of the transport's errors and log lines, in one place. Each string a peer
 * or the network chose (node and cluster names, versions, addresses, foreign
 * error texts) goes through {@link logSafe} where it enters a message, so none
 * reaches a log raw; the messages built here are safe to quote in another.
 */
export const transportMessages = {
  // Frames
  emptyFrame: () => 'empty frame (length 0): every frame holds at least its kind byte',
  frameTooLarge: (length: number, max: number) => `frame of ${length} bytes exceeds the ${max}-byte limit`,
  messageTooLarge: (length: number, max: number) => `message of ${length} bytes exceeds the ${max}-byte frame limit`,
  frameAuthFailed: (number: number, kind: number, length: number) =>
    `frame authentication failed: frame ${number} (kind ${kind}, ${length} bytes) is forged or altered, ` +
    'or not the next one the peer sent (replayed, reordered, or one before it was dropped)',
  frameTooShortToOpen: (number: number, length: number) =>
    `frame authentication failed: frame ${number} has ${length} bytes, too few for a sealed frame`,
  unexpectedFrameKind: (kind: number) => `unexpected frame kind ${kind}`,
  ackSize: (length: number, expected: number) => `ack frame of ${length} bytes, expected ${expected}`,
  malformedMessage: (reason: string) => `malformed message: ${logSafe(reason, REASON)}`,

  // Handshake
  peerProtocol: (proto: unknown) => `peer speaks protocol ${logSafe(proto, 40)}, not ${PROTOCOL_VERSION}`,
  wrongCluster: (peer: string, cluster: string) => `${logSafe(peer, NAME)} belongs to cluster '${logSafe(cluster, NAME)}'`,
  nameConflict: (name: string) => `the peer uses this node's own name ${logSafe(name, NAME)}`,
  cookieProofFailed: (peer: string) => `${logSafe(peer, NAME)} could not prove it holds the cluster cookie: the cookies differ`,
  invalidMessage: (expected: string) => `expected a valid ${expected} message`,
  unsafeNodeInfo: (field: string, value: string) =>
    `the peer's node ${field} "${logSafe(value, NAME)}" holds control characters (shown escaped); refused, so it cannot forge log lines`,
  notHandshakeFrame: (kind: number | undefined) => `expected a handshake frame, got kind ${kind}`,
  malformedHandshake: (reason: string) => `malformed handshake frame: ${logSafe(reason, REASON)}`,
  peerRefused: (meaning: string) => `the peer refused the handshake: ${meaning}`,
  peerRefusedUnknown: () => 'the peer refused the handshake',
  handshakeTimeout: (ms: number) => `handshake not completed within ${ms} ms`,

  // Connections
  refusedConnection: (address: string, reason: string) => `Refused connection from ${logSafe(address)}: ${reason}`,
  handshakeFailed: (address: string, reason: string, code?: string) => {
    const hint = code === undefined ? undefined : handshakeHint(code);
    return `Handshake with ${logSafe(address)} failed: ${reason}${hint === undefined ? '' : `; ${hint}`}`;
  },
  tlsFailed: (address: string, reason: string) => `TLS with ${logSafe(address)} failed: ${logSafe(reason, REASON)}`,
  refusedTls: (address: string, reason: string) => `Refused TLS connection from ${logSafe(address)}: ${logSafe(reason, REASON)}`,
  tooManyUnauthenticated: (address: string, count: number) =>
    `Refused connection from ${logSafe(address)}: ${count} connections are authenticating already ` +
    '(connections.maxUnauthenticated); a place frees up as soon as one authenticates or times out',
  tooManyFromAddress: (address: string, host: string, count: number) =>
    `Refused connection from ${logSafe(address)}: ${count} connections from ${logSafe(host)} are authenticating already ` +
    '(connections.maxUnauthenticatedPerAddress)',
  acceptFailed: (address: string, reason: string) => `Accepting ${logSafe(address)} failed: ${logSafe(reason, REASON)}`,

  // Links
  linked: (peer: string, address: string, direction: string) => `Linked to ${logSafe(peer, NAME)} at ${logSafe(address)} (${direction})`,
  restarted: (peer: string, before: string, after: string) =>
    `${logSafe(peer, NAME)} restarted (incarnation ${logSafe(before, NAME)} -> ${logSafe(after, NAME)})`,
  closedLink: (peer: string, address: string, reason: string) => `Closed link to ${logSafe(peer, NAME)} (${logSafe(address)}): ${reason}`,
  peerLeft: (peer: string, address: string) => `${logSafe(peer, NAME)} (${logSafe(address)}) left the cluster`,
  linkFailed: (peer: string, address: string, reason: string, error: string | undefined) =>
    `Link to ${logSafe(peer, NAME)} (${logSafe(address)}) failed: ${reason}${error === undefined ? '' : ` (${error})`}`,
  handlerThrew: (kind: string, peer: string, error: string) => `${kind} handler for ${logSafe(peer, NAME)} threw: ${logSafe(error, REASON)}`,
} as const;
