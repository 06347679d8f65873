/** A free slot: key hashes are never negative. */
const EMPTY = -1;

/**
 * A hash table from key hashes (52-bit integers, see `keyHash`) to 32-bit
 * values, in typed arrays (open addressing, linear probing). A JS Map or Set
 * of numbers that large costs ~1 µs per operation at 100k+ entries — every
 * key is a heap number — which made comparing two tables' summaries slower
 * than sending the states; this costs tens of ns.
 */
export class KeyHashTable {
  /** The key in each slot, or EMPTY. */
  private readonly keys: Float64Array;
  private readonly values: Uint32Array;
  /** 32 − log2(slots): the slot is the top bits of a multiplicative hash. */
  private readonly shift: number;
  private count = 0;

  /** A table for up to `capacity` keys (kept at most half full). */
  constructor(capacity: number) {
    let bits = 4;
    while (1 << bits < capacity * 2 && bits < 30) bits++;
    this.keys = new Float64Array(1 << bits).fill(EMPTY);
    this.values = new Uint32Array(1 << bits);
    this.shift = 32 - bits;
  }

  get size(): number {
    return this.count;
  }

  /** Sets the key's value; returns the value it replaced, or undefined if the key was absent. */
  set(key: number, value: number): number | undefined {
    const slot = this.slotOf(key);
    let previous: number | undefined = this.values[slot];
    if (this.keys[slot] === EMPTY) {
      if (this.count * 2 >= this.keys.length) throw new Error('KeyHashTable is full');
      this.keys[slot] = key;
      this.count++;
      previous = undefined;
    }
    this.values[slot] = value;
    return previous;
  }

  /** Sets the value of a key that is present; returns the value it had, or undefined (changing nothing) if it is absent. */
  update(key: number, value: number): number | undefined {
    const slot = this.slotOf(key);
    if (this.keys[slot] === EMPTY) return undefined;
    const previous = this.values[slot];
    this.values[slot] = value;
    return previous;
  }

  has(key: number): boolean {
    return this.keys[this.slotOf(key)] !== EMPTY;
  }

  /** The key's value, or undefined if the key is absent. */
  get(key: number): number | undefined {
    const slot = this.slotOf(key);
    return this.keys[slot] === EMPTY ? undefined : this.values[slot];
  }

  forEach(visit: (key: number, value: number) => void): void {
    for (let slot = 0; slot < this.keys.length; slot++) if (this.keys[slot] !== EMPTY) visit(this.keys[slot], this.values[slot]);
  }

  /** The key's slot, or the free slot where it would go. */
  private slotOf(key: number): number {
    const mask = this.keys.length - 1;
    // Fibonacci hashing of the low 32 bits, which keyHash mixes well (the low bits alone are the key's bucket).
    let slot = Math.imul(key | 0, 0x9e3779b1) >>> this.shift;
    while (this.keys[slot] !== EMPTY && this.keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }
}
