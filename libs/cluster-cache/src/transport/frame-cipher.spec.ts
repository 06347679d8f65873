import { createCipheriv, randomBytes } from 'node:crypto';
import { aead, aeadImplementations } from './aead';
import { FRAME_CIPHER, FRAME_TAG_BYTES, FrameOpener, FrameSealer } from './frame-cipher';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameKind } from './frame-codec';

/** Sealer and opener of one direction, as both ends of a link hold them. */
function direction(protection: 'encrypted' | 'authenticated' = 'encrypted') {
  const key = randomBytes(32);
  return { key, sealer: new FrameSealer(key, protection), opener: new FrameOpener(key, protection) };
}

/** The payload (kind byte onwards) of a sealed frame, as the receiving decoder hands it over. */
function onWire(sealed: Buffer): Buffer {
  const [payload] = new FrameDecoder().push(sealed);
  return Buffer.from(payload);
}

const message = encodeFrame(FrameKind.Message, Buffer.from('user 42 signed in'));

describe('FrameSealer and FrameOpener', () => {
  it('round-trip frames in order, encrypted by default', () => {
    const { sealer, opener } = direction();
    for (const text of ['one', 'two', '']) {
      const payload = onWire(sealer.seal(encodeFrame(FrameKind.Message, Buffer.from(text))));
      expect(payload[0]).toBe(FrameKind.Message);
      expect(payload.length).toBe(1 + text.length + FRAME_TAG_BYTES);
      expect(opener.open(payload).toString()).toBe(text);
    }
    expect(onWire(sealer.seal(message)).includes('signed in')).toBe(false);
  });

  it('seal ChaCha20-Poly1305 (RFC 8439) with the frame number as nonce and the header as associated data', () => {
    const { key, sealer } = direction();
    sealer.seal(message); // frame 0
    const frame = sealer.seal(message); // frame 1
    const [header, sealed] = [frame.subarray(0, FRAME_HEADER_BYTES + 1), frame.subarray(FRAME_HEADER_BYTES + 1)];
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(1, 8);
    // node:crypto's own ChaCha20-Poly1305 gives the same bytes, whichever implementation sealed them.
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    cipher.setAAD(header, { plaintextLength: message.length - FRAME_HEADER_BYTES - 1 });
    const expected = Buffer.concat([cipher.update(message.subarray(FRAME_HEADER_BYTES + 1)), cipher.final(), cipher.getAuthTag()]);
    expect(FRAME_CIPHER).toBe('chacha20-poly1305');
    expect(header.readUInt32BE(0)).toBe(message.length - FRAME_HEADER_BYTES + FRAME_TAG_BYTES);
    expect(sealed.equals(expected)).toBe(true);
  });

  it('use libsodium when sodium-native loads, and open what node:crypto sealed (and back)', () => {
    expect(aead.name).toBe('chacha20-poly1305 (libsodium)');
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const ad = Buffer.from('header');
    const plain = Buffer.from('a session');
    const byNode = aeadImplementations.node.seal(plain, ad, nonce, key);
    expect(aead.seal(plain, ad, nonce, key).equals(byNode)).toBe(true);
    expect(aead.open(byNode, ad, nonce, key)?.toString()).toBe('a session');
    expect(aeadImplementations.node.open(aead.seal(plain, ad, nonce, key), ad, nonce, key)?.toString()).toBe('a session');
    const forged = Buffer.from(byNode);
    forged[0] ^= 1;
    expect(aead.open(forged, ad, nonce, key)).toBeUndefined();
    expect(aeadImplementations.node.open(forged, ad, nonce, key)).toBeUndefined();
  });

  it('leave the frame they seal unchanged, so one encoding serves several links', () => {
    const copy = Buffer.from(message);
    direction().sealer.seal(message);
    direction('authenticated').sealer.seal(message);
    expect(message.equals(copy)).toBe(true);
  });

  it('only authenticate with "authenticated": the body goes out as it is', () => {
    const { sealer, opener } = direction('authenticated');
    const payload = onWire(sealer.seal(message));
    expect(payload.includes('user 42 signed in')).toBe(true);
    expect(opener.open(payload).toString()).toBe('user 42 signed in');
    const altered = onWire(sealer.seal(message));
    altered[3] ^= 1;
    expect(() => opener.open(altered)).toThrow(/frame authentication failed: frame 1 /);
  });

  it.each([
    ['the kind byte', 0],
    ['a body byte', 5],
    ['a tag byte', -1],
  ])('refuse a frame with %s altered', (_, at) => {
    const { sealer, opener } = direction();
    const payload = onWire(sealer.seal(message));
    payload[at < 0 ? payload.length + at : at] ^= 0x80;
    expect(() => opener.open(payload)).toThrow(expect.objectContaining({ code: 'frame-auth-failed' }));
  });

  it('refuse a replayed frame', () => {
    const { sealer, opener } = direction();
    const payload = onWire(sealer.seal(message));
    opener.open(Buffer.from(payload));
    expect(() => opener.open(payload)).toThrow(/frame authentication failed: frame 1 .*replayed/);
  });

  it('refuse frames out of order, and the frame after a dropped one', () => {
    const swapped = direction();
    swapped.sealer.seal(message); // arrives second
    const second = onWire(swapped.sealer.seal(message));
    expect(() => swapped.opener.open(second)).toThrow(expect.objectContaining({ code: 'frame-auth-failed' }));

    const dropped = direction();
    dropped.sealer.seal(message); // lost on the way
    expect(() => dropped.opener.open(onWire(dropped.sealer.seal(message)))).toThrow(/frame 0 /);
  });

  it('refuse a frame sealed with another key (another link, or no cookie)', () => {
    const payload = onWire(direction().sealer.seal(message));
    expect(() => direction().opener.open(payload)).toThrow(expect.objectContaining({ code: 'frame-auth-failed' }));
  });

  it('refuse a plain frame, and one too short to hold a tag', () => {
    const { opener } = direction();
    expect(() => opener.open(message.subarray(FRAME_HEADER_BYTES))).toThrow(/frame authentication failed/);
    expect(() => direction().opener.open(Buffer.from([FrameKind.Ping]))).toThrow(/1 bytes, too few for a sealed frame/);
  });
});
