/** Layout pieces: the library's entry rebuilt piece by piece, and the proposed lean, struct-of-arrays and split layouts. */
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { settleValue as deepFreeze } from '../../libs/cluster-cache/src/values/settle';
import { NODE } from './setup';

// Layout pieces

/** The library's state, built exactly like Store.write builds it (object literal, 7 fields). */
export function currentState(key: string | readonly (string | number)[], value: unknown, expiresAt: number, version: number): EntryState {
  return { ns: 'cache', key, value, expiresAt, version, seen: 0, origin: NODE };
}

let hlcLast = 0;
/** A version like HybridLogicalClock.next() makes (a double > 2^31). */
export function nextVersion(now: number): number {
  const physical = (now - Date.UTC(2024, 0, 1)) * 4096;
  hlcLast = physical > hlcLast ? physical : hlcLast + 1;
  return hlcLast;
}

/**
 * Proposal: a lean entry. No `ns` (the namespace store knows it), no `key` (it is
 * the Map key; iterate Map entries to get it back), no `deleted` (a tombstone is
 * `value === undefined`; values are never undefined). `exp` is whole seconds
 * (ceil), a Smi until 2038, so no boxed HeapNumber and no extra pointer chase on get.
 */
export class LeanEntry {
  constructor(
    readonly value: unknown,
    readonly exp: number,
    readonly version: number,
    readonly seen: number,
    readonly origin: string,
  ) {}
}

/** A copy through JSON: exact in-object layout, but only right for JSON-safe data. */
export function jsonCopy<T>(v: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Proposal: a frozen deep copy with the exact in-object layout, made by a
 * literal factory compiled once per object shape (key list). An object literal
 * with all its keys gets exactly that many in-object fields (88 B for 8 fields),
 * where structuredClone and the library's frozenCopy (`{}` then one property at
 * a time) build 4 in-object fields + a PropertyArray (120 B). Plain objects,
 * arrays and primitives only; anything else (Date, Map, Set, typed arrays, class
 * instances, `__proto__` keys, depth > 32, which also catches cycles, or too many
 * shapes) falls back to deepFreeze(structuredClone(v)).
 */
type Factory = (v: Record<string, unknown>, copy: (x: unknown, depth: number) => unknown, depth: number) => object;
const factories = new Map<string, Factory>();
const MAX_SHAPES = 1024;
const MAX_DEPTH = 32;
/** Thrown (and caught in shapeCopy) when a value needs the structuredClone path. */
const FALLBACK = new Error('fallback to structuredClone');

export function shapeCopy<T>(v: T): T {
  try {
    return copyPlain(v, 0) as T;
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return deepFreeze(structuredClone(v));
  }
}

function copyPlain(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > MAX_DEPTH) throw FALLBACK;
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyPlain(v[i], depth + 1);
    return Object.freeze(a);
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) throw FALLBACK;
  const keys = Object.keys(v);
  const shape = keys.join('\u0000');
  let make = factories.get(shape);
  if (make === undefined) {
    if (factories.size >= MAX_SHAPES || keys.includes('__proto__')) throw FALLBACK;
    const body = keys.map((k) => `${JSON.stringify(k)}: c(v[${JSON.stringify(k)}], d + 1)`).join(', ');
    make = new Function('v', 'c', 'd', `return { ${body} };`) as Factory;
    factories.set(shape, make);
  }
  return Object.freeze(make(v as Record<string, unknown>, copyPlain, depth));
}

/** The exact-layout copy used by the proposal rows. */
export const exactCopy = shapeCopy;

/** The system clock as it was before fe3c63c: one Date.now() per read. */
export const dateNowClock = { now: Date.now };
/** The library's systemClock since fe3c63c reads Date.now() once per event-loop turn (proposal 1, landed). */
export type TurnClock = typeof systemClock;

/**
 * Proposal: struct-of-arrays. The Map holds a slot number (a Smi: no object to
 * chase); per-slot columns hold the value and the metadata as raw numbers.
 * (A real one needs a free list for deleted slots; inserts only here.)
 */
export class SoaStore {
  readonly slots = new Map<string, number>();
  values: unknown[] = [];
  exp = new Int32Array(1024);
  version = new Float64Array(1024);
  seen = new Float64Array(1024);
  origin = new Uint16Array(1024);
  size = 0;
  set(key: string, value: unknown, expMs: number, version: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.size++;
      if (slot === this.exp.length) this.grow();
      this.slots.set(key, slot);
    }
    this.values[slot] = value;
    this.exp[slot] = Math.ceil(expMs / 1000);
    this.version[slot] = version;
    this.seen[slot] = 0;
    this.origin[slot] = 0;
    return slot;
  }
  private grow(): void {
    const n = this.exp.length * 2;
    const e = new Int32Array(n);
    e.set(this.exp);
    this.exp = e;
    const v = new Float64Array(n);
    v.set(this.version);
    this.version = v;
    const s = new Float64Array(n);
    s.set(this.seen);
    this.seen = s;
    const o = new Uint16Array(n);
    o.set(this.origin);
    this.origin = o;
  }
  /** Shrinks the columns to `size` (what a store would do after a bulk load; keeps the heap figure honest). */
  trim(): void {
    this.exp = this.exp.slice(0, this.size);
    this.version = this.version.slice(0, this.size);
    this.seen = this.seen.slice(0, this.size);
    this.origin = this.origin.slice(0, this.size);
  }
}

/**
 * Proposal P5: live values straight in a Map (what get reads), metadata in a
 * second Map (what writes, merges, replication and sweeps read), and a small
 * "expiring soon" Set that the sweeper fills with the keys whose expiry falls
 * within the next sweep window (2 s). A get is a Map.get plus, only while the
 * key is in that small, cache-resident Set, an expiry check. Tombstones live only
 * in the metadata Map, so `live` holds live values only.
 */
export class LeanMeta {
  constructor(
    readonly exp: number,
    readonly version: number,
    readonly seen: number,
    readonly origin: string,
  ) {}
}
export class SplitStore {
  readonly live = new Map<string, unknown>();
  readonly meta = new Map<string, LeanMeta>();
  readonly soon = new Set<string>();
  get(key: string, now: number): unknown {
    const v = this.live.get(key);
    if (v === undefined || !this.soon.has(key)) return v;
    const m = this.meta.get(key)!;
    return m.exp * 1000 > now ? v : undefined;
  }
}

/** Slot-based expiry buckets for the SoA store (Int32Array chunks would be smaller still). */
export class SlotExpiry {
  readonly buckets = new Map<number, number[]>();
  add(slot: number, expSec: number): void {
    const list = this.buckets.get(expSec);
    if (list === undefined) this.buckets.set(expSec, [slot]);
    else list.push(slot);
  }
}
