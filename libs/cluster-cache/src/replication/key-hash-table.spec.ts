import { KeyHashTable } from './key-hash-table';

describe('KeyHashTable', () => {
  it('maps 52-bit key hashes to values, like a Map', () => {
    let seed = 3;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const keys = Array.from({ length: 5000 }, (_, i) => (i % 2 === 0 ? Math.floor(rand() * 2 ** 52) : i)); // random, and small ones whose low bits collide
    const table = new KeyHashTable(keys.length);
    const map = new Map<number, number>();
    keys.forEach((key, i) => {
      expect(table.set(key, i)).toBe(map.get(key));
      map.set(key, i);
    });
    expect(table.size).toBe(map.size);
    for (const [key, value] of map) {
      expect(table.get(key)).toBe(value);
      expect(table.has(key)).toBe(true);
    }
    expect(table.get(2 ** 52 - 1)).toBeUndefined();
    expect(table.update(2 ** 52 - 1, 5)).toBeUndefined();
    expect(table.has(2 ** 52 - 1)).toBe(false);
    expect(table.update(keys[0], 77)).toBe(map.get(keys[0]));
    expect(table.get(keys[0])).toBe(77);
    map.set(keys[0], 77);
    expect(table.has(0.5)).toBe(false);
    const visited = new Map<number, number>();
    table.forEach((key, value) => visited.set(key, value));
    expect(visited).toEqual(map);
  });

  it('holds as many keys as it was made for, and refuses more than its slots allow', () => {
    const table = new KeyHashTable(3);
    for (let key = 0; key < 8; key++) table.set(key * 2 ** 40, key);
    expect(table.size).toBe(8);
    expect(() => table.set(99, 1)).toThrow(/full/);
  });
});
