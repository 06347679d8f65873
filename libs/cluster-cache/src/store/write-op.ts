import type { NormalKey } from './key';

/** One element of an atomic local write. */
export type WriteOp = PutOp | DeleteOp;

/** Sets a key: `value` must already be frozen, `expiresAt` in ms since the epoch. */
export interface PutOp {
  readonly ns: string;
  readonly key: NormalKey;
  readonly value: unknown;
  readonly expiresAt: number;
}

/**
 * Deletes a key, leaving a tombstone. The tombstone is kept at least until the
 * deleted entry would have expired, and at least until `keepUntil`.
 */
export interface DeleteOp {
  readonly ns: string;
  readonly key: NormalKey;
  readonly delete: true;
  readonly keepUntil: number;
}

export function isDelete(op: WriteOp): op is DeleteOp {
  return (op as DeleteOp).delete === true;
}
