import {
  decodeAckBody,
  decodeAckPayload,
  encodeAckFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameKind,
  MessageCodec,
} from './frame-codec';
import { TransportError } from './transport.error';

describe('FrameDecoder', () => {
  const frames = [
    encodeFrame(FrameKind.Ping),
    encodeFrame(FrameKind.Message, Buffer.from('hello')),
    encodeFrame(FrameKind.Message, Buffer.alloc(70_000, 7)),
  ];
  const stream = Buffer.concat(frames);
  // Compared as hex: Jest's deep equality walks Buffers byte by byte, which is slow.
  const hex = (buffers: Buffer[]) => buffers.map((buffer) => buffer.toString('hex'));
  const payloads = hex(frames.map((frame) => frame.subarray(FRAME_HEADER_BYTES)));

  it('returns the payloads of frames that arrive in one chunk', () => {
    expect(hex(new FrameDecoder().push(stream))).toEqual(payloads);
  });

  it('reassembles frames split at every possible byte', () => {
    for (const size of [1, 2, 3, 5, 4096]) {
      const decoder = new FrameDecoder();
      const out: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += size) {
        out.push(...decoder.push(stream.subarray(offset, offset + size)));
      }
      expect(hex(out)).toEqual(payloads);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('rejects an oversized header before the body arrives', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 * 1024, 0);
    expect(() => decoder.push(header)).toThrow(TransportError);
    expect(() => new FrameDecoder(1024).push(header)).toThrow(/67108864 bytes exceeds the 1024-byte limit/);
  });

  it('rejects an empty frame (no kind byte) with a message that says so, wherever it falls in a chunk', () => {
    // The header alone, as the whole chunk: nothing buffered behind it.
    expect(() => new FrameDecoder().push(Buffer.alloc(4))).toThrow(/empty frame \(length 0\)/);
    const after = Buffer.concat([encodeFrame(FrameKind.Ping), Buffer.alloc(4), encodeFrame(FrameKind.Ping)]);
    expect(() => new FrameDecoder().push(after)).toThrow(expect.objectContaining({ code: 'protocol-error' }));
  });

  it('accepts a frame of exactly the limit', () => {
    const frame = encodeFrame(FrameKind.Message, Buffer.alloc(1023));
    expect(new FrameDecoder(1024).push(frame)).toHaveLength(1);
  });
});

describe('MessageCodec', () => {
  /** Decodes a whole frame as the receiving link does. */
  const decode = (codec: MessageCodec, frame: Buffer) => codec.decode(frame.subarray(FRAME_HEADER_BYTES + 1));

  it('round-trips messages that share record structures, in order', () => {
    const sender = new MessageCodec();
    const receiver = new MessageCodec();
    const messages = Array.from({ length: 100 }, (_, i) => ({ t: 'put', key: ['s', i], value: { n: i } }));
    const frames = messages.map((message) => sender.encode(message));
    expect(frames.map((frame) => decode(receiver, frame))).toEqual(messages);
    expect(frames[1].length).toBeLessThan(frames[0].length); // the structure went out once
  });

  it('encodes a shared message once for every link, readable by any receiver in any order', () => {
    const [a, b] = [new MessageCodec(), new MessageCodec()];
    const messages = Array.from({ length: 3 }, (_, i) => ({ t: 'write', id: i, batches: [['t', ['n', `k${i}`, { user: 'u', n: i }]]] }));
    const frames = messages.map((message) => a.encodeShared(message));
    expect(b.encodeShared(messages[1])).toBe(frames[1]); // the same bytes for the second link
    expect(frames[2][FRAME_HEADER_BYTES]).toBe(FrameKind.Shared);
    expect(frames[2].readUInt32BE(0)).toBe(frames[2].length - FRAME_HEADER_BYTES);
    // Each frame defines its own structures: a fresh receiver reads the last one first.
    const receiver = new MessageCodec();
    expect(receiver.decodeShared(frames[2].subarray(FRAME_HEADER_BYTES + 1))).toEqual(messages[2]);
    expect(receiver.decodeShared(frames[0].subarray(FRAME_HEADER_BYTES + 1))).toEqual(messages[0]);
  });

  it('refuses a shared message larger than its frame limit, and a malformed shared body', () => {
    expect(() => new MessageCodec(100).encodeShared({ blob: 'x'.repeat(200) })).toThrow(expect.objectContaining({ code: 'frame-too-large' }));
    expect(() => new MessageCodec().decodeShared(Buffer.from([0x92, 0x01]))).toThrow(expect.objectContaining({ code: 'protocol-error' }));
  });

  it('writes a Message frame header around the body', () => {
    const frame = new MessageCodec().encode([1, 2, 3]);
    expect(frame.readUInt32BE(0)).toBe(frame.length - FRAME_HEADER_BYTES);
    expect(frame[FRAME_HEADER_BYTES]).toBe(FrameKind.Message);
  });

  it('stays in step with the decoder after a failed encode and a reset', () => {
    const sender = new MessageCodec();
    const receiver = new MessageCodec();
    expect(() => sender.encode({ fresh: 1, bad: 2n ** 100n })).toThrow(
      expect.objectContaining({ code: 'encode-failed' }),
    );
    receiver.resetDecoder(); // what the CodecReset frame makes the receiver do
    expect(decode(receiver, sender.encode({ fresh: 2, bad: 3 }))).toEqual({ fresh: 2, bad: 3 });
  });

  it('refuses a message larger than the frame limit', () => {
    expect(() => new MessageCodec(100).encode({ blob: Buffer.alloc(200) })).toThrow(
      expect.objectContaining({ code: 'frame-too-large' }),
    );
  });

  it('counts what sealing adds against the limit: the limit is on the frame as it crosses the wire', () => {
    const message = 'x'.repeat(90); // 1 kind byte + 2 bytes of string header + 90 = 93 bytes of payload
    expect(() => new MessageCodec(100).encode(message)).not.toThrow();
    expect(() => new MessageCodec(100, 16).encode(message)).toThrow(/message of 109 bytes exceeds the 100-byte frame limit/);
    expect(() => new MessageCodec(100, 16).encodeShared({ text: message })).toThrow(expect.objectContaining({ code: 'frame-too-large' }));
  });

  it('reports malformed bodies as protocol errors', () => {
    expect(() => new MessageCodec().decode(Buffer.from([0x92, 0x01]))).toThrow(
      expect.objectContaining({ code: 'protocol-error' }),
    );
  });
});

describe('ack frames', () => {
  it('carry an id through the frame decoder, without msgpack', () => {
    const [payload] = new FrameDecoder().push(encodeAckFrame(2 ** 52 + 3));
    expect(payload[0]).toBe(FrameKind.Ack);
    expect(decodeAckPayload(payload)).toBe(2 ** 52 + 3);
  });

  it('reject a payload of another size', () => {
    expect(() => decodeAckPayload(Buffer.from([FrameKind.Ack, 1, 2]))).toThrow(TransportError);
    expect(() => decodeAckBody(Buffer.alloc(9))).toThrow(/ack frame of 9 bytes, expected 8/);
  });
});
