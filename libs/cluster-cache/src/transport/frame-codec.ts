import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import { TRANSPORT_DEFAULTS } from './transport.constants';
import { errorMessage, TransportError } from './transport.error';
import { transportMessages } from './transport.messages';

/**
 * Wire format: every frame is a 4-byte big-endian length, then that many payload bytes.
 * The payload's first byte is its {@link FrameKind}; the rest is the body. After the
 * handshake every frame is sealed (see frame-cipher.ts): a 16-byte tag ends its payload.
 */
export const FRAME_HEADER_BYTES = 4;

/** Header plus kind byte: the bytes in front of every body. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + 1;

/** The first payload byte of a frame, telling what its body holds. */
export const FrameKind = {
  /** Plain msgpack handshake message; the only kind accepted before authentication. */
  Handshake: 1,
  /** Application message, msgpack with sequential record structures. */
  Message: 2,
  /** Empty; keeps an idle link alive. */
  Ping: 3,
  /** Empty; the sender is shutting down gracefully. */
  Leave: 4,
  /** Empty; the sender keeps another connection to this peer and closes this one. */
  Duplicate: 5,
  /** Empty; the sender restarted its message encoder, so the receiver restarts its decoder. */
  CodecReset: 6,
  /** An acknowledgement: a float64 (big-endian) id, see {@link encodeAckFrame}. */
  Ack: 7,
  /**
   * Application message, msgpack with its record structures defined inside it:
   * one encoding serves every link (see {@link MessageCodec.encodeShared}).
   */
  Shared: 8,
} as const;

/** One of the {@link FrameKind} values. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Builds a frame of `kind` around `body`. */
export function encodeFrame(kind: FrameKind, body: Uint8Array = EMPTY): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame[FRAME_HEADER_BYTES] = kind;
  frame.set(body, FRAME_OVERHEAD_BYTES);
  return frame;
}

const EMPTY = new Uint8Array(0);

/** Body length of an {@link FrameKind.Ack} frame: a float64 id. */
export const ACK_BODY_BYTES = 8;

/** Payload length of an {@link FrameKind.Ack} frame before sealing: kind byte + float64 id. */
export const ACK_PAYLOAD_BYTES = 1 + ACK_BODY_BYTES;

/**
 * Builds an ack frame: fixed size, written field by field, so an ack costs no
 * msgpack encode or decode on either side. A float64 holds any id a counter
 * reaches (2^53), where 4 bytes would wrap within hours at full speed.
 */
export function encodeAckFrame(id: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + ACK_PAYLOAD_BYTES);
  frame.writeUInt32BE(ACK_PAYLOAD_BYTES, 0);
  frame[FRAME_HEADER_BYTES] = FrameKind.Ack;
  frame.writeDoubleBE(id, FRAME_OVERHEAD_BYTES);
  return frame;
}

/**
 * The id of a plain ack payload (kind byte + body), as {@link encodeAckFrame} wrote it
 * before sealing.
 *
 * @throws TransportError `'protocol-error'` when the payload is not an ack's size.
 */
export function decodeAckPayload(payload: Buffer): number {
  return decodeAckBody(payload.subarray(1));
}

/**
 * The id of an ack's body (the payload after its kind byte, once opened).
 *
 * @throws TransportError `'protocol-error'` when the body is not an ack's size.
 */
export function decodeAckBody(body: Buffer): number {
  if (body.length !== ACK_BODY_BYTES) {
    throw new TransportError('protocol-error', transportMessages.ackSize(body.length, ACK_BODY_BYTES));
  }
  return body.readDoubleBE(0);
}

/**
 * Splits a byte stream into frame payloads (kind byte + body).
 *
 * The announced length is checked as soon as the header is complete, so an oversized frame
 * is a protocol error before any of its body is held; so is an empty one (no kind byte). Every byte is copied at most once:
 * a frame inside one chunk is a view of it; a frame spanning chunks is joined once.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being read; -1 while its header is incomplete. */
  private expected = -1;

  constructor(
    /** Largest payload accepted; may be raised once the peer is authenticated. */
    public maxFrameBytes: number = TRANSPORT_DEFAULTS.maxFrameBytes,
  ) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and returns the payloads it completed, in order.
   *
   * @throws TransportError `'protocol-error'` when a header announces more than
   * `maxFrameBytes`, or nothing at all; the decoder must then be discarded.
   */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const payloads: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          throw new TransportError('protocol-error', transportMessages.frameTooLarge(length, this.maxFrameBytes));
        }
        if (length === 0) throw new TransportError('protocol-error', transportMessages.emptyFrame());
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      payloads.push(this.take(this.expected));
      this.expected = -1;
    }
    return payloads;
  }

  private take(length: number): Buffer {
    this.buffered -= length;
    const first = this.chunks[0];
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let used = 0; // chunks consumed whole, dropped at once below
    for (let offset = 0; offset < length; ) {
      const chunk = this.chunks[used];
      const count = Math.min(chunk.length, length - offset);
      chunk.copy(out, offset, 0, count);
      offset += count;
      if (count === chunk.length) used++;
      else this.chunks[used] = chunk.subarray(count);
    }
    this.chunks.splice(0, used);
    return out;
  }
}

/**
 * The message codec of one connection: a msgpackr `Packr` for what this side sends and an
 * `Unpackr` for what it receives.
 *
 * Both use sequential record structures: a structure is defined in the stream the first
 * time it is used and referenced afterwards, so each pair only works on one ordered stream,
 * and a failed encode may leave the encoder ahead of the peer's decoder. {@link encode}
 * then restarts the encoder and the caller sends a {@link FrameKind.CodecReset} frame so
 * the peer restarts its decoder at the same point.
 */
export class MessageCodec {
  private packr = createMessagePackr();
  private unpackr = createMessageUnpackr();

  constructor(
    /** Largest frame sent, counted as it goes out (sealed). */
    private readonly maxFrameBytes: number = TRANSPORT_DEFAULTS.maxFrameBytes,
    /** Bytes sealing adds to every frame (its tag), counted against `maxFrameBytes`. */
    private readonly sealOverhead = 0,
  ) {}

  /**
   * Encodes `message` as a complete {@link FrameKind.Shared} frame, once for
   * every link that sends the same message object (a write goes to every peer):
   * the frame depends on no link's record structures.
   *
   * @throws TransportError `'encode-failed'` or `'frame-too-large'`; no encoder state changes.
   */
  encodeShared(message: object): Buffer {
    let frame = sharedFrames.get(message);
    if (frame === undefined) {
      frame = packFrame(sharedPackr, message, FrameKind.Shared);
      sharedFrames.set(message, frame);
    }
    checkFrameSize(frame, this.maxFrameBytes, this.sealOverhead);
    return frame;
  }

  /**
   * Decodes the body of a {@link FrameKind.Shared} payload (the payload without its kind byte).
   *
   * @throws TransportError `'protocol-error'` when the body is not valid msgpack.
   */
  decodeShared(body: Buffer): unknown {
    return unpackBody(sharedUnpackr, body);
  }

  /**
   * Encodes `message` as a complete {@link FrameKind.Message} frame.
   *
   * @throws TransportError `'encode-failed'` or `'frame-too-large'`; the encoder has then
   * been restarted and a {@link FrameKind.CodecReset} frame must precede the next message.
   */
  encode(message: unknown): Buffer {
    try {
      const frame = packFrame(this.packr, message, FrameKind.Message);
      checkFrameSize(frame, this.maxFrameBytes, this.sealOverhead);
      return frame;
    } catch (error) {
      // The encoder may have defined structures the peer never sees: both sides start afresh.
      this.packr = createMessagePackr();
      throw error;
    }
  }

  /**
   * Decodes the body of a {@link FrameKind.Message} payload (the payload without its kind byte).
   *
   * @throws TransportError `'protocol-error'` when the body is not valid msgpack.
   */
  decode(body: Buffer): unknown {
    return unpackBody(this.unpackr, body);
  }

  /** Restarts the decoder, on the peer's {@link FrameKind.CodecReset}. */
  resetDecoder(): void {
    this.unpackr = createMessageUnpackr();
  }
}

// msgpackr stores state in the options object it is given (e.g. the structures array), so
// every instance gets a fresh one.
function createMessagePackr(): Packr {
  return new Packr({ useRecords: true, sequential: true });
}

/**
 * Binaries of a message are views of the frame, not copies (a copy per value
 * of a write or a join copy cost a third of decoding it): frames are never
 * reused, and nothing a message carries is kept as it arrived — values are
 * copied into the slab or decoded by the value codec (which copies), other
 * binaries read into typed arrays of their own (wire-arrays.ts).
 */
const MESSAGE_BINARIES = { copyBuffers: false } as const;

function createMessageUnpackr(): Unpackr {
  return new Unpackr({ useRecords: true, sequential: true, ...MESSAGE_BINARIES });
}

/** `message` encoded as a whole frame of `kind`. Reserving the header space lets msgpackr write the body in place: no copy per frame. */
function packFrame(packr: Packr, message: unknown, kind: FrameKind): Buffer {
  let frame: Buffer;
  try {
    frame = packr.pack(message, RESERVE_START_SPACE | FRAME_OVERHEAD_BYTES);
  } catch (error) {
    throw new TransportError('encode-failed', `cannot encode message: ${errorMessage(error)}`, { cause: error });
  }
  frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
  frame[FRAME_HEADER_BYTES] = kind;
  return frame;
}

function checkFrameSize(frame: Buffer, maxFrameBytes: number, sealOverhead: number): void {
  const length = frame.length - FRAME_HEADER_BYTES + sealOverhead;
  if (length > maxFrameBytes) {
    throw new TransportError('frame-too-large', transportMessages.messageTooLarge(length, maxFrameBytes));
  }
}

function unpackBody(unpackr: Unpackr, body: Buffer): unknown {
  try {
    return unpackr.unpack(body);
  } catch (error) {
    throw new TransportError('protocol-error', transportMessages.malformedMessage(errorMessage(error)), { cause: error });
  }
}

// Shared frames: structures defined in each message (none kept between messages), so any decoder reads any frame.
const sharedPackr = new Packr({ useRecords: true, maxSharedStructures: 0 });
const sharedUnpackr = new Unpackr({ useRecords: true, maxSharedStructures: 0, ...MESSAGE_BINARIES });
/** The shared frame of each message object still referenced (a write waits in flight until every peer applied it). */
const sharedFrames = new WeakMap<object, Buffer>();

const handshakePackr = new Packr({ useRecords: false });
const handshakeUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Encodes a handshake message (plain msgpack, no record structures) as a frame. */
export function encodeHandshakeFrame(message: object): Buffer {
  return encodeFrame(FrameKind.Handshake, handshakePackr.pack(message));
}

/**
 * Decodes a handshake payload (kind byte + body).
 *
 * @throws TransportError `'protocol-error'` for another frame kind or malformed msgpack.
 */
export function decodeHandshakePayload(payload: Buffer): unknown {
  if (payload[0] !== FrameKind.Handshake) {
    throw new TransportError('protocol-error', transportMessages.notHandshakeFrame(payload[0]));
  }
  try {
    return handshakeUnpackr.unpack(payload.subarray(1));
  } catch (error) {
    throw new TransportError('protocol-error', transportMessages.malformedHandshake(errorMessage(error)), { cause: error });
  }
}
