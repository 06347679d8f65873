import { ClusterCacheError } from '../errors/cluster-cache.error';

/**
 * What went wrong with a disk copy, for callers that react differently (a
 * health indicator, a start-up that refuses to continue):
 * - `locked`: another process (or this one) has the directory open.
 * - `corrupt`: the data file is damaged or is not ours; it was not touched.
 * - `unreadable`: the file or directory cannot be read or created (permissions, I/O).
 * - `unsupported-format`: written by a newer version of this library.
 * - `invalid-state`: a state that cannot be stored (key too long, value not encodable).
 * - `write-failed`: a write did not reach the disk (disk full, I/O error).
 * - `closed`: the directory was closed.
 * - `too-many-tables`: the data file has no room for another table.
 * @publicApi
 */
export type PersistenceErrorCode =
  | 'locked'
  | 'corrupt'
  | 'unreadable'
  | 'unsupported-format'
  | 'invalid-state'
  | 'write-failed'
  | 'closed'
  | 'too-many-tables';

/**
 * A failure of the disk copy of the cache. The message names the file (or
 * directory) and says what to do; `file` holds that path for programs.
 * @publicApi
 */
export class PersistenceError extends ClusterCacheError {
  constructor(
    readonly code: PersistenceErrorCode,
    /** The file or directory concerned. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
    if (options?.detail !== undefined) this.detail = options.detail;
  }

  /** The short reason, where the message wraps one (for `write-failed`: why the disk did not take the write). */
  readonly detail?: string;
}
