import { type CipherGCM, createCipheriv, createDecipheriv, createSecretKey, type DecipherGCM, type KeyObject } from 'node:crypto';
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
 *
 * Making a cipher object costs several times what sealing a session-sized
 * frame with it does (node:crypto sets up an OpenSSL context per object). The
 * next frame's number is known, so its cipher is made ahead, once the event
 * loop is idle (`setImmediate`): a sync write waiting for its ack pays only
 * for the sealing on its way out and the opening of the ack.
 */
abstract class FrameDirection<C> {
  /** Frames sealed or opened so far: the next one's number. */
  private frames = 0;
  private prepared?: { number: number; cipher: C };
  private preparing = false;
  protected readonly key: KeyObject;

  constructor(
    key: Buffer,
    readonly protection: FrameProtection,
  ) {
    this.key = createSecretKey(key);
  }

  /** Makes the cipher of the frame whose nonce is `nonce`. */
  protected abstract create(nonce: Buffer): C;

  /** The number of the next frame and its cipher (the one made ahead, if any). */
  protected next(): { number: number; cipher: C } {
    const number = this.frames++;
    const prepared = this.prepared;
    this.prepared = undefined;
    const cipher = prepared?.number === number ? prepared.cipher : this.create(nonceOf(number));
    this.prepareSoon();
    return { number, cipher };
  }

  private prepareSoon(): void {
    if (this.preparing) return;
    this.preparing = true;
    setImmediate(() => {
      this.preparing = false;
      const number = this.frames;
      if (this.prepared?.number !== number) this.prepared = { number, cipher: this.create(nonceOf(number)) };
    }).unref();
  }
}

/** The nonce of frame `number`: 4 zero bytes, then the number as a u64 (big-endian). */
function nonceOf(number: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUInt32BE(Math.floor(number / 2 ** 32), 4);
  nonce.writeUInt32BE(number >>> 0, 8);
  return nonce;
}

/** Seals the frames one side sends on a link. */
export class FrameSealer extends FrameDirection<CipherGCM> {
  protected create(nonce: Buffer): CipherGCM {
    return createCipheriv(FRAME_CIPHER, this.key, nonce, { authTagLength: FRAME_TAG_BYTES });
  }

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
    const { cipher } = this.next();
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
export class FrameOpener extends FrameDirection<DecipherGCM> {
  private readonly header = Buffer.alloc(FRAME_OVERHEAD_BYTES);

  protected create(nonce: Buffer): DecipherGCM {
    return createDecipheriv(FRAME_CIPHER, this.key, nonce, { authTagLength: FRAME_TAG_BYTES });
  }

  /**
   * Checks a sealed payload (kind byte, body, tag; the decoder took the length
   * off) and returns its plain body.
   *
   * @throws TransportError `'frame-auth-failed'` when the tag does not verify:
   * the frame was forged or altered, or it is not the next frame the peer sealed
   * (replayed, reordered, or one before it was dropped). The link must close.
   */
  open(payload: Buffer): Buffer {
    const { number, cipher: decipher } = this.next();
    if (payload.length < 1 + FRAME_TAG_BYTES) {
      throw new TransportError('frame-auth-failed', transportMessages.frameTooShortToOpen(number, payload.length));
    }
    this.header.writeUInt32BE(payload.length, 0);
    this.header[FRAME_HEADER_BYTES] = payload[0];
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
