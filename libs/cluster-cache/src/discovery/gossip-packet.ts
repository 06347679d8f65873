import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveClusterKey } from '../transport/cluster-key';
import { logSafe } from '../util/log-safe';

/**
 * Wire format of gossip heartbeats (version 2). Every field is parsed with a
 * fixed schema; nothing is fed to a general deserializer.
 *
 * ```
 * header   "NCCG" | u8 version (2) | u8 kind (1 signed, 2 sealed)        6 bytes
 * signed   header | body | HMAC-SHA256(header | body)                    32-byte MAC
 * sealed   header | nonce (12) | AES-256-GCM(body) | tag (16)           header is the AAD
 * body     u8 len cluster | u8 len node | u8 len host | u16 port |
 *          u8 len incarnation | u64 timestamp (ms) | u32 sequence
 * ```
 *
 * Keys (HKDF-SHA256):
 * - MAC key: from the cluster key, i.e. scrypt of the cookie salted with the
 *   cluster name (see deriveClusterKey): a heartbeat heard on the wire lets an
 *   attacker test guesses at the cookie, and scrypt makes each guess cost ~100 ms;
 * - AEAD key (with a `secret`): from the secret, salted with the MAC key — so a
 *   packet opens only with the right secret, cookie and cluster name.
 *
 * Version 1 keyed the MAC with HKDF of the cookie alone; its packets are dropped
 * as `malformed` (unknown version).
 */
export const GOSSIP_MAGIC = Buffer.from('NCCG', 'ascii');
/** The wire format version this code writes and reads. */
export const GOSSIP_VERSION = 2;
/** Packet kinds: signed (HMAC only) or sealed (AEAD). */
export const GOSSIP_KIND = { signed: 1, sealed: 2 } as const;

const HEADER_BYTES = 6;
const MAC_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** No valid heartbeat is larger (five strings of at most 255 bytes plus fixed fields). */
export const GOSSIP_MAX_PACKET_BYTES = HEADER_BYTES + NONCE_BYTES + 5 * 256 + 2 + 8 + 4 + TAG_BYTES + MAC_BYTES;

/** What a heartbeat says: who sends it and where its cluster port is. */
export interface Heartbeat {
  /** Cluster name of the sender. */
  cluster: string;
  /** Node name of the sender, e.g. `a@10.0.0.5`. */
  node: string;
  /** Host of the sender's cluster address. */
  host: string;
  /** Port of the sender's cluster address. */
  port: number;
  /** The sender's incarnation (new on every start). */
  incarnation: string;
  /** When the packet was sent, in ms since the epoch (sender's clock). */
  timestamp: number;
  /** Grows by one with every packet of this incarnation. */
  sequence: number;
}

/** Why a packet was dropped. */
export type GossipDropReason = 'malformed' | 'unauthenticated' | 'foreign';

/** The result of {@link GossipCodec.decode}. */
export type DecodeResult = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: GossipDropReason; detail: string };

/** Derives the 32-byte HMAC key of a cluster's heartbeats from its cluster key (scrypt of the cookie). */
export function gossipMacKey(clusterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'nest-cluster-cache gossip hmac-sha256 v2', 32));
}

/** Derives the 32-byte AES-256-GCM key from the gossip secret (bound to the cookie and cluster through the MAC key). */
export function gossipSealKey(secret: string, macKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), macKey, 'nest-cluster-cache gossip aes-256-gcm v1', 32));
}

/**
 * Encodes and checks heartbeats of one cluster. Without a secret packets are
 * signed (HMAC-SHA256, readable by anyone on the segment); with a secret they
 * are sealed (AES-256-GCM with a random 96-bit nonce), which authenticates as
 * well. A codec with a secret accepts only sealed packets.
 */
export class GossipCodec {
  private readonly macKey: Buffer;
  private readonly sealKey: Buffer | undefined;

  /** @param clusterKey from `deriveClusterKey(cookie, cluster)`; see {@link GossipCodec.forCookie}. */
  constructor(
    clusterKey: Buffer,
    private readonly cluster: string,
    secret?: string,
  ) {
    this.macKey = gossipMacKey(clusterKey);
    this.sealKey = secret === undefined ? undefined : gossipSealKey(secret, this.macKey);
  }

  /**
   * The codec of `cluster` for nodes with `cookie`: derives the cluster key (scrypt,
   * off the event loop; once per process, shared with the transport).
   */
  static async forCookie(cookie: string, cluster: string, secret?: string): Promise<GossipCodec> {
    return new GossipCodec(await deriveClusterKey(cookie, cluster), cluster, secret);
  }

  /** Whether packets are encrypted. */
  get sealed(): boolean {
    return this.sealKey !== undefined;
  }

  /** Encodes a heartbeat: signed, or sealed when the codec has a secret. */
  encode(heartbeat: Heartbeat): Buffer {
    const body = encodeBody(heartbeat);
    if (this.sealKey === undefined) {
      const head = Buffer.concat([header(GOSSIP_KIND.signed), body]);
      return Buffer.concat([head, createHmac('sha256', this.macKey).update(head).digest()]);
    }
    const head = header(GOSSIP_KIND.sealed);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(head);
    const ciphertext = Buffer.concat([cipher.update(body), cipher.final()]);
    return Buffer.concat([head, nonce, ciphertext, cipher.getAuthTag()]);
  }

  /**
   * Checks and decodes a packet. Never throws: anything wrong comes back as a
   * reason — `malformed` (not a heartbeat, truncated, unknown version),
   * `unauthenticated` (bad MAC or tag, wrong key, unencrypted packet for an
   * encrypted cluster) or `foreign` (a heartbeat of another cluster).
   */
  decode(packet: Buffer): DecodeResult {
    try {
      return this.decodeUnsafe(packet);
    } catch (error) {
      return drop('malformed', `undecodable (${logSafe(error)})`);
    }
  }

  private decodeUnsafe(packet: Buffer): DecodeResult {
    if (packet.length < HEADER_BYTES || !packet.subarray(0, 4).equals(GOSSIP_MAGIC)) return drop('malformed', 'not a gossip heartbeat');
    if (packet[4] !== GOSSIP_VERSION) return drop('malformed', `unknown version ${packet[4]}`);
    if (packet.length > GOSSIP_MAX_PACKET_BYTES) return drop('malformed', `too large (${packet.length} bytes)`);
    const kind = packet[5];
    if (kind === GOSSIP_KIND.signed) return this.openSigned(packet);
    if (kind === GOSSIP_KIND.sealed) return this.openSealed(packet);
    return drop('malformed', `unknown kind ${kind}`);
  }

  private openSigned(packet: Buffer): DecodeResult {
    if (packet.length < HEADER_BYTES + MAC_BYTES) return drop('malformed', 'truncated');
    const head = packet.subarray(0, packet.length - MAC_BYTES);
    const body = decodeBody(head.subarray(HEADER_BYTES));
    if (body === undefined) return drop('malformed', 'truncated or corrupt body');
    if (body.cluster !== this.cluster) return drop('foreign', `cluster "${logSafe(body.cluster)}"`);
    if (this.sealKey !== undefined) return drop('unauthenticated', 'unencrypted packet, but this cluster gossips with a secret');
    const mac = createHmac('sha256', this.macKey).update(head).digest();
    if (!timingSafeEqual(mac, packet.subarray(packet.length - MAC_BYTES))) return drop('unauthenticated', 'bad MAC (another cookie, or tampered)');
    return { ok: true, heartbeat: body };
  }

  private openSealed(packet: Buffer): DecodeResult {
    if (packet.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) return drop('malformed', 'truncated');
    if (this.sealKey === undefined) return drop('unauthenticated', 'encrypted packet, but this node has no gossip secret');
    const nonce = packet.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(packet.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(packet.subarray(packet.length - TAG_BYTES));
    let body: Buffer;
    try {
      body = Buffer.concat([decipher.update(packet.subarray(HEADER_BYTES + NONCE_BYTES, packet.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return drop('unauthenticated', 'cannot decrypt (another secret, cookie or cluster, or tampered)');
    }
    const heartbeat = decodeBody(body);
    if (heartbeat === undefined) return drop('malformed', 'corrupt body');
    if (heartbeat.cluster !== this.cluster) return drop('foreign', `cluster "${logSafe(heartbeat.cluster)}"`);
    return { ok: true, heartbeat };
  }
}

function drop(reason: GossipDropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

function header(kind: number): Buffer {
  return Buffer.concat([GOSSIP_MAGIC, Buffer.from([GOSSIP_VERSION, kind])]);
}

function shortString(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) throw new RangeError(`gossip heartbeat field ${field} is longer than 255 bytes`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** Encodes the body of a heartbeat (throws on values that do not fit the format). */
export function encodeBody(h: Heartbeat): Buffer {
  if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) throw new RangeError(`gossip heartbeat port ${h.port} is out of range`);
  if (!Number.isInteger(h.sequence) || h.sequence < 0 || h.sequence > 0xffffffff) throw new RangeError(`gossip sequence ${h.sequence} is out of range`);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(h.port, 0);
  const tail = Buffer.alloc(12);
  tail.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(h.timestamp))), 0);
  tail.writeUInt32BE(h.sequence, 8);
  return Buffer.concat([
    shortString(h.cluster, 'cluster'),
    shortString(h.node, 'node'),
    shortString(h.host, 'host'),
    port,
    shortString(h.incarnation, 'incarnation'),
    tail,
  ]);
}

/** Decodes a body; `undefined` if it is truncated, has trailing bytes or invalid values. */
export function decodeBody(body: Buffer): Heartbeat | undefined {
  let at = 0;
  const str = (): string | undefined => {
    if (at + 1 > body.length) return undefined;
    const length = body[at];
    if (at + 1 + length > body.length) return undefined;
    const value = body.toString('utf8', at + 1, at + 1 + length);
    at += 1 + length;
    return value;
  };
  const cluster = str();
  const node = str();
  const host = str();
  if (host === undefined || at + 2 > body.length) return undefined;
  const port = body.readUInt16BE(at);
  at += 2;
  const incarnation = str();
  if (cluster === undefined || node === undefined || incarnation === undefined || at + 12 !== body.length) return undefined;
  const timestamp = Number(body.readBigUInt64BE(at));
  const sequence = body.readUInt32BE(at + 8);
  if (port === 0 || node === '' || host === '') return undefined;
  return { cluster, node, host, port, incarnation, timestamp, sequence };
}
