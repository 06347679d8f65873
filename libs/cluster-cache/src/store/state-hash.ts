import { EntryState, isTombstone } from './entry';
import type { NormalKey } from './key';

/**
 * Hashes that let two nodes compare tables without sending them: a key's hash
 * depends on its namespace and key only; a state's hash on its key hash and on
 * what identifies the write that made it (version, seen, origin, deleted),
 * which stands for the value too. Both are computed without building strings:
 * they run on every replicated write and over whole tables during a heal.
 * Every node must hash alike, so changing these is a wire-protocol change.
 */

/** Reads a number's IEEE-754 bits. */
const float = new Float64Array(1);
const floatWords = new Uint32Array(float.buffer);

/**
 * One step of each of the two 32-bit accumulators of `keyHash` (FNV-1a style,
 * different multipliers). Accumulators live in locals: module-level state
 * made the hash 1.5× slower.
 */
function low(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x01000193);
}

function high(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x5bd1e995);
}

/** Kinds of key part, fed before the part so `1` and `'1'` hash apart. */
const STRING = 1;
const NUMBER = 2;
const ARRAY = 3;

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function finalise(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** The two accumulators of a key hash once its namespace is fed (`seedWith`); the loops after it keep them in locals. */
const seed = new Int32Array(2);

function seedWith(ns: string): void {
  let l = low(0x811c9dc5, ns.length);
  let h = high(0x2f6b1c3d, ns.length);
  for (let i = 0; i < ns.length; i++) {
    const c = ns.charCodeAt(i);
    l = low(l, c);
    h = high(h, c);
  }
  seed[0] = l;
  seed[1] = h;
}

/**
 * A 52-bit hash of a namespace and key, exact in a double. Its low bits pick
 * the key's bucket (`bucketOf`). Lengths and kinds are fed before texts and
 * parts, so no two (namespace, key) pairs feed the same sequence.
 */
export function keyHash(ns: string, key: NormalKey): number {
  seedWith(ns);
  let l = seed[0];
  let h = seed[1];
  const parts = typeof key === 'object' ? key : undefined;
  if (parts !== undefined) {
    l = low(low(l, ARRAY), parts.length);
    h = high(high(h, ARRAY), parts.length);
  }
  for (let p = 0; p < (parts === undefined ? 1 : parts.length); p++) {
    const part = parts === undefined ? (key as string | number) : parts[p];
    if (typeof part === 'string') {
      l = low(low(l, STRING), part.length);
      h = high(high(h, STRING), part.length);
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        l = low(l, c);
        h = high(h, c);
      }
    } else {
      float[0] = part + 0; // + 0 turns -0 into 0: the same key in a Map
      l = low(low(low(l, NUMBER), floatWords[0]), floatWords[1]);
      h = high(high(high(h, NUMBER), floatWords[0]), floatWords[1]);
    }
  }
  return (finalise(h) & 0xfffff) * 0x100000000 + finalise(l);
}

/**
 * `keyHash(ns, key)` of a string key whose chars are the bytes
 * `bytes[start, start + length)` (a key of one-byte chars, as a record at
 * rest holds it: see store/compact/), without making the key's string.
 */
export function keyHashOfBytes(ns: string, bytes: Uint8Array, start: number, length: number): number {
  seedWith(ns);
  let l = seed[0];
  let h = seed[1];
  l = low(low(l, STRING), length);
  h = high(high(h, STRING), length);
  for (let i = start; i < start + length; i++) {
    l = low(l, bytes[i]);
    h = high(h, bytes[i]);
  }
  return (finalise(h) & 0xfffff) * 0x100000000 + finalise(l);
}

/** A 32-bit mix of one more 32-bit number into `hash` (murmur3's finaliser steps). */
function mix(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hashes of origin names, which are few: one per node. */
const originHashes = new Map<string, number>();
/** The last origin hashed: most states of a table come from one node, and a string compare beats a Map lookup. */
let lastOrigin = '';
let lastOriginHash = 0;

function originHash(origin: string): number {
  if (origin === lastOrigin) return lastOriginHash;
  let hash = originHashes.get(origin);
  if (hash === undefined) {
    hash = 0x811c9dc5;
    for (let i = 0; i < origin.length; i++) hash = low(hash, origin.charCodeAt(i));
    hash = finalise(hash);
    originHashes.set(origin, hash);
  }
  lastOrigin = origin;
  lastOriginHash = hash;
  return hash;
}

/**
 * A 32-bit hash of a state of the key whose hash is `key`: what identifies the
 * write that made it. Numbers are mixed in as the two words of their bits.
 */
export function stateHash(key: number, state: EntryState): number {
  return writeHash(key, state.version, state.seen, state.origin, isTombstone(state));
}

/** `stateHash` of a state given by its fields (a record at rest: no state object). */
export function writeHash(key: number, version: number, seen: number, origin: string, tombstone: boolean): number {
  float[0] = key;
  let h = mix(floatWords[0], floatWords[1]);
  float[0] = version;
  h = mix(mix(h, floatWords[0]), floatWords[1]);
  float[0] = seen;
  h = mix(mix(h, floatWords[0]), floatWords[1]);
  h = mix(h, originHash(origin));
  return mix(h, tombstone ? 1 : 0);
}
