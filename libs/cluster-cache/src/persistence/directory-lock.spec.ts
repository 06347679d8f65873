import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirectoryLock, LOCK_FILE } from './directory-lock';
import { PersistenceError } from './persistence.error';

/** The pid of a process that has exited (so no longer exists). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('DirectoryLock', () => {
  let dir: string;
  let lockFile: string;
  const warn = jest.fn();
  const locks: DirectoryLock[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-lock-'));
    lockFile = path.join(dir, LOCK_FILE);
    warn.mockClear();
  });

  afterEach(() => {
    for (const lock of locks.splice(0)) lock.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const acquire = () => {
    const lock = DirectoryLock.acquire(dir, warn);
    locks.push(lock);
    return lock;
  };
  const writeLock = (owner: object) => fs.writeFileSync(lockFile, JSON.stringify(owner));
  const refusal = () => {
    try {
      acquire();
    } catch (error) {
      return error as PersistenceError;
    }
    throw new Error('the lock was taken');
  };

  it('writes this process id into the lock file and removes it on release', () => {
    const lock = acquire();
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname() });
    lock.release();
    expect(fs.existsSync(lockFile)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]); // no temporary files left
  });

  it('refuses a second lock in the same process, naming the directory', () => {
    acquire();
    const error = refusal();
    expect(error).toBeInstanceOf(PersistenceError);
    expect(error.code).toBe('locked');
    expect(error.message).toContain(dir);
    expect(error.message).toContain(String(process.pid));
  });

  it('refuses a lock held by a live process, naming the directory and its pid', () => {
    writeLock({ pid: process.ppid, host: 'elsewhere', since: '' });
    const error = refusal();
    expect(error.code).toBe('locked');
    expect(error.message).toContain(dir);
    expect(error.message).toContain(`process ${process.ppid} on elsewhere`);
    expect(fs.existsSync(lockFile)).toBe(true);
  });

  it('takes over the lock of a process that no longer exists', () => {
    const pid = deadPid();
    writeLock({ pid, host: os.hostname(), since: '' });
    acquire();
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`left by process ${pid} (that process no longer exists)`));
  });

  it('takes over a lock with this process id that this process does not hold (a restarted container)', () => {
    writeLock({ pid: process.pid, host: os.hostname(), since: '' });
    acquire();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('same pid'));
  });

  it('takes over a lock from before a reboot, and one whose pid now belongs to a process started at another time', () => {
    writeLock({ pid: process.ppid, host: os.hostname(), bootId: 'another-boot', since: '' });
    acquire().release();
    writeLock({ pid: process.ppid, host: os.hostname(), startTime: '1', since: '' });
    acquire();
    expect(warn.mock.calls.map(([message]) => message as string)).toEqual([
      expect.stringContaining('the machine restarted since'),
      expect.stringContaining('that pid now belongs to another process'),
    ]);
  });

  it('respects a lock written on another machine, which it cannot check', () => {
    writeLock({ pid: deadPid(), host: 'another-machine', bootId: 'another-boot', since: '' });
    const error = refusal();
    expect(error.message).toContain('on another-machine');
    expect(error.message).toContain(`delete ${lockFile}`);
  });

  it('refuses a lock file it cannot read, saying to delete it if no process uses the directory', () => {
    fs.writeFileSync(lockFile, 'not json');
    const error = refusal();
    expect(error.code).toBe('locked');
    expect(error.message).toContain(lockFile);
    expect(error.message).toContain('delete the lock file');
  });

  it('does not remove a lock file that another process wrote after ours was taken over', () => {
    const lock = acquire();
    writeLock({ pid: process.ppid, host: os.hostname(), since: '' });
    lock.release();
    expect(fs.existsSync(lockFile)).toBe(true);
  });
});
