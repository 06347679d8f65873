import { aead, AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './aead';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES } from './frame-codec';
import { transportMessages } from './transport.messages';
import { TransportError } from './transport.error';

/**
 * The AEAD of every frame after the handshake: ChaCha20-Poly1305 (RFC 8439),
 * from libsodium when sodium-native loads (one native call per frame, no
 * context to set up), else from node:crypto — the same bytes either way.
 */
export const FRAME_CIPHER = 'chacha20-poly1305';

/** Bytes of the authentication tag at the end of every sealed frame. */
export const FRAME_TAG_BYTES = AEAD_TAG_BYTES;

/** Bytes of a frame key. */
export const FRAME_KEY_BYTES = AEAD_KEY_BYTES;

/**
 * How one side protects the frames it sends: `'encrypted'` (the default) or
 * `'authenticated'` (the body in clear, for links TLS already encrypts). Both
 * authenticate every frame; each side announces its choice in the handshake.
 */
export type FrameProtection = 'encrypted' | 'authenticated';

/**
 * One direction of a link's frame protection, as both ends hold it: the key
 * of that direction and the count of frames sealed (or opened) so far.
 *
 * The count is the nonce and is never sent: each end counts for itself, so a
 * frame that is forged, replayed, reordered or follows a dropped one fails
 * authentication. The header (length and kind byte) is authenticated too.
 *
 * ```
 * sealed frame  u32 length | u8 kind | body, encrypted or not | tag (16)
 * nonce         4 zero bytes | u64 frame number (big-endian)
 * AAD           u32 length | u8 kind          (authenticated only: | body)
 * ```
 */
abstract class FrameDirection {
  /** Frames sealed or opened so far: the next one's number. */
  private frames = 0;
  private readonly nonce = Buffer.alloc(AEAD_NONCE_BYTES);

  constructor(
    protected readonly key: Buffer,
    readonly protection: FrameProtection,
  ) {}

  /** The number of the next frame, with its nonce set. */
  protected next(): number {
    const number = this.frames++;
    const nonce = this.nonce;
    // Byte by byte (typed-array stores keep the low 8 bits): this runs for every frame.
    const low = number >>> 0;
    nonce[8] = low >>> 24;
    nonce[9] = low >>> 16;
    nonce[10] = low >>> 8;
    nonce[11] = low;
    if (number >= 2 ** 32) nonce.writeUInt32BE(Math.floor(number / 2 ** 32), 4);
    return number;
  }

  /** The nonce of the frame `next()` returned last (one buffer, overwritten by the next frame). */
  protected get currentNonce(): Buffer {
    return this.nonce;
  }
}

/** Seals the frames one side sends on a link. */
export class FrameSealer extends FrameDirection {
  /**
   * Seals a complete frame (header, kind byte, body) into a new buffer, the
   * sealed frame as it goes on the wire: one allocation, sealed in place (no
   * copy of the parts afterwards). `frame` is not changed, so one encoding may
   * be sealed for several links.
   */
  seal(frame: Buffer): Buffer {
    const bodyBytes = frame.length - FRAME_OVERHEAD_BYTES;
    const sealed = Buffer.allocUnsafe(frame.length + FRAME_TAG_BYTES);
    sealed.writeUInt32BE(1 + bodyBytes + FRAME_TAG_BYTES, 0);
    sealed[FRAME_HEADER_BYTES] = frame[FRAME_HEADER_BYTES];
    this.next();
    if (this.protection === 'authenticated') {
      // The body in clear, then a tag over header and body.
      frame.copy(sealed, FRAME_OVERHEAD_BYTES, FRAME_OVERHEAD_BYTES);
      const clear = FRAME_OVERHEAD_BYTES + bodyBytes;
      aead.sealInto(sealed.subarray(clear), EMPTY, sealed.subarray(0, clear), this.currentNonce, this.key);
    } else {
      aead.sealInto(sealed.subarray(FRAME_OVERHEAD_BYTES), frame.subarray(FRAME_OVERHEAD_BYTES), sealed.subarray(0, FRAME_OVERHEAD_BYTES), this.currentNonce, this.key);
    }
    return sealed;
  }
}

/** Opens the frames one side receives on a link. */
export class FrameOpener extends FrameDirection {
  private readonly header = Buffer.alloc(FRAME_OVERHEAD_BYTES);

  /**
   * Checks a sealed payload (kind byte, body, tag; the decoder took the length
   * off) and returns its plain body.
   *
   * @throws TransportError `'frame-auth-failed'` when the tag does not verify:
   * the frame was forged or altered, or it is not the next frame the peer sealed
   * (replayed, reordered, or one before it was dropped). The link must close.
   */
  open(payload: Buffer): Buffer {
    const number = this.next();
    if (payload.length < 1 + FRAME_TAG_BYTES) {
      throw new TransportError('frame-auth-failed', transportMessages.frameTooShortToOpen(number, payload.length));
    }
    this.header.writeUInt32BE(payload.length, 0);
    this.header[FRAME_HEADER_BYTES] = payload[0];
    const sealed = payload.subarray(1);
    let plain: Buffer | undefined;
    if (this.protection === 'authenticated') {
      const body = sealed.subarray(0, sealed.length - FRAME_TAG_BYTES);
      const tag = sealed.subarray(sealed.length - FRAME_TAG_BYTES);
      plain = aead.open(tag, Buffer.concat([this.header, body]), this.currentNonce, this.key) === undefined ? undefined : body;
    } else {
      plain = aead.open(sealed, this.header, this.currentNonce, this.key);
    }
    if (plain === undefined) throw new TransportError('frame-auth-failed', transportMessages.frameAuthFailed(number, payload[0], payload.length));
    return plain;
  }
}

const EMPTY = Buffer.alloc(0);
