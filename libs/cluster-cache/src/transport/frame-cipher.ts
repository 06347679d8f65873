import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES } from './frame-codec';
import { transportMessages } from './transport.messages';
import { TransportError } from './transport.error';

/**
 * The AEAD of every frame after the handshake. AES-256-GCM: with AES-NI it is
 * the faster of node:crypto's two AEADs here (ChaCha20-Poly1305 is the other),
 * and a frame's cost is mostly the cipher object's set-up either way.
 */
export const FRAME_CIPHER = 'aes-256-gcm';

/** Bytes of the authentication tag at the end of every sealed frame. */
export const FRAME_TAG_BYTES = 16;

/** Bytes of a frame key. */
export const FRAME_KEY_BYTES = 32;

const NONCE_BYTES = 12;

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
  /** Frames sealed or opened so far; the next one's number. */
  protected frames = 0;
  protected readonly key: KeyObject;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    key: Buffer,
    readonly protection: FrameProtection,
  ) {
    this.key = createSecretKey(key);
  }

  /** The nonce of the next frame (a view, reused: the cipher copies it). */
  protected nextNonce(): Buffer {
    const n = this.frames++;
    this.nonce.writeUInt32BE(Math.floor(n / 2 ** 32), 4);
    this.nonce.writeUInt32BE(n >>> 0, 8);
    return this.nonce;
  }
}

/** Seals the frames one side sends on a link. */
export class FrameSealer extends FrameDirection {
  /**
   * Seals a complete frame (header, kind byte, body) and returns the parts of
   * the sealed frame, to be written in order. `frame` is not changed, so one
   * encoding may be sealed for several links; the body is encrypted straight
   * from it into the part that goes out (authenticated only: it goes out as it is).
   */
  seal(frame: Buffer): Buffer[] {
    const header = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES);
    header.writeUInt32BE(frame.length - FRAME_HEADER_BYTES + FRAME_TAG_BYTES, 0);
    header[FRAME_HEADER_BYTES] = frame[FRAME_HEADER_BYTES];
    const body = frame.subarray(FRAME_OVERHEAD_BYTES);
    const cipher = createCipheriv(FRAME_CIPHER, this.key, this.nextNonce(), { authTagLength: FRAME_TAG_BYTES });
    cipher.setAAD(header);
    if (this.protection === 'authenticated') {
      cipher.setAAD(body);
      cipher.final();
      return [header, body, cipher.getAuthTag()];
    }
    const encrypted = cipher.update(body);
    cipher.final();
    return [header, encrypted, cipher.getAuthTag()];
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
    const number = this.frames;
    if (payload.length < 1 + FRAME_TAG_BYTES) {
      throw new TransportError('frame-auth-failed', transportMessages.frameTooShortToOpen(number, payload.length));
    }
    this.header.writeUInt32BE(payload.length, 0);
    this.header[FRAME_HEADER_BYTES] = payload[0];
    const decipher = createDecipheriv(FRAME_CIPHER, this.key, this.nextNonce(), { authTagLength: FRAME_TAG_BYTES });
    decipher.setAAD(this.header);
    decipher.setAuthTag(payload.subarray(payload.length - FRAME_TAG_BYTES));
    const body = payload.subarray(1, payload.length - FRAME_TAG_BYTES);
    try {
      if (this.protection === 'authenticated') {
        decipher.setAAD(body);
        decipher.final();
        return body;
      }
      const plain = decipher.update(body);
      decipher.final(); // throws unless the tag verifies; `plain` is not used before
      return plain;
    } catch {
      throw new TransportError('frame-auth-failed', transportMessages.frameAuthFailed(number, payload[0], payload.length));
    }
  }
}
