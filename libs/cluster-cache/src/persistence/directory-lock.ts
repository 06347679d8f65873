import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PersistenceError } from './persistence.error';
import { messages } from './persistence.messages';

/** The lock file's name inside a persistence directory. */
export const LOCK_FILE = 'cluster-cache.lock';

/** Who holds a lock, as written in the lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Linux boot id: a lock from before a reboot is stale whatever its pid. */
  readonly bootId?: string;
  /** Linux start time of the process (clock ticks since boot): tells a reused pid apart. */
  readonly startTime?: string;
  /** When the process started (for people reading the file). */
  readonly since: string;
}

/** Lock files this process holds, so a second open here is refused even though the pid is alive. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a persistence directory: a file holding the owner's
 * pid. LMDB lets several processes share a file, which would mean two nodes
 * writing one disk copy, so we refuse that ourselves.
 *
 * A lock whose process is gone (e.g. after `kill -9`) is taken over: the pid
 * no longer exists, or it is this process's own pid while this process does
 * not hold it (a container restarted with the same pid), or on Linux the pid
 * now belongs to a process that started at another time, or the machine
 * rebooted since. A lock written on another machine (a shared file system)
 * cannot be checked and is respected.
 */
export class DirectoryLock {
  private released = false;

  /** @internal use `DirectoryLock.acquire`. */
  constructor(
    /** The lock file. */
    readonly file: string,
    private readonly content: string,
  ) {}

  /**
   * Takes the lock of `dir` (which must exist).
   * @param warn told when a stale lock is taken over.
   * @throws PersistenceError `locked` naming the directory and the pid holding it.
   */
  static acquire(dir: string, warn: (message: string) => void): DirectoryLock {
    const file = path.join(dir, LOCK_FILE);
    if (heldHere.has(file)) throw new PersistenceError('locked', dir, messages.lockHeldHere(dir));
    try {
      return take(dir, file, warn);
    } catch (error) {
      if (error instanceof PersistenceError) throw error;
      throw new PersistenceError('unreadable', dir, messages.dirUnusable(dir, error), { cause: error });
    }
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.file);
    try {
      if (fs.readFileSync(this.file, 'utf8') === this.content) fs.unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function take(dir: string, file: string, warn: (message: string) => void): DirectoryLock {
  const content = `${JSON.stringify(currentOwner())}\n`;
  // A few rounds: each one creates the lock, refuses, or removes a stale lock and tries again.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, content)) {
      heldHere.add(file);
      return new DirectoryLock(file, content);
    }
    const existing = readLock(file);
    if (existing === undefined) continue; // removed meanwhile
    if (existing.owner === undefined) throw new PersistenceError('locked', dir, messages.lockUnreadable(dir, file, existing.problem));
    const stale = whyStale(existing.owner);
    if (stale === undefined) {
      throw new PersistenceError('locked', dir, messages.lockHeld(dir, existing.owner.pid, existing.owner.host, file));
    }
    warn(messages.lockTakenOver(dir, existing.owner.pid, stale));
    removeIfUnchanged(file, existing.raw);
  }
  throw new PersistenceError('locked', dir, messages.lockContended(dir, file));
}

/**
 * Creates `file` with `content` if it does not exist, atomically: the content
 * is written to a private file first and then hard-linked into place, so no
 * other process ever sees a lock file without its pid (`link` fails if the
 * name exists, like `open(..., 'wx')`). File systems without hard links fall
 * back to `open(..., 'wx')` itself.
 */
function createExclusive(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(temp, content, { flag: 'wx' });
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return createWithOpen(file, content);
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function createWithOpen(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

type ReadLock = { raw: string; owner: LockOwner; problem?: undefined } | { raw: string; owner?: undefined; problem: string };

function readLock(file: string): ReadLock | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { raw: '', problem: (error as Error).message };
  }
  try {
    const owner = JSON.parse(raw) as LockOwner;
    if (Number.isSafeInteger(owner?.pid) && owner.pid > 0) return { raw, owner };
  } catch {
    // reported below
  }
  return { raw, problem: 'it does not hold a process id' };
}

/** Why the owner of a lock is gone, or `undefined` if it may still be running. */
function whyStale(owner: LockOwner): string | undefined {
  const me = currentOwner();
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) {
    // Another boot of this machine, or another machine sharing the directory: we cannot check the latter.
    return owner.host === me.host ? 'the machine restarted since' : undefined;
  }
  if (owner.pid === process.pid) return 'a previous process with the same pid';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'that process no longer exists';
    return undefined;
  }
  const startTime = processStartTime(owner.pid);
  if (owner.startTime !== undefined && startTime !== undefined && owner.startTime !== startTime) {
    return 'that pid now belongs to another process';
  }
  return undefined;
}

/**
 * Moves a stale lock away, unless another process replaced it meanwhile (then
 * it is put back). Renaming first makes sure we delete exactly the file we read.
 */
function removeIfUnchanged(file: string, staleContent: string): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (fs.readFileSync(aside, 'utf8') !== staleContent) fs.linkSync(aside, file);
  } catch {
    // Someone took the lock meanwhile: the next round finds it.
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

let owner: LockOwner | undefined;

function currentOwner(): LockOwner {
  owner ??= {
    pid: process.pid,
    host: os.hostname(),
    bootId: readProcFile('/proc/sys/kernel/random/boot_id')?.trim(),
    startTime: processStartTime(process.pid),
    since: new Date(Date.now() - process.uptime() * 1000).toISOString(),
  };
  return owner;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
function processStartTime(pid: number): string | undefined {
  const stat = readProcFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function readProcFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
