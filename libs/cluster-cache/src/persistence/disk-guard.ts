import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeCause, formatBytes, messages } from './persistence.messages';
import { PersistenceError } from './persistence.error';

/**
 * Why this exists: lmdb-js (3.5.6, the latest) corrupts the heap of the
 * process when a write of a commit fails with an error code (`ENOSPC` on a
 * full disk, `EFBIG` past `ulimit -f`, `EDQUOT`, `EIO`). Its `mdb_page_flush`
 * then formats "Attempting to write page at position …, size …, blocks …,
 * buffer sizes … … …" into `malloc(100)`; with uninitialised `iov` lengths
 * that text is often longer than 104 bytes, and glibc aborts the process a
 * little later ("malloc(): invalid next size", "corrupted size vs.
 * prev_size"). The bug is in the native code, which we cannot patch here.
 *
 * So lmdb must never be handed a commit that the disk has no room for. The
 * guard admits a commit only if the file system keeps `reserve` bytes free
 * after it (and after the commits already in flight), and the data file stays
 * under the process's file size limit. Once a commit was refused or failed,
 * every later one is refused too, without reaching lmdb, until `probe()`
 * finds the disk writable again: the owner of the data then rewrites what the
 * disk missed.
 *
 * What this cannot prevent: another process filling the last `reserve` bytes
 * between the check (the disk is read once per event-loop turn) and the
 * commit, or an I/O error of a failing disk. The
 * reserve is there for the former; the latter still reaches lmdb's bug, once
 * per failure (later commits are held back until a probe written outside lmdb
 * succeeds).
 */
export class DiskGuard {
  private reason: string | undefined;
  private inFlight = 0;
  private readonly fileSizeLimit: number;
  /** The file system's space as read for the commits of this turn (see `space`). */
  private reading: DiskSpace | undefined;

  constructor(
    /** The directory of the data file (what `statfs` looks at). */
    private readonly dir: string,
    /** The data file (for messages, and its size against the file size limit). */
    private readonly file: string,
    private readonly system: DiskSystem = realSystem,
  ) {
    this.fileSizeLimit = system.fileSizeLimit();
  }

  /** Why writes are held back, or undefined while they reach the disk. */
  get failure(): string | undefined {
    return this.reason;
  }

  /**
   * Admits a commit that may grow the data file by up to `bytes`; the caller
   * must call `release` once lmdb has settled it.
   * @throws PersistenceError `write-failed` when writes are held back, or when
   *   the disk (or the file size limit) has no room for it; writes are held
   *   back from then on.
   */
  admit(table: string, bytes: number): { release(): void } {
    if (this.reason !== undefined) {
      throw new PersistenceError('write-failed', this.file, messages.writesHeld(this.file, table, this.reason), { detail: this.reason });
    }
    const refusal = this.room(bytes + this.inFlight);
    if (refusal !== undefined) {
      this.reason = refusal;
      throw new PersistenceError('write-failed', this.file, messages.noRoom(this.file, table, refusal), { detail: refusal });
    }
    this.inFlight += bytes;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= bytes;
        // Settled: what it wrote is on the disk, no longer in flight; read the space again.
        this.reading = undefined;
      },
    };
  }

  /** A commit failed in lmdb: hold every later write back until a probe succeeds. */
  failed(cause: unknown): void {
    this.reason ??= describeCause(cause);
  }

  /**
   * Checks that the disk takes writes again: room above the reserve, then a
   * small file written, flushed and removed beside the data file (outside
   * lmdb, so a disk that still fails does not reach lmdb's bug), then
   * `commit`, a small lmdb write. Writes are admitted again once all three
   * succeed.
   * @throws PersistenceError `write-failed` saying why not.
   */
  async probe(table: string, commit: () => Promise<void>): Promise<void> {
    if (this.reason === undefined) return;
    this.reading = undefined;
    const refusal = this.room(PROBE_BYTES + this.inFlight);
    if (refusal !== undefined) {
      this.reason = refusal;
      throw new PersistenceError('write-failed', this.file, messages.noRoom(this.file, table, refusal), { detail: refusal });
    }
    try {
      this.system.writeProbe(path.join(this.dir, PROBE_FILE), PROBE_BYTES);
    } catch (error) {
      this.reason = describeCause(error);
      throw new PersistenceError('write-failed', this.file, messages.writeFailed(this.file, table, error), { cause: error, detail: this.reason });
    }
    this.reason = undefined;
    try {
      await commit();
    } catch (error) {
      this.reason ??= describeCause(error);
      throw error;
    }
  }

  /** Why a commit of `bytes` would not fit, or undefined if it does. */
  private room(bytes: number): string | undefined {
    let space: DiskSpace;
    try {
      space = this.space();
    } catch {
      return undefined; // no statfs here (an exotic file system): lmdb reports what fails
    }
    const reserve = reserveOf(space.total);
    if (space.available - bytes < reserve) {
      return `the disk has ${formatBytes(space.available)} free, and a write needs about ${formatBytes(bytes)} on top of the ${formatBytes(reserve)} kept free`;
    }
    if (Number.isFinite(this.fileSizeLimit)) {
      const size = this.system.fileSize(this.file);
      if (size + bytes > this.fileSizeLimit) {
        return `the file is ${formatBytes(size)}, and a write of about ${formatBytes(bytes)} would take it past this process's file size limit (ulimit -f) of ${formatBytes(this.fileSizeLimit)}`;
      }
    }
    return undefined;
  }

  /**
   * The file system's space, read once for the commits admitted in one go: a
   * burst of writes in one event-loop turn shares one `statfs` (a system call,
   * ≈ 3 µs on a VM) instead of one each. Commits admitted
   * meanwhile count in `inFlight`, which `room` adds, and the reading is
   * dropped at the end of the turn and when a commit settles: it is never
   * older than what is in flight.
   */
  private space(): DiskSpace {
    if (this.reading === undefined) {
      this.reading = this.system.statfs(this.dir);
      queueMicrotask(() => (this.reading = undefined));
    }
    return this.reading;
  }
}

/** What the guard reads from and writes to the system (a fake one in tests). */
export interface DiskSystem {
  statfs(dir: string): DiskSpace;
  /** The soft limit on the size of files this process writes (RLIMIT_FSIZE), in bytes; Infinity if none. */
  fileSizeLimit(): number;
  fileSize(file: string): number;
  /** Writes `bytes` bytes to `file`, flushes them to the disk and removes the file. @throws what the file system says. */
  writeProbe(file: string, bytes: number): void;
}

/** Bytes of a file system: all of it, and what unprivileged users may still write. */
export interface DiskSpace {
  total: number;
  available: number;
}

/** The free space every commit leaves: 1 % of the file system, at least 1 MiB and at most 64 MiB. */
export function reserveOf(total: number): number {
  return Math.min(64 * MiB, Math.max(1 * MiB, Math.ceil(total / 100)));
}

/**
 * An upper bound of the bytes a commit adds to an LMDB file: every page it
 * dirties may be new (copy-on-write; pages freed by earlier transactions
 * are reused when lmdb can, which only makes the real growth smaller).
 * - `puts`: records written or removed; `bytes`: the size of the records
 *   written (keys and values, with lmdb-js' 8-byte version);
 * - `largeValues`: pages of values that go to overflow pages (counted apart);
 * - the tree (`depth`, `leafPages`, `branchPages`) as lmdb last reported it;
 * - `freedPages`: pages a clear in the same commit frees (their freelist entries).
 */
export function commitBytes(commit: CommitShape): number {
  const { pageSize, puts, bytes, largeValues = 0, depth, leafPages, branchPages, freedPages = 0 } = commit;
  // New data fills pages at least half full; each new page may split a leaf.
  const newPages = Math.ceil((2 * bytes) / pageSize);
  const leaves = Math.min(puts, leafPages + newPages) + Math.min(puts, newPages + 1);
  const branches = Math.min(puts * (depth + 1), branchPages + Math.ceil((leafPages + newPages) / 16) + depth + 1);
  // The named database's record in the main tree, the freelist, and the free pages' list of this commit.
  const bookkeeping = 8 + Math.ceil((leaves + branches + largeValues + freedPages) / 256);
  return (leaves + branches + largeValues + bookkeeping) * pageSize;
}

export interface CommitShape {
  pageSize: number;
  puts: number;
  bytes: number;
  largeValues?: number;
  depth: number;
  leafPages: number;
  branchPages: number;
  freedPages?: number;
}

const MiB = 1024 * 1024;
/** The probe file, removed right after it is written. */
export const PROBE_FILE = '.cluster-cache-probe';
const PROBE_BYTES = 64 * 1024;

const realSystem: DiskSystem = {
  statfs(dir) {
    const stats = fs.statfsSync(dir);
    return { total: stats.blocks * stats.bsize, available: stats.bavail * stats.bsize };
  },
  fileSizeLimit() {
    try {
      // "Max file size            unlimited            unlimited            bytes"
      const line = /^Max file size\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
      return line === null || line[1] === 'unlimited' ? Infinity : Number(line[1]);
    } catch {
      return Infinity;
    }
  },
  fileSize(file) {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  },
  writeProbe(file, bytes) {
    const fd = fs.openSync(file, 'w');
    try {
      const written = fs.writeSync(fd, Buffer.alloc(bytes, 0x5a));
      if (written < bytes) throw new Error(`only ${written} of ${bytes} bytes could be written to ${file}`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
  },
};
