import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeHandshakePayload, encodeHandshakeFrame } from './frame-codec';
import type { FramedSocket } from './framed-socket';
import type { NodeInfo } from './node-info';
import { PROTOCOL_VERSION } from './transport.constants';
import { errorMessage, TransportError, type TransportErrorCode } from './transport.error';

/*
 * Mutual challenge-response; both sides prove they hold the cookie, which never crosses
 * the wire:
 *
 *   client -> hello     { proto, cluster, node, nonce: nonceC }
 *   server -> challenge { node, nonce: nonceS, proof: HMAC(key, 'server' | transcript) }
 *   client -> proof     { proof: HMAC(key, 'client' | transcript) }
 *   server -> welcome   {}
 *
 * The transcript binds both nonces, the cluster and both identities, so a proof is only
 * good for this connection and role. Either side may instead send `refused { reason }`
 * and close, so that both ends can log why.
 */

const NONCE_BYTES = 32;
const PROOF_BYTES = 32;
const MAX_NAME_LENGTH = 255;

/** What a completed handshake established. */
export interface HandshakeResult {
  /** The authenticated peer. */
  peer: NodeInfo;
  /** Identifier of this connection, the same on both ends (the client's nonce, in hex). */
  id: string;
  /** Name of the node that opened the connection. */
  initiator: string;
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
}

/**
 * Derives the HMAC key from the cookie (HKDF-SHA256, salted with the cluster name), so
 * the raw cookie is never used as a key and one cookie gives each cluster its own key.
 */
export function deriveHandshakeKey(cookie: string | Buffer, cluster: string): Buffer {
  return Buffer.from(hkdfSync('sha256', cookie, cluster, 'nest-cluster-cache/handshake/v1', 32));
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
      }),
    );
    const challenge = await receive(conn, 'challenge', parseChallenge);
    const server = challenge.node;
    if (server.name === ctx.self.name) {
      refuse(conn, 'name-conflict', `the peer uses this node's own name ${server.name}`);
    }
    const transcript = [
      ctx.cluster, clientNonce, challenge.nonce, ...identity(ctx.self), ...identity(server),
    ];
    if (!verify(ctx.key, 'server', transcript, challenge.proof)) {
      refuse(conn, 'auth-failed', `${server.name} could not prove it holds the cluster cookie`);
    }
    conn.write(encodeHandshakeFrame({ type: 'proof', proof: sign(ctx.key, 'client', transcript) }));
    await receive(conn, 'welcome', (message) => message.type === 'welcome' || undefined);
    return { peer: server, id: clientNonce.toString('hex'), initiator: ctx.self.name };
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
    if (message.proto !== PROTOCOL_VERSION) {
      const version = `peer speaks protocol ${String(message.proto)}, not ${PROTOCOL_VERSION}`;
      refuse(conn, 'protocol-version', version);
    }
    const hello =
      parseHello(message) ?? refuse(conn, 'protocol-error', 'expected a valid hello message');
    const client = hello.node;
    if (hello.cluster !== ctx.cluster) {
      refuse(conn, 'wrong-cluster', `${client.name} belongs to cluster '${hello.cluster}'`);
    }
    if (client.name === ctx.self.name) {
      refuse(conn, 'name-conflict', `the peer uses this node's own name ${client.name}`);
    }
    const serverNonce = randomBytes(NONCE_BYTES);
    const transcript = [
      ctx.cluster, hello.nonce, serverNonce, ...identity(client), ...identity(ctx.self),
    ];
    conn.write(
      encodeHandshakeFrame({
        type: 'challenge',
        node: ctx.self,
        nonce: serverNonce,
        proof: sign(ctx.key, 'server', transcript),
      }),
    );
    const { proof } = await receive(conn, 'proof', parseProof);
    if (!verify(ctx.key, 'client', transcript, proof)) {
      refuse(conn, 'auth-failed', `${client.name} could not prove it holds the cluster cookie`);
    }
    conn.write(encodeHandshakeFrame({ type: 'welcome' }));
    return { peer: client, id: hello.nonce.toString('hex'), initiator: client.name };
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
  const timeout = new TransportError('handshake-timeout', `handshake not completed within ${ms} ms`);
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
    if (!meaning) throw new TransportError('protocol-error', 'the peer refused the handshake');
    throw new TransportError(reason, `the peer refused the handshake: ${meaning}`);
  }
  const parsed = isRecord(message) ? parse(message) : undefined;
  return parsed ?? refuse(conn, 'protocol-error', `expected a valid ${expected} message`);
}

function parseHello(message: Record<string, unknown>) {
  const node = parseNodeInfo(message.node);
  const { cluster, nonce } = message;
  if (!node || typeof cluster !== 'string' || !isBytes(nonce, NONCE_BYTES)) return undefined;
  return { cluster, node, nonce: Buffer.from(nonce) };
}

function parseChallenge(message: Record<string, unknown>) {
  const node = parseNodeInfo(message.node);
  const { nonce, proof } = message;
  const valid =
    message.type === 'challenge' && isBytes(nonce, NONCE_BYTES) && isBytes(proof, PROOF_BYTES);
  return valid && node ? { node, nonce, proof } : undefined;
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

function sign(key: Buffer, role: 'client' | 'server', transcript: Array<string | Uint8Array>): Buffer {
  const hmac = createHmac('sha256', key);
  // Length-prefixing every part keeps the concatenation unambiguous.
  for (const part of [role, ...transcript]) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length).update(bytes);
  }
  return hmac.digest();
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

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}
