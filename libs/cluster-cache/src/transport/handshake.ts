import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { hasUnsafeCharacters } from '../util/log-safe';
import { deriveClusterKey } from './cluster-key';
import { FRAME_KEY_BYTES, FrameOpener, type FrameProtection, FrameSealer } from './frame-cipher';
import { decodeHandshakePayload, encodeHandshakeFrame } from './frame-codec';
import type { FramedSocket } from './framed-socket';
import type { NodeInfo } from './node-info';
import { PROTOCOL_VERSION } from './transport.constants';
import { errorMessage, TransportError, type TransportErrorCode } from './transport.error';
import { transportMessages } from './transport.messages';

/*
 * Mutual challenge-response; both sides prove they hold the cookie, which never crosses
 * the wire:
 *
 *   client -> hello     { proto, cluster, node, nonce: nonceC, frames: protectionC }
 *   server -> challenge { node, nonce: nonceS, frames: protectionS,
 *                         proof: HMAC(key, 'server' | transcript) }
 *   client -> proof     { proof: HMAC(key, 'client' | transcript) }
 *   server -> welcome   {}
 *
 * The transcript binds both nonces, the cluster, both identities and both frame
 * protections, so a proof is only good for this connection and role. Either side may
 * instead send `refused { reason }` and close, so that both ends can log why.
 *
 * Every later frame is sealed with keys of this connection alone (see frame-cipher.ts):
 *
 *   keys = HKDF-SHA256(ikm: key, salt: nonceC | nonceS, info: label | SHA-256(transcript), 64)
 *   client -> server: keys[0..32)    server -> client: keys[32..64)
 *
 * so a frame spliced in by anyone without the cookie, or replayed from another
 * connection, fails authentication.
 */

const NONCE_BYTES = 32;
const PROOF_BYTES = 32;
const MAX_NAME_LENGTH = 255;
const PROTECTIONS: readonly FrameProtection[] = ['encrypted', 'authenticated'];
const LINK_KEYS_LABEL = Buffer.from('nest-cluster-cache/link-keys/v1\0');

/** What a completed handshake established. */
export interface HandshakeResult {
  /** The authenticated peer. */
  peer: NodeInfo;
  /** Identifier of this connection, the same on both ends (the client's nonce, in hex). */
  id: string;
  /** Name of the node that opened the connection. */
  initiator: string;
  /** Seals what this side sends on the link. */
  sealer: FrameSealer;
  /** Opens what the peer sends on the link. */
  opener: FrameOpener;
}

/** What a node brings to a handshake. */
export interface HandshakeContext {
  /** This node, as announced to the peer. */
  self: NodeInfo;
  /** This node's cluster name; the server refuses any other. */
  cluster: string;
  /** From {@link deriveHandshakeKey}. */
  key: Buffer;
  /** Longest the whole handshake may take, in ms. */
  timeout: number;
  /** How this side protects the frames it sends once linked (the peer chooses for its own). */
  frames: FrameProtection;
}

/**
 * The handshake's HMAC key, from the cluster key (scrypt of the cookie, see
 * {@link deriveClusterKey}) by HKDF-SHA256: the cookie itself is never a key, and
 * each use of the cluster key gets its own.
 */
export function deriveHandshakeKey(clusterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'nest-cluster-cache/handshake/v2', 32));
}

/** {@link deriveHandshakeKey} of the cluster key of `cookie` and `cluster` (scrypt, cached per process). */
export async function handshakeKeyFor(cookie: string | Buffer, cluster: string): Promise<Buffer> {
  return deriveHandshakeKey(await deriveClusterKey(cookie, cluster));
}

/**
 * Runs the client side of the handshake on a freshly connected socket.
 *
 * @throws TransportError when the peer is refused, refuses us, or the handshake times out;
 * the caller closes the socket (gracefully, so a `refused` frame still goes out).
 */
export function clientHandshake(conn: FramedSocket, ctx: HandshakeContext): Promise<HandshakeResult> {
  return withTimeout(conn, ctx.timeout, async () => {
    const clientNonce = randomBytes(NONCE_BYTES);
    conn.write(
      encodeHandshakeFrame({
        type: 'hello',
        proto: PROTOCOL_VERSION,
        cluster: ctx.cluster,
        node: ctx.self,
        nonce: clientNonce,
        frames: ctx.frames,
      }),
    );
    const challenge = await receive(conn, 'challenge', parseChallenge);
    const server = challenge.node;
    checkPrintable(conn, server);
    if (server.name === ctx.self.name) refuse(conn, 'name-conflict', transportMessages.nameConflict(server.name));
    const transcript = [
      ctx.cluster, clientNonce, challenge.nonce, ...identity(ctx.self), ...identity(server),
      ctx.frames, challenge.frames,
    ];
    if (!verify(ctx.key, 'server', transcript, challenge.proof)) {
      refuse(conn, 'auth-failed', transportMessages.cookieProofFailed(server.name));
    }
    conn.write(encodeHandshakeFrame({ type: 'proof', proof: sign(ctx.key, 'client', transcript) }));
    await receive(conn, 'welcome', (message) => message.type === 'welcome' || undefined);
    const keys = linkKeys(ctx.key, clientNonce, challenge.nonce, transcript);
    return {
      peer: server,
      id: clientNonce.toString('hex'),
      initiator: ctx.self.name,
      sealer: new FrameSealer(keys.clientToServer, ctx.frames),
      opener: new FrameOpener(keys.serverToClient, challenge.frames),
    };
  });
}

/**
 * Runs the server side of the handshake on an accepted socket.
 *
 * @throws TransportError as {@link clientHandshake} does.
 */
export function serverHandshake(conn: FramedSocket, ctx: HandshakeContext): Promise<HandshakeResult> {
  return withTimeout(conn, ctx.timeout, async () => {
    const message = await receive(conn, 'hello', (m) => (m.type === 'hello' ? m : undefined));
    // The version is checked first: another version may shape its hello differently.
    if (message.proto !== PROTOCOL_VERSION) refuse(conn, 'protocol-version', transportMessages.peerProtocol(message.proto));
    const hello = parseHello(message) ?? refuse(conn, 'protocol-error', transportMessages.invalidMessage('hello'));
    const client = hello.node;
    checkPrintable(conn, client);
    if (hello.cluster !== ctx.cluster) refuse(conn, 'wrong-cluster', transportMessages.wrongCluster(client.name, hello.cluster));
    if (client.name === ctx.self.name) refuse(conn, 'name-conflict', transportMessages.nameConflict(client.name));
    const serverNonce = randomBytes(NONCE_BYTES);
    const transcript = [
      ctx.cluster, hello.nonce, serverNonce, ...identity(client), ...identity(ctx.self),
      hello.frames, ctx.frames,
    ];
    conn.write(
      encodeHandshakeFrame({
        type: 'challenge',
        node: ctx.self,
        nonce: serverNonce,
        frames: ctx.frames,
        proof: sign(ctx.key, 'server', transcript),
      }),
    );
    const { proof } = await receive(conn, 'proof', parseProof);
    if (!verify(ctx.key, 'client', transcript, proof)) {
      refuse(conn, 'auth-failed', transportMessages.cookieProofFailed(client.name));
    }
    conn.write(encodeHandshakeFrame({ type: 'welcome' }));
    const keys = linkKeys(ctx.key, hello.nonce, serverNonce, transcript);
    return {
      peer: client,
      id: hello.nonce.toString('hex'),
      initiator: client.name,
      sealer: new FrameSealer(keys.serverToClient, ctx.frames),
      opener: new FrameOpener(keys.clientToServer, hello.frames),
    };
  });
}

/** Reasons a side may give in a `refused` message, and what they mean to the other side. */
const REFUSALS: Partial<Record<TransportErrorCode, string>> = {
  'protocol-version': 'the protocol versions differ',
  'wrong-cluster': 'the cluster names differ',
  'auth-failed': 'the cookies differ',
  'name-conflict': 'both nodes have the same name',
  'protocol-error': 'it received a malformed handshake message',
};

async function withTimeout<T>(conn: FramedSocket, ms: number, run: () => Promise<T>): Promise<T> {
  // Destroying the socket rejects the pending read, which ends `run` with this error.
  const timeout = new TransportError('handshake-timeout', transportMessages.handshakeTimeout(ms));
  const timer = setTimeout(() => conn.destroy(timeout), ms);
  try {
    return await run();
  } finally {
    clearTimeout(timer);
  }
}

/** Tells the peer why it is refused, then fails the handshake. */
function refuse(conn: FramedSocket, code: TransportErrorCode, message: string): never {
  conn.write(encodeHandshakeFrame({ type: 'refused', reason: code }));
  throw new TransportError(code, message);
}

/**
 * Next handshake message, parsed. A `refused` from the peer becomes an error; a malformed
 * or unexpected message refuses the peer.
 */
async function receive<T>(
  conn: FramedSocket,
  expected: string,
  parse: (message: Record<string, unknown>) => T | undefined,
): Promise<T> {
  const payload = await conn.read();
  let message: unknown;
  try {
    message = decodeHandshakePayload(payload);
  } catch (error) {
    refuse(conn, 'protocol-error', errorMessage(error));
  }
  if (isRecord(message) && message.type === 'refused') {
    const reason = message.reason as TransportErrorCode;
    const meaning = Object.hasOwn(REFUSALS, reason) ? REFUSALS[reason] : undefined;
    if (!meaning) throw new TransportError('protocol-error', transportMessages.peerRefusedUnknown());
    throw new TransportError(reason, transportMessages.peerRefused(meaning));
  }
  const parsed = isRecord(message) ? parse(message) : undefined;
  return parsed ?? refuse(conn, 'protocol-error', transportMessages.invalidMessage(expected));
}

/** Refuses a peer whose identity holds control characters: it would reach logs and other nodes' events. */
function checkPrintable(conn: FramedSocket, node: NodeInfo): void {
  for (const field of ['name', 'host', 'incarnation'] as const) {
    if (hasUnsafeCharacters(node[field])) refuse(conn, 'protocol-error', transportMessages.unsafeNodeInfo(field, node[field]));
  }
}

function parseHello(message: Record<string, unknown>) {
  const node = parseNodeInfo(message.node);
  const { cluster, nonce, frames } = message;
  if (!node || typeof cluster !== 'string' || !isBytes(nonce, NONCE_BYTES) || !isProtection(frames)) return undefined;
  return { cluster, node, nonce: Buffer.from(nonce), frames };
}

function parseChallenge(message: Record<string, unknown>) {
  const node = parseNodeInfo(message.node);
  const { nonce, proof, frames } = message;
  const valid =
    message.type === 'challenge' &&
    isBytes(nonce, NONCE_BYTES) &&
    isBytes(proof, PROOF_BYTES) &&
    isProtection(frames);
  return valid && node ? { node, nonce: Buffer.from(nonce), proof, frames } : undefined;
}

function parseProof(message: Record<string, unknown>) {
  const { proof } = message;
  return message.type === 'proof' && isBytes(proof, PROOF_BYTES) ? { proof } : undefined;
}

function parseNodeInfo(value: unknown): NodeInfo | undefined {
  if (!isRecord(value)) return undefined;
  const { name, host, port, incarnation, startedAt } = value;
  const valid =
    isShortString(name) &&
    isShortString(host) &&
    isShortString(incarnation) &&
    typeof port === 'number' &&
    Number.isInteger(port) &&
    port >= 0 &&
    port <= 65_535 &&
    typeof startedAt === 'number' &&
    Number.isFinite(startedAt);
  // A fresh object: nothing the peer added besides these fields is kept.
  return valid ? { name, host, port, incarnation, startedAt } : undefined;
}

function identity(node: NodeInfo): string[] {
  return [node.name, node.incarnation];
}

type Transcript = Array<string | Uint8Array>;

/** Feeds `parts` to a hash or HMAC, each length-prefixed, which keeps the concatenation unambiguous. */
function feed<T extends { update(data: Uint8Array): T }>(target: T, parts: Transcript): T {
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    target.update(length).update(bytes);
  }
  return target;
}

function sign(key: Buffer, role: 'client' | 'server', transcript: Transcript): Buffer {
  return feed(createHmac('sha256', key), [role, ...transcript]).digest();
}

/** The two frame keys of a connection (see the protocol above). */
function linkKeys(key: Buffer, clientNonce: Uint8Array, serverNonce: Uint8Array, transcript: Transcript) {
  const info = Buffer.concat([LINK_KEYS_LABEL, feed(createHash('sha256'), transcript).digest()]);
  const keys = Buffer.from(hkdfSync('sha256', key, Buffer.concat([clientNonce, serverNonce]), info, 2 * FRAME_KEY_BYTES));
  return { clientToServer: keys.subarray(0, FRAME_KEY_BYTES), serverToClient: keys.subarray(FRAME_KEY_BYTES) };
}

function verify(
  key: Buffer,
  role: 'client' | 'server',
  transcript: Array<string | Uint8Array>,
  proof: Uint8Array,
): boolean {
  return timingSafeEqual(sign(key, role, transcript), proof);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function isProtection(value: unknown): value is FrameProtection {
  return PROTECTIONS.includes(value as FrameProtection);
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}
