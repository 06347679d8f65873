import { copyValue } from '../values/value-copy';

/**
 * The copy a put stores (values/value-copy.ts): checked against the allowed
 * types, deeply frozen, Uint8Array and Date handed out as copies.
 * @throws ValueError (a TypeError) saying what is not allowed, and where.
 */
export function frozenCopy<T>(value: T): T {
  return copyValue(value);
}
