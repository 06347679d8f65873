import { float64Bytes, float64sOf, uint32Bytes, uint32sOf } from './wire-arrays';

describe('wire arrays', () => {
  it('round-trip typed arrays through bytes, also from views and into unaligned buffers', () => {
    const floats = new Float64Array([0, 1, 2 ** 52 - 1, 123456789.5, -3]);
    const words = new Uint32Array([0, 1, 0xffffffff, 42]);
    // As received: bytes at an odd offset of a larger buffer.
    const unaligned = (bytes: Uint8Array) => {
      const buffer = new Uint8Array(bytes.length + 3);
      buffer.set(bytes, 3);
      return buffer.subarray(3);
    };
    expect(float64sOf(unaligned(float64Bytes(floats)))).toEqual(floats);
    expect(uint32sOf(unaligned(uint32Bytes(words)))).toEqual(words);
    expect(float64sOf(float64Bytes(floats.subarray(2, 4)))).toEqual(new Float64Array([2 ** 52 - 1, 123456789.5]));
    expect(uint32sOf(uint32Bytes(words.subarray(1, 3)))).toEqual(new Uint32Array([1, 0xffffffff]));
  });

  it('refuses a byte count that is not a whole number of elements', () => {
    expect(() => float64sOf(new Uint8Array(12))).toThrow(/8-byte/);
    expect(() => uint32sOf(new Uint8Array(6))).toThrow(/4-byte/);
  });
});
