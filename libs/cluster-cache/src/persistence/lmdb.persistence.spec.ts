import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import type { EntryState } from '../store/entry';
import type { NormalKey } from '../store/key';
import { encodeStoredKey } from './key-codec';
import { DATA_FILE, LmdbPersistenceDirectory, LmdbPersistenceOptions } from './lmdb.persistence';
import { PersistenceError } from './persistence.error';
import type { TablePersistence } from './table-persistence.interface';

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

    it('reports a write failure naming the file, and keeps working', async () => {
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
      batch.mockRestore();
      await table.save([live('cache', 'k', 'v', 2)]);
      expect(await table.load()).toEqual([live('cache', 'k', 'v', 2)]);
    });
  });
});
