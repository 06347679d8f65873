import { hash, randomFillSync } from 'node:crypto';

/** Bytes of randomness in a token (256 bits). */
const TOKEN_BYTES = 32;
/** Length of the random part of a token: TOKEN_BYTES in base64url. */
export const RANDOM_TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);

/** Random bytes are drawn from the OS in blocks (one call per 128 tokens instead of one each). */
const POOL = Buffer.alloc(TOKEN_BYTES * 128);
let poolOffset = POOL.length;

/** A new bearer token: 256 bits from the OS's CSPRNG, base64url. */
export function newToken(): string {
  if (poolOffset === POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const token = POOL.toString('base64url', poolOffset, poolOffset + TOKEN_BYTES);
  poolOffset += TOKEN_BYTES;
  return token;
}

/** The handle (stored key) of a token: its SHA-256 in base64url. */
export function handleOf(token: string): string {
  // One-shot hash: a third of createHash().update().digest() on this path (every guarded request).
  return hash('sha256', token, 'base64url');
}

/** 43 base64url characters: the shape of a token and of a handle (256 bits each). */
const WELL_FORMED = /^[\w-]{43}$/;

/** Whether `value` has the shape of a token or a handle (sign-outs record a tombstone only for those). */
export function isWellFormed(value: unknown): value is string {
  return typeof value === 'string' && WELL_FORMED.test(value);
}
