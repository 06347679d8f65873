import { Packr, Unpackr } from 'msgpackr';
import { runInNewContext } from 'node:vm';
import { inspect } from 'node:util';
import { readValue } from './leaves';
import { settleValue } from './settle';
import { readProblems, REFUSED_CASES, VALUE_CASES } from './testing/value-set';
import { decodeValue, encodeValue } from './value-codec';
import { copyValue, sizeBounds, ValueError, ValueTooLargeError } from './value-copy';

/** What the transport does with a message (frame-codec.ts's options): the link's stream, and the shared frames. */
const linkPackr = new Packr({ useRecords: true, sequential: true });
const linkUnpackr = new Unpackr({ useRecords: true, sequential: true, copyBuffers: false });
const sharedPackr = new Packr({ useRecords: true, maxSharedStructures: 0 });
const sharedUnpackr = new Unpackr({ useRecords: true, maxSharedStructures: 0, copyBuffers: false });

describe('copyValue: the allowed types', () => {
  it.each(VALUE_CASES.map((c) => [c.name, c] as const))('stores %s as every read returns it', async (_, c) => {
    const copy = copyValue(c.input());
    expect(await readProblems(() => readValue(copy), (c.expected ?? c.input)())).toEqual([]);
  });

  it.each(VALUE_CASES.map((c) => [c.name, c] as const))('gives back %s through the value codec (disk, Redis, bytes on the wire)', async (_, c) => {
    const decoded = decodeValue(encodeValue(copyValue(c.input())));
    expect(await readProblems(() => readValue(decoded), (c.expected ?? c.input)())).toEqual([]);
  });

  it.each(VALUE_CASES.filter((c) => !(c.input() instanceof Uint8Array)).map((c) => [c.name, c] as const))(
    'gives back %s in line in a cluster message (msgpackr records), once settled',
    async (_, c) => {
      const copy = copyValue(c.input());
      for (const [packr, unpackr] of [
        [linkPackr, linkUnpackr],
        [sharedPackr, sharedUnpackr],
      ] as const) {
        const { states } = unpackr.unpack(packr.pack({ t: 'write', states: [null, 'k', copy, 1, 2] })) as { states: unknown[] };
        const settled = settleValue(states[2]); // what Store.merge does to a value that wins
        expect(await readProblems(() => readValue(settled), (c.expected ?? c.input)())).toEqual([]);
      }
    },
  );

  it('leaves the original alone, and is not changed when the original changes', () => {
    const original = { roles: ['user'], profile: { name: 'Ada' }, bytes: new Uint8Array([1]), at: new Date(5) };
    const copy = copyValue(original);
    original.roles.push('admin');
    original.bytes[0] = 9;
    original.at.setTime(9);
    expect(copy).toEqual({ roles: ['user'], profile: { name: 'Ada' }, bytes: new Uint8Array([1]), at: new Date(5) });
    expect(Object.isFrozen(original)).toBe(false);
  });

  it('hands out a Uint8Array or Date inside a value as a fresh copy on every read; one at the top is copied by readValue', () => {
    const copy = copyValue({ bytes: new Uint8Array([1, 2]), list: [new Date(5)] });
    expect(copy.bytes).not.toBe(copy.bytes);
    copy.bytes[0] = 9;
    copy.list[0].setTime(0);
    expect(copy.bytes).toEqual(new Uint8Array([1, 2]));
    expect(copy.list[0].getTime()).toBe(5);
    expect(Object.keys(copy)).toEqual(['bytes', 'list']);
    expect(JSON.stringify(copy)).toBe('{"bytes":{"0":1,"1":2},"list":["1970-01-01T00:00:00.005Z"]}');
    expect(inspect(copy)).toBe("{ bytes: Uint8Array(2) [ 1, 2 ], list: [ 1970-01-01T00:00:00.005Z ] }");
    const top = copyValue(new Uint8Array([3]));
    expect(readValue(top)).not.toBe(top);
    readValue(top)[0] = 4;
    expect(readValue(top)).toEqual(new Uint8Array([3]));
    const plain = copyValue({ a: 1 });
    expect(readValue(plain)).toBe(plain); // what sessions are: handed out as held, no copy
  });

  it('takes plain objects and Dates of another realm (a vm context) as plain data', () => {
    const foreign = runInNewContext('({ a: [1, { b: 2 }], at: new Date(7) })') as { a: unknown[]; at: Date };
    const copy = copyValue(foreign);
    expect(copy).toEqual({ a: [1, { b: 2 }], at: new Date(7) });
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});

describe('copyValue: what it refuses', () => {
  it.each(REFUSED_CASES.filter((c) => !/20 MiB|3M/.test(c.name)).map((c) => [c.name, c] as const))('refuses %s, saying what and where', (_, c) => {
    expect(() => copyValue(c.input())).toThrow(ValueError);
    expect(() => copyValue(c.input())).toThrow(c.message);
  });

  it('says where a cycle closes', () => {
    const value: Record<string, unknown> = { inner: { list: [] as unknown[] } };
    (value.inner as { list: unknown[] }).list.push(value);
    expect(() => copyValue(value)).toThrow(/nested deeper than 64 arrays and objects \(or cyclic\) \(at \.inner\.list\[0\]\) \(it is cyclic\)/);
  });

  it('stops as soon as the encoding surely exceeds the limit, before copying what is left', () => {
    expect(() => copyValue(new Uint8Array(2000), 1000)).toThrow(ValueTooLargeError);
    // Shared references make a value far larger than its objects: 2^40 paths through 40 objects.
    // The copy stops after about as much work as a legitimate value of the limit's size costs.
    let shared: unknown = 'leaf';
    for (let i = 0; i < 40; i++) shared = { l: shared, r: shared };
    const started = Date.now();
    expect(() => copyValue(shared, 1024 * 1024)).toThrow(/at least \d+ bytes encoded/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('copyValue: the size bounds', () => {
  /** A value from a seeded PRNG: every allowed type, nested, with keys of repeating and of new shapes. */
  function randomValue(rand: () => number, depth: number): unknown {
    const pick = Math.floor(rand() * (depth > 3 ? 8 : 11));
    const text = (n: number) => Array.from({ length: n }, () => ['a', 'é', '€', '😀'][Math.floor(rand() * 4)]).join('');
    switch (pick) {
      case 0:
        return null;
      case 1:
        return rand() < 0.5;
      case 2:
        return Math.floor(rand() * 2 ** (rand() * 64)) * (rand() < 0.5 ? -1 : 1);
      case 3:
        return rand() * 1e6;
      case 4:
        return text(Math.floor(rand() * 40));
      case 5:
        return new Uint8Array(Math.floor(rand() * 300));
      case 6:
        return new Date(Math.floor(rand() * 2e12) - 1e12);
      case 7:
        return undefined;
      case 8:
      case 9:
        return Array.from({ length: Math.floor(rand() * 8) }, () => randomValue(rand, depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: Math.floor(rand() * 8) }, (_, i) => [rand() < 0.5 ? `k${i}` : text(3), randomValue(rand, depth + 1)]));
    }
  }

  it('holds the value-codec size and the in-line size of a cluster message between its bounds', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const input = randomValue(rand, 0);
      if (input === undefined) continue;
      const copy = copyValue(input);
      const { lower, upper } = sizeBounds();
      const plain = encodeValue(copy).length;
      const inLine = new Packr({ useRecords: true, sequential: true }).pack(copy).length;
      expect([lower <= plain, plain <= upper, inLine <= upper]).toEqual([true, true, true]);
    }
  });

  it('holds many objects of changing shapes (each a new record definition in line) below the upper bound', () => {
    const value = Array.from({ length: 20_000 }, (_, i) => ({ [`a${i % 100}`]: i % 100 }));
    const copy = copyValue(value);
    const { upper } = sizeBounds();
    const inLine = new Packr({ useRecords: true, sequential: true }).pack(copy).length;
    expect(inLine).toBeGreaterThan(encodeValue(copy).length * 1.15); // why the bound has room for it
    expect(inLine).toBeLessThanOrEqual(upper);
  });
});
