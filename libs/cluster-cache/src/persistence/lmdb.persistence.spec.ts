import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import type { EntryState } from '../store/entry';
import type { NormalKey } from '../store/key';
import { commitBytes, type DiskSystem, PROBE_FILE, reserveOf } from './disk-guard';
import { encodeStoredKey } from '../codec/key-codec';
import { DATA_FILE, LmdbPersistenceDirectory, LmdbPersistenceOptions } from './lmdb.persistence';
import { PersistenceError } from './persistence.error';
import type { DamagedRecord, TablePersistence } from './table-persistence.interface';

const logger = { log: jest.fn(), warn: jest.fn() };

function live(ns: string, key: NormalKey, value: unknown, version: number): EntryState {
  return { ns, key, value, expiresAt: 1_000_000 + version, version, seen: 0, origin: 'a@127.0.0.1' };
}

function tombstone(ns: string, key: NormalKey, version: number): EntryState {
  return { ns, key, value: undefined, expiresAt: 2_000_000, version, seen: version, origin: 'b@127.0.0.1' };
}

/** States in a stable order, to compare loads. */
function sorted(states: EntryState[]): EntryState[] {
  const id = (s: EntryState) => `${s.ns}\u0000${typeof s.key === 'object' ? 'a' : typeof s.key}\u0000${JSON.stringify(s.key)}`;
  return [...states].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

async function rejection(promise: Promise<unknown>): Promise<PersistenceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PersistenceError);
    return error as PersistenceError;
  }
  throw new Error('the promise resolved');
}

describe('LmdbPersistenceDirectory', () => {
  let dir: string;
  let file: string;
  const opened: LmdbPersistenceDirectory[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-lmdb-'));
    file = path.join(dir, DATA_FILE);
    logger.log.mockClear();
    logger.warn.mockClear();
  });

  afterEach(async () => {
    for (const directory of opened.splice(0)) await directory.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openDir(options?: LmdbPersistenceOptions): Promise<LmdbPersistenceDirectory> {
    const directory = await LmdbPersistenceDirectory.open(dir, logger, options);
    opened.push(directory);
    return directory;
  }

  /** Closes everything open and opens the directory again, as a restart would. */
  async function reopen(table = 'sessions'): Promise<TablePersistence> {
    for (const directory of opened.splice(0)) await directory.close();
    return (await openDir()).table(table);
  }

  describe('save and load', () => {
    it('gives back scalar and array keys as they were saved, numbers and strings apart', async () => {
      const table = await (await openDir()).table('sessions');
      const states = [
        live('cache', 'x', 'scalar string', 1),
        live('cache', 1, 'number one', 2),
        live('cache', '1', 'string one', 3),
        live('cache', Object.freeze(['user', 1]), 'array with number', 4),
        live('cache', Object.freeze(['user', '1']), 'array with string', 5),
        live('cache', '', 'empty string', 6),
        live('credentials', 'x', 'other namespace', 7),
      ];
      await table.save(states);

      const loaded = await (await reopen()).load();
      expect(sorted(loaded)).toEqual(sorted(states));
      const arrayKey = loaded.find((s) => s.value === 'array with number')!.key;
      expect(Object.isFrozen(arrayKey)).toBe(true);
      expect(loaded.find((s) => s.value === 'number one')!.key).toBe(1);
      expect(loaded.find((s) => s.value === 'string one')!.key).toBe('1');
    });

    it('keeps tombstones', async () => {
      const table = await (await openDir()).table('sessions');
      const states = [live('cache', 'a', 1, 10), tombstone('cache', 'b', 11)];
      await table.save(states);
      expect(sorted(await (await reopen()).load())).toEqual(sorted(states));
    });

    it('returns values frozen all the way down', async () => {
      const table = await (await openDir()).table('sessions');
      await table.save([live('cache', 'k', { user: { roles: ['admin'] }, list: [{ a: 1 }] }, 1)]);
      const [state] = await (await reopen()).load();
      const value = state.value as { user: { roles: string[] }; list: { a: number }[] };
      expect(value).toEqual({ user: { roles: ['admin'] }, list: [{ a: 1 }] });
      expect(Object.isFrozen(value)).toBe(true);
      expect(Object.isFrozen(value.user.roles)).toBe(true);
      expect(Object.isFrozen(value.list[0])).toBe(true);
    });

    it('keeps the last saved state of a key, and tables apart', async () => {
      const directory = await openDir();
      const sessions = await directory.table('sessions');
      const jobs = await directory.table('jobs');
      await sessions.save([live('cache', 'k', 'old', 1)]);
      await sessions.save([live('cache', 'k', 'new', 2)]);
      await jobs.save([live('cache', 'k', 'job', 3)]);
      expect(await sessions.load()).toEqual([live('cache', 'k', 'new', 2)]);
      expect(await (await reopen('jobs')).load()).toEqual([live('cache', 'k', 'job', 3)]);
    });

    it('writes the calls of one tick together and resolves each when it is committed', async () => {
      const table = await (await openDir()).table('sessions');
      const saves = Array.from({ length: 50 }, (_, i) => table.save([live('cache', i, i, i + 1)]));
      await Promise.all(saves);
      expect(await table.load()).toHaveLength(50);
    });

    it('waits for the flush with fsync: true', async () => {
      const table = await (await openDir({ fsync: true })).table('sessions');
      await table.save([live('cache', 'k', 'v', 1)]);
      expect(await (await reopen()).load()).toEqual([live('cache', 'k', 'v', 1)]);
    });

    it('rejects a state that cannot be stored, writing nothing of that call', async () => {
      const table = await (await openDir()).table('sessions');
      const tooLong = live('cache', 'x'.repeat(3000), 'v', 2);
      const error = await rejection(table.save([live('cache', 'fine', 'v', 1), tooLong]));
      expect(error.code).toBe('invalid-state');
      expect(error.message).toContain(file);
      expect(error.message).toContain('cache:"xxx');
      expect(await table.load()).toEqual([]);
      await table.save([live('cache', 'fine', 'v', 1)]); // the table still works
      expect(await table.load()).toHaveLength(1);
    });
  });

  describe('forget', () => {
    it('removes a key only while it still has the saved version', async () => {
      const table = await (await openDir()).table('sessions');
      const v1 = live('cache', 'k', 'one', 1);
      const v2 = live('cache', 'k', 'two', 2);
      const other = tombstone('cache', ['u', 1], 3);
      await table.save([v1, other]);
      await table.save([v2]);
      await table.forget([v1, live('cache', 'never saved', 'x', 9)]);
      expect(sorted(await table.load())).toEqual(sorted([v2, other]));
      await table.forget([v2, other]);
      expect(await table.load()).toEqual([]);
    });

    it('does not undo a save made in the same tick after it', async () => {
      const table = await (await openDir()).table('sessions');
      const v1 = live('cache', 'k', 'one', 1);
      await table.save([v1]);
      const v2 = live('cache', 'k', 'two', 2);
      await Promise.all([table.save([v2]), table.forget([v1])]);
      expect(await (await reopen()).load()).toEqual([v2]);
    });
  });

  describe('replaceAll', () => {
    it('replaces the whole table, again and again', async () => {
      const table = await (await openDir()).table('sessions');
      await table.save([live('cache', 'a', 1, 1), live('cache', 'b', 2, 2)]);
      const first = [live('cache', 'c', 3, 3), tombstone('cache', 'd', 4)];
      await table.replaceAll(first);
      expect(sorted(await table.load())).toEqual(sorted(first));
      const second = [live('cache', 'e', 5, 5)];
      await table.replaceAll(second);
      expect(await table.load()).toEqual(second);
      const reopened = await reopen();
      expect(await reopened.load()).toEqual(second);
      await reopened.replaceAll([]);
      expect(await (await reopen()).load()).toEqual([]);
    });

    it('writes a large table in chunks, taking a generator', async () => {
      const table = await (await openDir()).table('sessions');
      function* states() {
        for (let i = 0; i < 25_000; i++) yield live('cache', ['user', i], { i }, i + 1);
      }
      await table.replaceAll(states());
      const loaded = await (await reopen()).load();
      expect(loaded).toHaveLength(25_000);
      expect(loaded.find((s) => (s.key as readonly unknown[])[1] === 24_999)?.value).toEqual({ i: 24_999 });
    });

    it('applies calls made while it runs after it, in order', async () => {
      const table = await (await openDir()).table('sessions');
      const old = Array.from({ length: 15_000 }, (_, i) => live('cache', i, 'old', 1));
      const newer = live('cache', 7, 'newer', 2);
      const replaced = table.replaceAll(old);
      const saved = table.save([newer]);
      const forgotten = table.forget([old[8]]);
      await Promise.all([replaced, saved, forgotten]);
      const loaded = await (await reopen()).load();
      expect(loaded).toHaveLength(14_999);
      expect(loaded.find((s) => s.key === 7)).toEqual(newer);
      expect(loaded.find((s) => s.key === 8)).toBeUndefined();
    });

    it('leaves the old copy whole when a state cannot be stored', async () => {
      const table = await (await openDir()).table('sessions');
      const kept = [live('cache', 'kept', 1, 1)];
      await table.save(kept);
      const error = await rejection(table.replaceAll([live('cache', 'a', 1, 2), live('cache', 'x'.repeat(3000), 1, 3)]));
      expect(error.code).toBe('invalid-state');
      expect(await table.load()).toEqual(kept);
      expect(await (await reopen()).load()).toEqual(kept);
    });
  });

  describe('the directory lock', () => {
    it('refuses a second open of the directory, naming it and this process', async () => {
      await openDir();
      const error = await rejection(LmdbPersistenceDirectory.open(dir, logger));
      expect(error.code).toBe('locked');
      expect(error.message).toContain(dir);
      expect(error.message).toContain(String(process.pid));
    });

    it('takes over a lock left by a process that no longer exists', async () => {
      const { pid } = await import('node:child_process').then(({ spawnSync }) => spawnSync(process.execPath, ['-e', '']));
      fs.writeFileSync(path.join(dir, 'cluster-cache.lock'), JSON.stringify({ pid, host: os.hostname(), since: '' }));
      await openDir();
      expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(`left by process ${pid}`));
    });

    it('is released on close, so the directory opens again', async () => {
      const directory = await openDir();
      await directory.close();
      expect(fs.readdirSync(dir)).not.toContain('cluster-cache.lock');
      await openDir();
    });
  });

  describe('errors', () => {
    it('rejects calls after close clearly', async () => {
      const directory = await openDir();
      const table = await directory.table('sessions');
      await directory.close();
      for (const call of [table.save([live('cache', 'k', 'v', 1)]), table.load(), table.forget([]), table.replaceAll([]), directory.table('x')]) {
        const error = await rejection(call);
        expect(error.code).toBe('closed');
        expect(error.message).toContain('is closed');
        expect(error.message).toMatch(new RegExp(dir));
      }
    });

    it('reports a corrupt data file naming it, and leaves it untouched', async () => {
      await (await (await openDir()).table('sessions')).save([live('cache', 'k', 'v', 1)]);
      for (const directory of opened.splice(0)) await directory.close();
      const garbage = randomBytes(fs.statSync(file).size);
      fs.writeFileSync(file, garbage);

      const error = await rejection(LmdbPersistenceDirectory.open(dir, logger));
      expect(error.code).toBe('corrupt');
      expect(error.file).toBe(file);
      expect(error.message).toContain(file);
      expect(error.message).toMatch(/move the file away/i);
      expect(fs.readFileSync(file).equals(garbage)).toBe(true);
      expect(fs.readdirSync(dir)).not.toContain('cluster-cache.lock'); // the lock was released
    });

    it('names the file and the key of a value that does not decode', async () => {
      await openDir().then((d) => d.table('sessions'));
      for (const directory of opened.splice(0)) await directory.close();
      // Write a bad record behind the library's back, as damage would.
      const env = open({ path: file, maxDbs: 128 });
      const db = env.openDB('table:sessions:0', { encoding: 'binary', keyEncoding: 'binary', useVersions: true });
      await db.put(encodeStoredKey('credentials', ['user', 7]), pack(['not', 'a', 'record']), 5);
      await env.close();

      const table = await (await openDir()).table('sessions');
      const error = await rejection(table.load());
      expect(error.code).toBe('corrupt');
      expect(error.message).toContain(file);
      expect(error.message).toContain(`credentials:["user",7]`);
      expect(error.message).toMatch(/move the file away/i);
    });

    it('reports a write failure naming the file, holds later writes back, and takes them again once a probe succeeds', async () => {
      const table = await (await openDir()).table('sessions');
      const db = (table as unknown as { db: { batch: (writes: () => void) => Promise<boolean> } }).db;
      const batch = jest.spyOn(db, 'batch').mockImplementationOnce(() => {
        // What lmdb does when a commit fails: a generic error whose commitError holds the cause.
        const failure = Object.assign(new Error('Commit failed (see commitError for details)'), {
          commitError: Promise.reject(Object.assign(new Error('No space left on device'), { code: 28 })),
        });
        return Promise.reject(failure);
      });
      const error = await rejection(table.save([live('cache', 'k', 'v', 1)]));
      expect(error.code).toBe('write-failed');
      expect(error.message).toContain(file);
      expect(error.message).toContain('No space left on device');
      expect(error.detail).toBe('No space left on device');
      // lmdb is not asked again (its error path can corrupt the heap) until a probe says the disk takes writes.
      const held = await rejection(table.save([live('cache', 'k', 'v', 2)]));
      expect(held.code).toBe('write-failed');
      expect(held.message).toContain('writes are held back since the disk failed (No space left on device)');
      expect(batch).toHaveBeenCalledTimes(1);
      batch.mockRestore();
      await table.probe!();
      expect(fs.readdirSync(dir)).not.toContain(PROBE_FILE);
      await table.save([live('cache', 'k', 'v', 3)]);
      expect(await table.load()).toEqual([live('cache', 'k', 'v', 3)]);
    });
  });

  describe('a full disk', () => {
    /** A disk of 64 MiB with `free` bytes available (1 MiB kept free), and a file size limit. */
    function fakeDisk(state: { free: number; limit?: number; probe?: Error }): DiskSystem {
      return {
        statfs: () => ({ total: 64 * 1024 * 1024, available: state.free }),
        fileSizeLimit: () => state.limit ?? Infinity,
        fileSize: (f) => fs.statSync(f).size,
        writeProbe: () => {
          if (state.probe) throw state.probe;
        },
      };
    }

    it('refuses a write before the disk is full, without reaching lmdb, and takes writes again once there is room', async () => {
      const disk = { free: 100 * 1024 * 1024 };
      const table = await (await openDir({ disk: fakeDisk(disk) })).table('sessions');
      await table.save([live('cache', 'a', 'v', 1)]);
      disk.free = 1024 * 1024 + 8 * 1024; // under the reserve once a write's estimate is added
      const db = (table as unknown as { db: { batch: () => unknown } }).db;
      const batch = jest.spyOn(db, 'batch');
      const error = await rejection(table.save([live('cache', 'b', 'v', 2)]));
      expect(error.code).toBe('write-failed');
      expect(error.message).toMatch(/the disk has 1 MiB free, and a write needs about \d+ KiB on top of the 1 MiB kept free/);
      expect(error.message).toContain(`Could not write table 'sessions' to persistence data file ${file}`);
      expect(error.message).toContain('Check free disk space');
      expect(batch).not.toHaveBeenCalled();
      // Held back while the disk has no room, the probe says why.
      await expect(table.probe!()).rejects.toThrow(/kept free/);
      disk.free = 50 * 1024 * 1024;
      await table.probe!();
      await table.save([live('cache', 'c', 'v', 3)]);
      expect(sorted(await table.load())).toEqual([live('cache', 'a', 'v', 1), live('cache', 'c', 'v', 3)]);
      batch.mockRestore();
    });

    it('reads the free space once for the saves of one turn, and afresh in the next', async () => {
      const disk = { free: 100 * 1024 * 1024 };
      let reads = 0;
      const system = { ...fakeDisk(disk), statfs: () => (reads++, { total: 64 * 1024 * 1024, available: disk.free }) };
      const table = await (await openDir({ disk: system })).table('sessions');
      reads = 0;
      await Promise.all([1, 2, 3, 4, 5].map((i) => table.save([live('cache', `k${i}`, 'v', i)])));
      expect(reads).toBe(1);
      // The next turn sees the disk as it is now.
      disk.free = 1024 * 1024 + 8 * 1024;
      expect((await rejection(table.save([live('cache', 'k6', 'v', 6)]))).message).toMatch(/kept free/);
      expect(reads).toBe(2);
      expect(sorted(await table.load()).map((s) => s.key)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    });

    it('refuses a write that would take the file past the file size limit', async () => {
      const disk = { free: 100 * 1024 * 1024, limit: Infinity };
      await (await openDir({ disk: fakeDisk(disk) })).table('sessions');
      for (const directory of opened.splice(0)) await directory.close();
      disk.limit = fs.statSync(file).size + 4096;
      const table = await (await openDir({ disk: fakeDisk(disk) })).table('sessions');
      const error = await rejection(table.save([live('cache', 'b', 'v', 2)]));
      expect(error.message).toMatch(/past this process's file size limit \(ulimit -f\)/);
    });

    it('keeps writes held back while the probe cannot write beside the data file', async () => {
      const disk: { free: number; probe?: Error } = { free: 1024 * 1024 };
      const table = await (await openDir({ disk: fakeDisk(disk) })).table('sessions');
      await rejection(table.save([live('cache', 'a', 'v', 1)]));
      disk.free = 50 * 1024 * 1024;
      disk.probe = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      await expect(table.probe!()).rejects.toThrow(/EIO/);
      expect((await rejection(table.save([live('cache', 'a', 'v', 1)]))).message).toContain('held back');
      disk.probe = undefined;
      await table.probe!();
      await table.save([live('cache', 'a', 'v', 1)]);
    });

    it('estimates a commit generously: small saves a few pages, a chunk of a large rewrite not its whole table', () => {
      const page = 4096;
      const small = commitBytes({ pageSize: page, puts: 2, bytes: 600, depth: 3, leafPages: 10_000, branchPages: 80 });
      expect(small).toBeGreaterThanOrEqual(8 * page);
      expect(small).toBeLessThan(128 * 1024);
      const chunk = commitBytes({ pageSize: page, puts: 10_000, bytes: 3_000_000, depth: 4, leafPages: 100_000, branchPages: 1_000 });
      expect(chunk).toBeGreaterThan(3_000_000);
      expect(chunk).toBeLessThan(100 * 1024 * 1024);
      expect(reserveOf(256 * 1024)).toBe(1024 * 1024);
      expect(reserveOf(1e12)).toBe(64 * 1024 * 1024);
    });
  });

  describe('damaged records', () => {
    /** Saves states, closes, and flips bytes of every copy of `marker` in the data file, as damage on disk would. */
    async function damage(states: EntryState[], marker: string): Promise<void> {
      await (await (await openDir()).table('sessions')).save(states);
      for (const directory of opened.splice(0)) await directory.close();
      const data = fs.readFileSync(file);
      let hits = 0;
      for (let at = data.indexOf(marker); at !== -1; at = data.indexOf(marker, at + 1)) {
        data[at + 1] ^= 0x20;
        hits++;
      }
      expect(hits).toBeGreaterThan(0);
      fs.writeFileSync(file, data);
    }

    it('reports a record whose value changed on disk with the file and its key, and loads the others', async () => {
      const states = [live('cache', 'a', 'alpha', 1), live('credentials', 's:1', { user: 'damage-me', roles: ['admin'] }, 2), live('cache', 'c', 'gamma', 3)];
      await damage(states, 'damage-me');
      const table = await (await openDir()).table('sessions');
      const damaged: DamagedRecord[] = [];
      expect(sorted(await table.load((record) => damaged.push(record)))).toEqual([states[0], states[2]]);
      expect(damaged).toEqual([
        {
          file,
          table: 'sessions',
          key: 'credentials:"s:1"',
          reason: expect.stringContaining('checksum does not match'),
          message: expect.stringContaining(`Persistence data file ${file} has a damaged record: the entry credentials:"s:1" of table 'sessions'`),
        },
      ]);
      // Without a handler the load refuses, naming the file and the key: never a silent decode.
      const error = await rejection(table.load());
      expect(error.code).toBe('corrupt');
      expect(error.message).toContain('credentials:"s:1"');
    });

    it('reports a record whose key changed on disk, under the key as stored', async () => {
      await damage([live('credentials', 'token-1', 'v', 1), live('cache', 'b', 'beta', 2)], 'credentials');
      const damaged: DamagedRecord[] = [];
      const loaded = await (await (await openDir()).table('sessions')).load((record) => damaged.push(record));
      expect(loaded).toEqual([live('cache', 'b', 'beta', 2)]);
      expect(damaged.map((d) => d.key)).toEqual(['cRedentials:"token-1"']);
    });
  });

  describe('files of an earlier build (format 1, records without checksums)', () => {
    /** Writes a format-1 file as the earlier build did: bare MessagePack records. */
    async function writeLegacyFile(states: EntryState[]): Promise<void> {
      const env = open({ path: file, noSubdir: true, maxDbs: 128 });
      const meta = env.openDB<number, string>('meta', {});
      await meta.put('format', 1);
      const db = env.openDB('table:sessions:0', { encoding: 'binary', keyEncoding: 'binary', useVersions: true });
      for (const s of states) {
        const record = s.value === undefined ? [s.expiresAt, s.seen, s.origin, 1] : [s.expiresAt, s.seen, s.origin, 0, s.value];
        await db.put(encodeStoredKey(s.ns, s.key), pack(record), s.version);
      }
      await env.close();
    }

    function metaOf(key: string): unknown {
      const env = open({ path: file, noSubdir: true, maxDbs: 128, readOnly: true });
      const value = env.openDB<number, string>('meta', {}).get(key);
      void env.close();
      return value;
    }

    it('loads them, writes new records with checksums, marks the file format 2, and checks every record once the table is rewritten', async () => {
      const old = [live('cache', 'a', 'alpha', 1), tombstone('cache', 'b', 2)];
      await writeLegacyFile(old);
      let table = await (await openDir()).table('sessions');
      expect(sorted(await table.load())).toEqual(sorted(old));
      await table.save([live('cache', 'c', 'gamma', 3)]);
      for (const directory of opened.splice(0)) await directory.close();
      // An earlier build now refuses the file with "format 2" instead of failing on the new records.
      expect(metaOf('format')).toBe(2);
      expect(metaOf('lenient')).toBe(1);

      table = await (await openDir()).table('sessions');
      const all = sorted(await table.load());
      expect(all).toEqual(sorted([...old, live('cache', 'c', 'gamma', 3)]));
      await table.replaceAll(all);
      for (const directory of opened.splice(0)) await directory.close();
      expect(metaOf('checksums:sessions')).toBe(1);
      table = await (await openDir()).table('sessions');
      expect(sorted(await table.load())).toEqual(all);
    });

    it('refuses a file of a format it does not know', async () => {
      const env = open({ path: file, noSubdir: true, maxDbs: 128 });
      await env.openDB<number, string>('meta', {}).put('format', 3);
      await env.close();
      const error = await rejection(LmdbPersistenceDirectory.open(dir, logger));
      expect(error.code).toBe('unsupported-format');
      expect(error.message).toContain('has format 3, and this version of nest-cluster-cache reads format 2');
    });
  });
});
