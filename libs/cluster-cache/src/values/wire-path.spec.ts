import { flatStates, fromFlat, putFlat } from '../replication/flat-states';
import type { ReplicationMessage } from '../replication/messages';
import { PeerSession } from '../replication/peer-session';
import type { EntryState } from '../store/entry';
import { FRAME_OVERHEAD_BYTES, MessageCodec } from '../transport/frame-codec';
import type { PeerLink } from '../transport/peer-link.interface';
import { TransportError } from '../transport/transport.error';
import { heldEncoding, holdEncoding, releaseEncoding } from './held-encodings';
import { readValue } from './leaves';
import { settleValue } from './settle';
import { decodeValue, encodeValue } from './value-codec';
import { copyValue } from './value-copy';
import { fromWire, toWire } from './wire-value';

/**
 * A value that fits a frame as its value-codec bytes but would not in line, where
 * each of its objects is a new msgpackr record definition (100 shapes in
 * turn, more than the 64 a link keeps): it must still reach the peer. The
 * link encodes with the transport's own MessageCodec, with frames as small as
 * the value's bytes allow.
 */
describe('a value too large in line for a frame', () => {
  const value = copyValue(Array.from({ length: 20_000 }, (_, i) => ({ [`a${i % 100}`]: i % 100 })));
  const bytes = encodeValue(value).length;
  const state: EntryState = { ns: 'cache', key: 'shapes', value, expiresAt: 2e12, version: 3.5e15, seen: 0, origin: 'a@127.0.0.1' };

  /** A link whose frames go through a sender and a receiver codec, as a TCP link's do (a failed encode resets both). */
  function codecLink(received: ReplicationMessage[]): PeerLink {
    const sender = new MessageCodec(bytes + 1024);
    const receiver = new MessageCodec(bytes + 1024);
    let reset = false;
    const send = (message: ReplicationMessage) => {
      let frame: Buffer;
      try {
        frame = sender.encode(message);
      } catch (error) {
        reset = true;
        throw error;
      }
      if (reset) receiver.resetDecoder();
      reset = false;
      received.push(receiver.decode(frame.subarray(FRAME_OVERHEAD_BYTES)) as ReplicationMessage);
      return true;
    };
    return {
      id: 'l',
      peer: { name: 'b@127.0.0.2', host: '127.0.0.2', port: 1, incarnation: 'i', startedAt: 0 },
      direction: 'outbound',
      bufferedBytes: 0,
      send,
      sendShared: send,
      sendAck: () => true,
      onAck: () => () => undefined,
      onMessage: () => () => undefined,
      onClose: () => () => undefined,
      close: () => undefined,
    } as unknown as PeerLink;
  }

  const valueOf = (message: ReplicationMessage): unknown => {
    const flat = message.t === 'copy-chunk' ? message.states : message.t === 'write' ? message.batches[0][1] : [];
    const [received] = fromFlat(flat);
    return readValue(settleValue(received.value));
  };

  it('is larger in line than a frame allows (why it needs the bytes)', () => {
    expect(() => new MessageCodec(bytes + 1024).encode({ t: 'copy-chunk', id: 1, table: 't', states: [null, 'k', value] })).toThrow(TransportError);
  });

  it('goes in a join copy as its bytes, after the chunk was split down to it', () => {
    const received: ReplicationMessage[] = [];
    const small: EntryState = { ...state, key: 'small', value: copyValue({ a: 1 }) };
    const chunk = flatStates(3);
    putFlat(chunk, 0, small);
    putFlat(chunk, 1, state, small);
    putFlat(chunk, 2, { ...small, key: 'after' }, state);
    new PeerSession(codecLink(received)).send({ t: 'copy-chunk', id: 1, table: 'sessions', states: chunk });
    const states = received.flatMap((m) => (m.t === 'copy-chunk' ? fromFlat(m.states) : []));
    expect(states.map((s) => s.key)).toEqual(['small', 'shapes', 'after']);
    const shapes = readValue(settleValue(states[1].value)) as Array<Record<string, number>>;
    expect(shapes).toHaveLength(20_000);
    expect(shapes).toEqual(value);
  });

  it('goes in a write as the bytes its put holds, in one message', () => {
    const received: ReplicationMessage[] = [];
    holdEncoding(value, encodeValue(value));
    const flat = flatStates(1);
    putFlat(flat, 0, state);
    releaseEncoding(value);
    new PeerSession(codecLink(received)).send({ t: 'write', id: 1, batches: [['sessions', flat]] });
    expect(received).toHaveLength(1);
    expect(valueOf(received[0])).toEqual(value);
  });
});

describe('values on the wire', () => {
  it('sends every value as its value-codec bytes, a tombstone as undefined', () => {
    for (const input of [new Uint8Array([1, 2, 3]), { a: 1 }, [1, 'x'], 'text', 42, null, true]) {
      const value = copyValue(input);
      const wire = toWire(value);
      expect(wire).toBeInstanceOf(Uint8Array);
      expect(wire).toEqual(encodeValue(value));
      expect(readValue(fromWire(Buffer.from(wire as Uint8Array)))).toEqual(input);
    }
    expect(toWire(undefined)).toBeUndefined();
  });

  it('gives a binary value back as a Uint8Array, and takes a value a peer sent in line as it is', () => {
    const back = fromWire(Buffer.from(toWire(copyValue(new Uint8Array([1, 2, 3]))) as Uint8Array)) as Uint8Array;
    expect(back.constructor).toBe(Uint8Array);
    expect(readValue(back)).toEqual(new Uint8Array([1, 2, 3]));
    const plain = copyValue({ a: 1 });
    expect(fromWire(plain)).toBe(plain);
  });

  it('sends the encoding a put holds instead of encoding the value again, until the put releases it', () => {
    const value = copyValue({ a: 'large' });
    const bytes = encodeValue(value);
    holdEncoding(value, bytes);
    expect(heldEncoding(value)).toBe(bytes);
    expect(toWire(value)).toBe(bytes);
    releaseEncoding(value);
    expect(heldEncoding(value)).toBeUndefined();
    expect(toWire(value)).not.toBe(bytes);
    expect(decodeValue(toWire(value) as Uint8Array)).toEqual({ a: 'large' });
  });
});
