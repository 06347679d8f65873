import { pack } from 'msgpackr';
import { encodeAckFrame, encodeFrame, encodeHandshakeFrame, FrameKind } from '@app/cluster-cache/transport/frame-codec';
import { FRAME_TAG_BYTES } from '@app/cluster-cache/transport/frame-cipher';
import { HANDSHAKE_MAX_FRAME_BYTES, PROTOCOL_VERSION } from '@app/cluster-cache/transport/transport.constants';
import { GOSSIP_KIND, GOSSIP_MAGIC, GOSSIP_VERSION, type GossipCodec, type Heartbeat } from '@app/cluster-cache/discovery/gossip-packet';
import { Random } from '../chaos/random';

/**
 * The fuzz suite's inputs: random and mutated bytes, frames, handshake
 * messages, sealed frames, gossip packets and data-file damage, all drawn
 * from a seeded generator. The same seed gives the same inputs, in the same
 * order, for each part of the suite (each draws from its own fork).
 */

export { Random };

/** The seed of this run: `FUZZ_SEED` to replay one, else a fresh one. */
export function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer in [0, 2^32): ${given}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x1_0000_0000);
}

// ---------------------------------------------------------------- bytes and values

/** `length` random bytes. */
export function randomBytes(rng: Random, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  return bytes;
}

/** Byte values parsers trip on. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xd9, 0xdb, 0xdd, 0xdf, 0xc4, 0xc6, 0xc7, 0xc9, 0xd4, 0xd8];

/**
 * A copy of `input` with 1 to `maxEdits` edits: bit flips, bytes set to
 * interesting or random values, bytes inserted or removed, a run duplicated,
 * the end cut off or extended.
 */
export function mutateBytes(rng: Random, input: Uint8Array, maxEdits = 4): Buffer {
  let bytes = Buffer.from(input);
  const edits = rng.between(1, maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = bytes.length === 0 ? 0 : rng.int(bytes.length);
    switch (rng.int(bytes.length === 0 ? 1 : 8)) {
      case 0:
        bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(rng, rng.between(1, 8)), bytes.subarray(at)]);
        break;
      case 1:
        bytes[at] ^= 1 << rng.int(8);
        break;
      case 2:
        bytes[at] = rng.pick(INTERESTING_BYTES);
        break;
      case 3:
        bytes[at] = rng.int(256);
        break;
      case 4:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.between(1, 8)))]);
        break;
      case 5: {
        const length = rng.between(1, Math.min(64, bytes.length - at));
        bytes = Buffer.concat([bytes.subarray(0, at + length), bytes.subarray(at, at + length), bytes.subarray(at + length)]);
        break;
      }
      case 6:
        bytes = bytes.subarray(0, at);
        break;
      default:
        bytes = Buffer.concat([bytes, randomBytes(rng, rng.between(1, 32))]);
    }
  }
  return Buffer.from(bytes);
}

/** Numbers that find edge cases: limits, signs, non-finite values, the protocol's own. */
const INTERESTING_NUMBERS = [
  0, -0, 1, -1, 2, PROTOCOL_VERSION, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32,
  2 ** 53, -(2 ** 53), 2 ** 64, 1.5, 1e-300, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity,
];

/** Strings that find edge cases: empty, control characters, forged log lines, lone surrogates, the protocol's own words. */
const INTERESTING_STRINGS = [
  '', ' ', 'hello', 'challenge', 'proof', 'welcome', 'refused', 'encrypted', 'authenticated', 'nest-cluster-cache', 'fuzz',
  '__proto__', 'constructor', 'toString', 'a@127.0.0.1', '127.0.0.1', '::1', '0.0.0.0',
  'evil@x\nLinked to evil@10.0.0.66 at 10.0.0.66:14000 (inbound)\u001b[2J', '\u0000', '\r\n', '\u202e', '\ud800', '\udc00x',
  'auth-failed', 'protocol-version', 'wrong-cluster', 'name-conflict', 'protocol-error', 'heartbeat-timeout', '%s%s%n', '${x}',
];

/** A string: an interesting one, random printable or arbitrary code units, or a long one. */
export function randomString(rng: Random, maxLength = 64): string {
  switch (rng.int(5)) {
    case 0:
      return rng.pick(INTERESTING_STRINGS);
    case 1:
      return String.fromCharCode(...Array.from({ length: rng.int(maxLength + 1) }, () => rng.between(0x20, 0x7e)));
    case 2:
      return String.fromCharCode(...Array.from({ length: rng.int(maxLength + 1) }, () => rng.int(0x10000)));
    case 3:
      return 'x'.repeat(rng.pick([255, 256, 1_000, 10_000, 40_000])).slice(0, Math.max(maxLength, 256) * 200);
    default:
      return String.fromCharCode(...Array.from({ length: rng.int(16) }, () => rng.int(0x20)));
  }
}

/** Any value msgpackr encodes, of every type, nested up to `depth`. */
export function randomValue(rng: Random, depth = 3): unknown {
  switch (rng.int(depth > 0 ? 12 : 9)) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return rng.int(2) === 0;
    case 3:
      return rng.pick(INTERESTING_NUMBERS);
    case 4:
      return rng.between(-1_000_000, 1_000_000);
    case 5:
      return randomString(rng);
    case 6:
      return randomBytes(rng, rng.pick([0, 1, 16, 31, 32, 33, 64, rng.int(300)]));
    case 7:
      return new Date(rng.pick([0, -1, 8.64e15, Date.now(), NaN]));
    case 8:
      return rng.pick([2n ** 63n - 1n, -(2n ** 63n), 0n, 2n ** 64n - 1n]);
    case 9:
      return Array.from({ length: rng.int(6) }, () => randomValue(rng, depth - 1));
    case 10:
      return Object.fromEntries(Array.from({ length: rng.int(6) }, () => [randomString(rng, 12), randomValue(rng, depth - 1)]));
    default: {
      // Deep nesting, past what a recursive decoder would like.
      let value: unknown = randomValue(rng, 0);
      for (let i = rng.between(10, 2_000); i > 0; i--) value = rng.int(2) === 0 ? [value] : { a: value };
      return value;
    }
  }
}

/** `value` as msgpack; values msgpackr refuses become random bytes. */
export function packValue(rng: Random, value: unknown): Buffer {
  try {
    return pack(value);
  } catch {
    return randomBytes(rng, rng.int(64));
  }
}

// ---------------------------------------------------------------- the cluster port before authentication

/**
 * What one connection to the cluster port sends before authenticating:
 * chunks written one after another (`gap` ms apart), then `finish`:
 * `stay` (keep the socket open, wait for the node to close it), `end` (half
 * close: FIN) or `destroy` (reset). With `afterChallenge`, the chunks from
 * that index on are written once the node's challenge came.
 */
export interface PreAuthInput {
  kind: string;
  chunks: Buffer[];
  gap: number;
  finish: 'stay' | 'end' | 'destroy';
  afterChallenge?: number;
}

/** What a client announces about itself in a hello. */
export interface HelloIdentity {
  cluster: string;
  name: string;
  host: string;
}

/** A well-formed hello message. */
export function validHello(rng: Random, identity: HelloIdentity): Record<string, unknown> {
  return {
    type: 'hello',
    proto: PROTOCOL_VERSION,
    cluster: identity.cluster,
    node: {
      name: identity.name,
      host: identity.host,
      port: 1,
      incarnation: randomBytes(rng, 8).toString('hex'),
      startedAt: Date.now(),
    },
    nonce: randomBytes(rng, 32),
    frames: rng.pick(['encrypted', 'authenticated']),
  };
}

/** A hello with 1 to 3 fields replaced, removed or broken (wrong types, huge or control-character strings, another protocol). */
export function mutatedHello(rng: Random, identity: HelloIdentity): unknown {
  if (rng.int(12) === 0) return randomValue(rng); // not even a map
  const hello = validHello(rng, identity);
  const node = hello.node as Record<string, unknown>;
  for (let edits = rng.between(1, 3); edits > 0; edits--) {
    const inNode = rng.int(3) === 0;
    const target = inNode ? node : hello;
    const field = rng.pick(inNode ? ['name', 'host', 'port', 'incarnation', 'startedAt', 'extra'] : ['type', 'proto', 'cluster', 'node', 'nonce', 'frames', 'extra']);
    switch (rng.int(5)) {
      case 0:
        delete target[field];
        break;
      case 1:
        target[field] = randomString(rng, 300);
        break;
      case 2:
        target[field] = rng.pick(INTERESTING_NUMBERS);
        break;
      case 3:
        target[field] = field === 'nonce' ? randomBytes(rng, rng.pick([0, 16, 31, 33, 64])) : randomValue(rng);
        break;
      default:
        target[field] = field === 'proto' ? rng.pick([PROTOCOL_VERSION + 1, PROTOCOL_VERSION - 1, String(PROTOCOL_VERSION), 5.5]) : randomValue(rng, 1);
    }
  }
  return hello;
}

/** A handshake frame of `message`, or random bytes when msgpackr cannot encode it. */
function handshakeFrame(rng: Random, message: unknown): Buffer {
  try {
    return encodeHandshakeFrame(message as object);
  } catch {
    return encodeFrame(FrameKind.Handshake, randomBytes(rng, rng.int(64)));
  }
}

/** A frame header announcing `length` bytes. */
export function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length >>> 0, 0);
  return header;
}

/** One connection's worth of hostile input for the cluster port, as a client without the cookie sends it. */
export function preAuthInput(rng: Random, identity: HelloIdentity): PreAuthInput {
  const finish = (): PreAuthInput['finish'] => rng.pick(['stay', 'stay', 'end', 'destroy']);
  const hello = () => handshakeFrame(rng, validHello(rng, identity));
  switch (rng.int(12)) {
    case 0:
      return { kind: 'random bytes', chunks: [randomBytes(rng, rng.between(1, 16_384))], gap: 0, finish: finish() };
    case 1: {
      // A header announcing a random, zero, oversized or limit length, and part of a body (at most what it announced).
      const length = rng.pick([0, 1, 2, 5, 100, HANDSHAKE_MAX_FRAME_BYTES - 1, HANDSHAKE_MAX_FRAME_BYTES, HANDSHAKE_MAX_FRAME_BYTES + 1, 2 ** 31, 2 ** 32 - 1, rng.int(2 ** 32)]);
      const body = randomBytes(rng, Math.min(length, rng.pick([0, 1, rng.int(100), rng.int(70_000)])));
      // Announcing little and sending all of it: the node waits for the rest, until the handshake timeout.
      return { kind: `header ${length}`, chunks: [frameHeader(length), body], gap: 0, finish: body.length < length ? rng.pick(['stay', 'end', 'destroy']) : finish() };
    }
    case 2:
    case 3:
      return { kind: 'mutated hello', chunks: [handshakeFrame(rng, mutatedHello(rng, identity))], gap: 0, finish: finish() };
    case 4:
      return { kind: 'hello, bytes mutated', chunks: [mutateBytes(rng, hello())], gap: 0, finish: finish() };
    case 5: {
      const frame = hello();
      return { kind: 'truncated hello', chunks: [frame.subarray(0, rng.int(frame.length))], gap: 0, finish: rng.pick(['stay', 'end', 'destroy']) };
    }
    case 6: {
      // A valid hello, then a proof that is wrong in some way (the fuzzer has no cookie).
      const proof = rng.pick<unknown>([
        { type: 'proof', proof: randomBytes(rng, 32) },
        { type: 'proof', proof: randomBytes(rng, rng.pick([0, 31, 33, 1_000])) },
        { type: 'proof', proof: randomValue(rng) },
        { type: 'proof' },
        { type: 'hello' },
        { type: 'refused', reason: randomString(rng) },
        randomValue(rng),
      ]);
      const third = rng.pick([handshakeFrame(rng, proof), mutateBytes(rng, handshakeFrame(rng, proof)), encodeFrame(FrameKind.Message, randomBytes(rng, 40))]);
      return { kind: 'valid hello, bad proof', chunks: [hello(), third], gap: 0, finish: finish(), afterChallenge: rng.int(2) === 0 ? 1 : undefined };
    }
    case 7: {
      const kind = rng.pick([0, 2, 3, 4, 5, 6, 7, 8, 9, 0x7f, 0xff]);
      return { kind: `frame kind ${kind}`, chunks: [encodeFrame(kind as FrameKind, randomBytes(rng, rng.int(200)))], gap: 0, finish: finish() };
    }
    case 8:
      // A refusal, as the first message: its reason comes from the client.
      return { kind: 'refused first', chunks: [handshakeFrame(rng, { type: 'refused', reason: rng.pick([randomString(rng), 'auth-failed', 'shutdown', 'toString', '__proto__']) })], gap: 0, finish: finish() };
    case 9:
      return { kind: 'hellos back to back', chunks: [Buffer.concat(Array.from({ length: rng.between(2, 20) }, () => (rng.int(2) === 0 ? hello() : handshakeFrame(rng, mutatedHello(rng, identity)))))], gap: 0, finish: finish() };
    case 10: {
      // Half-open: a FIN after nothing, a partial header, or a whole hello.
      const sent = rng.pick([Buffer.alloc(0), frameHeader(50).subarray(0, rng.between(1, 3)), hello()]);
      return { kind: 'half-open', chunks: [sent], gap: 0, finish: rng.pick(['end', 'destroy']) };
    }
    default: {
      // Slow: a valid hello a few bytes at a time; the handshake timeout ends it if the bytes do not.
      const frame = hello();
      const chunks: Buffer[] = [];
      for (let at = 0; at < frame.length; ) {
        const size = rng.between(1, 40);
        chunks.push(frame.subarray(at, at + size));
        at += size;
      }
      return { kind: 'slow hello', chunks: chunks.slice(0, rng.between(1, chunks.length)), gap: rng.between(20, 300), finish: 'stay' };
    }
  }
}

// ---------------------------------------------------------------- after authentication

/** Seals a plain frame (header, kind byte, body) as the link's next frame; returns the sealed bytes. */
export type Seal = (frame: Buffer) => Buffer;

/**
 * What an authenticated fuzzer sends on a link: `frames` (built from the
 * link's sealer as they are drawn, since each seal takes the next frame
 * number), then `finish`. `forged`: a frame that cannot authenticate reaches
 * the node whole, so the node must close the link and count it
 * (`stats().connections.forgedFrames`). `mustClose`: the node must close the
 * link by itself (forged, malformed, or a frame left incomplete); else the
 * input is a member's garbage, which the node may take or refuse.
 */
export interface PostAuthInput {
  kind: string;
  frames: Buffer[];
  finish: 'stay' | 'end';
  forged: boolean;
  mustClose: boolean;
}

/**
 * A plain frame a node might send, harmless once sealed: a ping, an ack, a
 * shared message naming no members, a message the node ignores, a codec reset.
 */
function plainFrame(rng: Random): Buffer {
  switch (rng.int(5)) {
    case 0:
      return encodeFrame(FrameKind.Ping);
    case 1:
      return encodeAckFrame(rng.int(1_000));
    case 2:
      return encodeFrame(FrameKind.Shared, pack({ t: 'members', members: [] }));
    case 3:
      return encodeFrame(FrameKind.Message, pack(`fuzz ${'x'.repeat(rng.int(200))}`));
    default:
      return encodeFrame(FrameKind.CodecReset);
  }
}

/** Flips 1 to 3 bits of `sealed` from byte `from` on (the header, 4 bytes, is left alone when `from` is 4). */
function flipBits(rng: Random, sealed: Buffer, from: number): Buffer {
  const copy = Buffer.from(sealed);
  for (let flips = rng.between(1, 3); flips > 0; flips--) copy[rng.between(from, copy.length - 1)] ^= 1 << rng.int(8);
  return copy;
}

/** One link's worth of input from a fuzzer that holds the cookie: a few good frames, then one that is bad in some way. */
export function postAuthInput(rng: Random, seal: Seal, garbage: () => Buffer): PostAuthInput {
  const frames: Buffer[] = Array.from({ length: rng.int(3) }, () => seal(encodeFrame(FrameKind.Ping)));
  const finish = (): PostAuthInput['finish'] => rng.pick(['stay', 'end']);
  const result = (kind: string, bad: Buffer[], forged: boolean, mustClose = true): PostAuthInput => ({
    kind,
    frames: [...frames, ...bad],
    finish: finish(),
    forged,
    mustClose,
  });
  switch (rng.int(12)) {
    case 0:
      return result('bits flipped in a sealed frame (kind, body or tag)', [flipBits(rng, seal(plainFrame(rng)), 4)], true);
    case 1: {
      // The length itself changed: too large, too short to open, or more than will come (the link falls silent).
      const sealed = flipBits(rng, seal(plainFrame(rng)), 0).subarray(0);
      sealed.writeUInt32BE(rng.pick([0, 1, 16, sealed.length - 5, sealed.length + 100, 2 ** 24, 2 ** 32 - 1, rng.int(2 ** 32)]) >>> 0, 0);
      return result('length of a sealed frame changed', [sealed], false);
    }
    case 2: {
      const sealed = seal(plainFrame(rng));
      return result('sealed frame replayed', [sealed, sealed], true);
    }
    case 3: {
      const earlier = frames.length > 0 && rng.int(2) === 0 ? frames[rng.int(frames.length)] : undefined;
      if (earlier !== undefined) return result('earlier frame replayed', [earlier], true);
      seal(plainFrame(rng)); // sealed and never sent: the next one is out of order
      return result('frame after a dropped one', [seal(plainFrame(rng))], true);
    }
    case 4: {
      // A frame of the right shape sealed with another key: what an attacker without the cookie can make.
      const frame = plainFrame(rng);
      const forged = Buffer.concat([frameHeader(frame.length - 4 + FRAME_TAG_BYTES), frame.subarray(4, 5), randomBytes(rng, frame.length - 5 + FRAME_TAG_BYTES)]);
      return result('frame sealed with another key', [forged], true);
    }
    case 5: {
      const sealed = seal(plainFrame(rng));
      const cut = sealed.subarray(0, rng.between(1, sealed.length - 1));
      // Left incomplete: the node waits for the rest and drops the silent link at its dead-peer timeout.
      return result('sealed frame cut short', [cut], false);
    }
    case 6: {
      const sealed = seal(plainFrame(rng));
      const cut = Buffer.from(sealed.subarray(0, rng.between(5, sealed.length - 1)));
      cut.writeUInt32BE(cut.length - 4, 0);
      return result('sealed frame cut short, length rewritten', [cut], true);
    }
    case 7:
      return result('random bytes after the handshake', [randomBytes(rng, rng.between(1, 4_096))], false);
    case 8:
      return result('a frame in clear after the handshake', [plainFrame(rng)], true);
    case 9: {
      const kind = rng.pick([0, FrameKind.Handshake, 9, 0x7f, 0xff]);
      return result(`sealed frame of kind ${kind}`, [seal(encodeFrame(kind as FrameKind, randomBytes(rng, rng.int(64))))], false);
    }
    default:
      // Authentic, but what it says is garbage: a member's mistake (or malice), which the node may take or refuse.
      return result('sealed garbage from a member', Array.from({ length: rng.between(1, 8) }, () => seal(garbage())), false, false);
  }
}

/**
 * A plain frame of garbage a member could send: a message or shared message
 * of random bytes, random msgpack, or a replication message with a field
 * broken; an ack of the wrong size or a strange id; a codec reset.
 */
export function memberGarbage(rng: Random, names: { tables: string[] }): Buffer {
  const table = () => rng.pick([...names.tables, randomString(rng, 20)]);
  const flat = () =>
    rng.int(3) === 0
      ? randomValue(rng)
      : Array.from({ length: 7 * rng.between(0, 3) + (rng.int(4) === 0 ? rng.int(7) : 0) }, (_, i) =>
          rng.int(3) === 0 ? randomValue(rng, 1) : [`fuzz`, `fuzz-key-${rng.int(20)}`, { fuzz: true }, Date.now() + 60_000, Date.now() * 65_536, 0, 'fuzz@127.0.0.1'][i % 7],
        );
  const messages: Array<() => unknown> = [
    () => ({ t: 'hello', clusterId: randomValue(rng, 0), ready: randomValue(rng, 0), joinedFrom: randomValue(rng, 0), members: randomValue(rng, 1), shape: randomValue(rng, 2) }),
    () => ({ t: 'ready', joinedFrom: randomValue(rng, 0) }),
    () => ({ t: 'members', members: rng.int(2) === 0 ? randomValue(rng) : [{ name: randomString(rng), host: rng.pick(['127.0.0.1', randomString(rng)]), port: rng.pick([1, 0, -1, 70_000, NaN]) }] }),
    () => ({ t: 'write', id: randomValue(rng, 0), batches: rng.int(3) === 0 ? randomValue(rng) : [[table(), flat()]], more: rng.pick([undefined, 1, 2]) }),
    () => ({ t: 'copy-request', id: randomValue(rng, 0), tables: rng.int(2) === 0 ? [table()] : randomValue(rng), keys: rng.pick([undefined, randomBytes(rng, rng.int(40)), randomValue(rng, 0)]), since: randomValue(rng, 0) }),
    () => ({ t: 'copy-chunk', id: rng.int(5), table: table(), states: flat() }),
    () => ({ t: 'copy-end', id: randomValue(rng, 0) }),
    () => ({
      t: 'call',
      id: rng.int(1_000),
      kind: rng.pick(['lock', 'unlock', 'sync.digests', 'sync.summaries', 'sync.fetch', 'unsplit.island', 'unsplit.reload', 'unsplit.healed', 'unsplit.request', 'toString', '__proto__', randomString(rng)]),
      body: rng.int(2) === 0 ? randomValue(rng) : { table: table(), count: rng.pick([0, 1, -1, 2 ** 31, NaN, 1e9]), buckets: randomValue(rng, 0), keys: randomBytes(rng, rng.int(4) * 8 + rng.int(2)), resource: randomValue(rng, 0), holder: randomValue(rng, 0), ttl: randomValue(rng, 0), source: randomValue(rng, 0) },
    }),
    () => ({ t: 'reply-part', id: randomValue(rng, 0), body: randomValue(rng) }),
    () => ({ t: 'reply', id: randomValue(rng, 0), body: randomValue(rng), error: randomValue(rng, 0) }),
    () => ({ t: randomValue(rng, 0) }),
    () => randomValue(rng),
  ];
  switch (rng.int(6)) {
    case 0:
      return encodeFrame(rng.pick([FrameKind.Message, FrameKind.Shared]), randomBytes(rng, rng.int(300)));
    case 1:
      return encodeFrame(FrameKind.Ack, randomBytes(rng, rng.pick([0, 7, 8, 9, 100])));
    case 2:
      return encodeFrame(rng.pick([FrameKind.CodecReset, FrameKind.Ping, FrameKind.Ack]), rng.int(2) === 0 ? Buffer.alloc(0) : randomBytes(rng, 8));
    case 3:
      return encodeFrame(FrameKind.Shared, mutateBytes(rng, packValue(rng, rng.pick(messages)())));
    default:
      return encodeFrame(FrameKind.Shared, packValue(rng, rng.pick(messages)()));
  }
}

// ---------------------------------------------------------------- gossip

/** One UDP packet for the gossip port, and whether the node may accept it (authentic, fresh, of its cluster). */
export interface GossipInput {
  kind: string;
  packet: Buffer;
  /** An authentic heartbeat the node may accept (it then dials the address it names). */
  acceptable: boolean;
}

/**
 * A gossip packet: random bytes, a header with random content, a captured or
 * fresh heartbeat mutated or cut, a replayed one, or (the fuzzer holds the
 * cookie) an authentic heartbeat with strange fields. Authentic heartbeats
 * name `closedPort` on loopback, so a node that accepts one dials nothing that answers.
 */
export function gossipInput(rng: Random, codec: GossipCodec, cluster: string, captured: Buffer[], closedPort: number): GossipInput {
  const heartbeat = (): Heartbeat => ({
    cluster,
    node: `gossip-fuzz-${rng.int(8)}@127.0.0.1`,
    host: rng.pick(['127.0.0.1', '0.0.0.0']),
    port: closedPort,
    incarnation: randomBytes(rng, 8).toString('hex'),
    timestamp: Date.now(),
    sequence: rng.between(1, 1_000),
  });
  const fresh = () => codec.encode(heartbeat());
  switch (rng.int(10)) {
    case 0:
      return { kind: 'random bytes', packet: randomBytes(rng, rng.pick([0, 1, 5, 6, 37, rng.int(1_500), rng.int(9_000)])), acceptable: false };
    case 1: {
      const head = Buffer.concat([GOSSIP_MAGIC, Buffer.from([rng.pick([GOSSIP_VERSION, 1, 3, 0xff]), rng.pick([GOSSIP_KIND.signed, GOSSIP_KIND.sealed, 0, 3, 0xff])])]);
      return { kind: 'header and random bytes', packet: Buffer.concat([head, randomBytes(rng, rng.int(1_600))]), acceptable: false };
    }
    case 2:
    case 3:
      return { kind: 'fresh heartbeat mutated', packet: mutateBytes(rng, fresh()), acceptable: false };
    case 4: {
      const packet = captured.length > 0 ? rng.pick(captured) : fresh();
      return { kind: 'captured heartbeat mutated', packet: mutateBytes(rng, packet), acceptable: false };
    }
    case 5:
      return { kind: 'captured heartbeat replayed', packet: captured.length > 0 ? rng.pick(captured) : randomBytes(rng, 60), acceptable: false };
    case 6: {
      const packet = fresh();
      return { kind: 'heartbeat cut short', packet: packet.subarray(0, rng.int(packet.length)), acceptable: false };
    }
    case 7: {
      // Authentic, with fields a sender should never use (the packet may fail to encode: then garbage).
      const odd = { ...heartbeat(), [rng.pick(['node', 'incarnation', 'host', 'cluster'])]: randomString(rng, 80), timestamp: rng.pick([0, Date.now() - 3_600_000, Date.now() + 3_600_000, Date.now()]), sequence: rng.pick([0, 1, 2 ** 32 - 1]) };
      try {
        const packet = codec.encode(odd);
        return { kind: 'authentic heartbeat, odd fields', packet, acceptable: odd.cluster === cluster };
      } catch {
        return { kind: 'authentic heartbeat, odd fields (not encodable)', packet: randomBytes(rng, 80), acceptable: false };
      }
    }
    case 8:
      return { kind: 'authentic heartbeat', packet: fresh(), acceptable: true };
    default: {
      // A valid MAC over a body that does not parse: the body is checked before the MAC.
      const packet = fresh();
      const body = Buffer.from(packet.subarray(6, packet.length - 32));
      body[rng.int(Math.max(1, body.length))] = rng.int(256);
      return { kind: 'heartbeat, body bytes changed', packet: Buffer.concat([packet.subarray(0, 6), body, packet.subarray(packet.length - 32)]), acceptable: false };
    }
  }
}

// ---------------------------------------------------------------- the data file

/** A change to a copy of a data file, described so a failure can say what it was. */
export interface DiskDamage {
  describe: string;
  apply(data: Buffer): Buffer;
}

/**
 * 1 to 6 changes to a data file of `pageSize`-byte pages: bytes at random
 * offsets (anywhere, in the used pages, in a page header, in a value), a
 * page zeroed or filled with noise, or the file cut or extended.
 */
export function diskDamage(rng: Random, size: number, pageSize: number, valueOffsets: number[]): DiskDamage[] {
  const pages = Math.max(1, Math.floor(size / pageSize));
  const damage: DiskDamage[] = [];
  for (let count = rng.between(1, 6); count > 0; count--) {
    const byte = (at: number): DiskDamage => {
      const value = rng.int(256);
      return { describe: `byte ${at} = ${value}`, apply: (data) => ((data[at] = value), data) };
    };
    switch (rng.int(9)) {
      case 0:
      case 1:
        damage.push(byte(rng.int(size)));
        break;
      case 2:
        // In the page header (page number, txnid, flags, bounds) of a page.
        damage.push(byte(rng.int(pages) * pageSize + rng.int(24)));
        break;
      case 3:
        // In the node index or node headers near the start of a page.
        damage.push(byte(rng.int(pages) * pageSize + 24 + rng.int(64)));
        break;
      case 4:
        if (valueOffsets.length > 0) damage.push(byte(rng.pick(valueOffsets) + rng.int(40)));
        break;
      case 5: {
        const page = rng.between(2, pages - 1);
        const fill = rng.int(2) === 0;
        const noise = randomBytes(rng, pageSize);
        damage.push({ describe: `page ${page} ${fill ? 'filled with noise' : 'zeroed'}`, apply: (data) => ((fill ? noise : Buffer.alloc(pageSize)).copy(data, page * pageSize), data) });
        break;
      }
      case 6: {
        const at = rng.int(size);
        const bit = rng.int(8);
        damage.push({ describe: `bit ${bit} of byte ${at} flipped`, apply: (data) => ((data[at] ^= 1 << bit), data) });
        break;
      }
      case 7: {
        const length = rng.pick([rng.int(size), size - pageSize, size - 1, 2 * pageSize]);
        damage.push({ describe: `cut to ${length} bytes`, apply: (data) => data.subarray(0, Math.max(0, length)) });
        break;
      }
      default: {
        const extra = randomBytes(rng, rng.pick([1, pageSize, 3 * pageSize]));
        damage.push({ describe: `${extra.length} bytes appended`, apply: (data) => Buffer.concat([data, extra]) });
      }
    }
  }
  return damage;
}
