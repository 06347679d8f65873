import { Packr, Unpackr } from 'msgpackr';
import { settleValue } from './settle';
import { encodeValue, encodeWithTail } from './value-codec';
import { copyValue } from './value-copy';

describe('settleValue', () => {
  it('makes decoded data what the store holds: frozen, Buffers as Uint8Array, Dates and binaries inside as copying getters', () => {
    const decoded = { name: 'x', raw: Buffer.from([1, 2]), at: new Date(5), list: [Buffer.from([3]), { deep: [1] }] };
    const settled = settleValue(decoded) as unknown as { raw: Uint8Array; at: Date; list: [Uint8Array, { deep: number[] }] };
    expect(settled).toBe(decoded);
    expect(Object.isFrozen(settled) && Object.isFrozen(settled.list) && Object.isFrozen(settled.list[1].deep)).toBe(true);
    expect(settled.raw.constructor).toBe(Uint8Array);
    expect(settled.list[0].constructor).toBe(Uint8Array);
    expect(settled.raw).not.toBe(settled.raw);
    settled.at.setTime(0);
    expect(settled.at.getTime()).toBe(5);
  });

  it('gives a binary value a Uint8Array of its own, and keeps what is frozen already as it is', () => {
    const top = settleValue(Buffer.from([9])) as Uint8Array;
    expect(top.constructor).toBe(Uint8Array);
    expect([...top]).toEqual([9]);
    const pooled = Buffer.from('pooled'); // a view into Node's shared pool
    const own = settleValue(pooled) as Uint8Array;
    expect(own.buffer).not.toBe(pooled.buffer);
    expect(own.byteLength).toBe(own.buffer.byteLength);
    const frozen = Object.freeze({ open: { x: 1 } });
    expect(settleValue(frozen)).toBe(frozen);
    expect(Object.isFrozen(frozen.open)).toBe(false);
    expect(settleValue('text')).toBe('text');
  });
});

describe('the value codec', () => {
  it('is the encoding the disk copy always had (plain MessagePack, no records)', () => {
    const value = { a: [1, 'x', null], b: { c: true } };
    expect(encodeValue(value)).toEqual(new Packr({ useRecords: false }).pack(value));
    expect(new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(encodeValue(value))).toEqual(value);
  });

  it('writes a record around bytes already encoded exactly as it writes the record with the value', () => {
    const value = copyValue({ big: 'x'.repeat(300), bytes: new Uint8Array([1, 2]) });
    const head = [1.7e12, 12, 'a@127.0.0.1', 0];
    expect(encodeWithTail(head, encodeValue(value))).toEqual(encodeValue([...head, value]));
  });
});
