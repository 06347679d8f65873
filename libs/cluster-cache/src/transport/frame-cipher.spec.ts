import { createCipheriv, randomBytes } from 'node:crypto';
import { FRAME_CIPHER, FRAME_TAG_BYTES, FrameOpener, FrameSealer } from './frame-cipher';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameKind } from './frame-codec';

/** Sealer and opener of one direction, as both ends of a link hold them. */
function direction(protection: 'encrypted' | 'authenticated' = 'encrypted') {
  const key = randomBytes(32);
  return { key, sealer: new FrameSealer(key, protection), opener: new FrameOpener(key, protection) };
}

/** The payload (kind byte onwards) of a sealed frame, as the receiving decoder hands it over. */
function onWire(parts: Buffer[]): Buffer {
  const [payload] = new FrameDecoder().push(Buffer.concat(parts));
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

  it('round-trip frames sealed and opened with ciphers made ahead while idle, and without', async () => {
    const { sealer, opener } = direction();
    const idle = () => new Promise((resolve) => setImmediate(resolve));
    const sent: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      sent.push(onWire(sealer.seal(encodeFrame(FrameKind.Message, Buffer.from(`frame ${i}`)))));
      if (i % 2 === 1) await idle(); // frames 2 and 4 use a cipher made ahead; the others one made on the spot
    }
    const opened: string[] = [];
    for (const payload of sent) {
      opened.push(opener.open(payload).toString());
      await idle();
    }
    expect(opened).toEqual([0, 1, 2, 3, 4, 5].map((i) => `frame ${i}`));
  });

  it('seal AES-256-GCM with the frame number as nonce and the header as associated data', () => {
    const { key, sealer } = direction();
    sealer.seal(message); // frame 0
    const [header, body, tag] = sealer.seal(message); // frame 1
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(1, 8);
    const cipher = createCipheriv(FRAME_CIPHER, key, nonce, { authTagLength: 16 });
    cipher.setAAD(header);
    const expected = cipher.update(message.subarray(FRAME_HEADER_BYTES + 1));
    cipher.final();
    expect(FRAME_CIPHER).toBe('aes-256-gcm');
    expect(header.readUInt32BE(0)).toBe(message.length - FRAME_HEADER_BYTES + FRAME_TAG_BYTES);
    expect(body.equals(expected)).toBe(true);
    expect(tag.equals(cipher.getAuthTag())).toBe(true);
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
