import * as fs from 'node:fs';
import * as path from 'node:path';
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import { checkDataFile } from './data-file-check';
import { DirectoryLock } from './directory-lock';
import { DiskGuard, type DiskSystem } from './disk-guard';
import { LmdbTablePersistence, MAX_DATABASES } from './lmdb-table.persistence';
import type { TableContext } from './table-context';
import { PersistenceError } from './persistence.error';
import { describeCause, messages } from './persistence.messages';
import type { PersistenceDirectory, TablePersistence } from './table-persistence.interface';

/** Options of the LMDB disk copy. @publicApi */
export interface LmdbPersistenceOptions {
  /**
   * `false` (default): a resolved `save()` survives a crash of the process
   * (`kill -9`, an exception). `true`: it also survives a power loss or a
   * kernel crash, at the cost of waiting for the disk's fsync on every save.
   */
  fsync?: boolean;
  /** What the disk guard asks the system (tests give a fake disk). */
  disk?: DiskSystem;
}

/** Where the disk copy reports what it does (Nest's `Logger` fits). */
export interface PersistenceLogger {
  log(message: string): void;
  warn(message: string): void;
}

/** The data file's name inside the directory. */
export const DATA_FILE = 'cache.mdb';

/**
 * The on-disk format this code writes (a record in the meta database):
 * 1: records without checksums (earlier builds); 2: records with checksums.
 * A format-1 file is read, and becomes format 2 with its first write here,
 * with the `lenient` record: its tables may still hold records without a
 * checksum until they are rewritten (see `checksumsKey`).
 */
const FORMAT = 2;
const LEGACY_FORMAT = 1;
const FORMAT_KEY = 'format';
const LENIENT_KEY = 'lenient';
/** A meta record the disk probe writes. */
const PROBE_KEY = 'probe';

/**
 * A persistence directory holding one LMDB file, `cache.mdb`, with
 * sub-databases per table (see `LmdbTablePersistence`), and the directory lock.
 *
 * Durability. lmdb commits on its own writer thread. We keep `overlappingSync`
 * (lmdb's default on Linux and macOS, set explicitly here): a commit writes the
 * data and meta pages through the OS and resolves, and the fsync follows,
 * overlapped with the next transactions.
 * - A committed transaction is in the OS page cache, so it survives `kill -9`
 *   of the process: on reopening, lmdb uses the newest committed meta page as
 *   long as the machine has not rebooted. `save()` waits for that commit.
 * - After a power loss lmdb falls back to the newest flushed meta page: the
 *   last commits may be lost, but the file stays consistent. With
 *   `fsync: true`, `save()` also waits for its transaction's flush
 *   (`separateFlushed` gives each write that promise), so nothing
 *   acknowledged is lost.
 * - Not `noSync`: cheaper (measured here: an awaited save of 20 states took
 *   0.1–0.2 ms instead of 0.5–3 ms), and as safe for a process crash, but a
 *   power loss can leave a corrupt file.
 * - `eventTurnBatching: false`: every call writes one explicit `batch` (one
 *   transaction) instead. lmdb's implicit per-tick batch holds a promise of
 *   its own that nobody awaits; when a commit fails (a full disk) it rejects
 *   unhandled and ends the process.
 * @publicApi
 */
export class LmdbPersistenceDirectory implements PersistenceDirectory {
  /** The data file. */
  readonly file: string;
  private readonly tables = new Map<string, LmdbTablePersistence>();
  private readonly context: TableContext;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly env: RootDatabase,
    meta: Database<number, string>,
    private readonly lock: DirectoryLock,
    private readonly logger: PersistenceLogger,
    options: LmdbPersistenceOptions,
    format: MetaFormat,
  ) {
    this.file = path.join(dir, DATA_FILE);
    const guard = new DiskGuard(dir, this.file, options.disk);
    this.context = {
      env,
      meta,
      file: this.file,
      fsync: options.fsync ?? false,
      guard,
      lenient: format.lenient,
      pendingMeta: format.pending,
      probe: (table) => guard.probe(table, () => this.probeCommit(table)),
    };
  }

  /** Why writes are held back (a full or failing disk), or undefined while they reach the disk. */
  get failure(): string | undefined {
    return this.context.guard.failure;
  }

  /**
   * Opens (creating it if needed) a persistence directory and takes its lock.
   * @throws PersistenceError `locked` when another process (or this one) has it
   *   open; `corrupt`, `unreadable` or `unsupported-format`, naming the file,
   *   when the data file cannot be used. The file is never replaced by an
   *   empty one.
   */
  static async open(dir: string, logger: PersistenceLogger, options: LmdbPersistenceOptions = {}): Promise<LmdbPersistenceDirectory> {
    const root = makeDirectory(dir);
    const lock = DirectoryLock.acquire(root, (message) => logger.warn(message));
    try {
      const file = path.join(root, DATA_FILE);
      checkDataFile(file);
      const env = openEnvironment(file);
      let meta: Database<number, string>;
      let format: MetaFormat;
      try {
        meta = env.openDB<number, string>('meta', {});
        format = readFormat(meta, file);
      } catch (error) {
        await env.close();
        throw error;
      }
      const directory = new LmdbPersistenceDirectory(root, env, meta, lock, logger, options, format);
      logger.log(messages.opened(root, options.fsync ?? false));
      return directory;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  table(name: string): Promise<TablePersistence> {
    if (this.closing) return Promise.reject(new PersistenceError('closed', this.dir, messages.closed(this.dir)));
    let table = this.tables.get(name);
    try {
      table ??= LmdbTablePersistence.open(this.context, name);
    } catch (error) {
      return Promise.reject(error);
    }
    this.tables.set(name, table);
    return Promise.resolve(table);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** The probe's lmdb write: one small meta record (and any meta record still pending). */
  private async probeCommit(table: string): Promise<void> {
    if (this.closing) throw new PersistenceError('closed', this.dir, messages.closed(this.dir));
    const meta = this.context.meta;
    const pending = [...this.context.pendingMeta];
    let batch: Promise<unknown>;
    try {
      batch = meta.batch(() => {
        for (const [key, value] of pending) void meta.put(key, value);
        void meta.put(PROBE_KEY, Date.now());
      });
    } catch (error) {
      throw new PersistenceError('write-failed', this.file, messages.writeFailed(this.file, table, error), { cause: error, detail: describeCause(error) });
    }
    try {
      await batch.catch(async (error: { commitError?: Promise<unknown> } | undefined) => {
        throw (await error?.commitError?.then(() => error, (cause: unknown) => cause)) ?? error;
      });
    } catch (error) {
      throw new PersistenceError('write-failed', this.file, messages.writeFailed(this.file, table, error), { cause: error, detail: describeCause(error) });
    }
    for (const [key, value] of pending) if (this.context.pendingMeta.get(key) === value) this.context.pendingMeta.delete(key);
  }

  private async shutdown(): Promise<void> {
    try {
      await Promise.all([...this.tables.values()].map((table) => table.close()));
      // lmdb may start writing on the next turn; closing the file before that ends the process.
      await new Promise((resolve) => setImmediate(resolve));
      // After a failed commit lmdb's flush promise never settles and its close would wait
      // forever: an empty transaction that succeeds puts that right.
      const healthy = await this.context.meta.batch(() => undefined).then(
        () => true,
        (error: { commitError?: Promise<unknown> } | undefined) => {
          error?.commitError?.catch(() => undefined);
          return false;
        },
      );
      if (healthy) {
        await this.env.flushed;
        await this.env.close();
      } else {
        // Waiting for lmdb would never end: leave the file to the OS, as a crash would.
        this.logger.warn(messages.closeUnflushed(this.file));
      }
    } finally {
      this.lock.release();
    }
  }
}

/** Creates the directory if needed; returns its real path (one lock per directory, however it is spelled). */
function makeDirectory(dir: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return fs.realpathSync(dir);
  } catch (error) {
    throw new PersistenceError('unreadable', path.resolve(dir), messages.dirUnusable(path.resolve(dir), error), { cause: error });
  }
}

function openEnvironment(file: string): RootDatabase {
  try {
    // See the class comment.
    return open({
      path: file,
      noSubdir: true,
      maxDbs: MAX_DATABASES,
      overlappingSync: true,
      separateFlushed: true,
      eventTurnBatching: false,
    });
  } catch (error) {
    throw new PersistenceError('unreadable', file, messages.unreadable(file, error), { cause: error });
  }
}

/** What the meta database says of the file's format. */
interface MetaFormat {
  /** Whether tables may hold records without a checksum (see `LmdbTablePersistence`). */
  lenient: boolean;
  /** Meta records to write with the next commit. */
  pending: Map<string, number>;
}

/**
 * Reads the format record, and refuses a file of another format. A new file
 * gets its record, and an earlier build's file (format 1) is upgraded, with
 * the first commit (so that an earlier build refuses it from then on, instead
 * of failing on records with checksums).
 */
function readFormat(meta: Database<number, string>, file: string): MetaFormat {
  let found: unknown;
  let lenient: unknown;
  try {
    found = meta.get(FORMAT_KEY);
    lenient = meta.get(LENIENT_KEY);
  } catch (error) {
    throw new PersistenceError('corrupt', file, messages.unreadable(file, error), { cause: error });
  }
  // A new file: the record goes with the first commit, which the disk guard admits (the disk may be full already).
  if (found === undefined) return { lenient: false, pending: new Map([[FORMAT_KEY, FORMAT]]) };
  if (found === LEGACY_FORMAT) {
    return { lenient: true, pending: new Map([[LENIENT_KEY, 1], [FORMAT_KEY, FORMAT]]) };
  }
  if (found !== FORMAT) throw new PersistenceError('unsupported-format', file, messages.newerFormat(file, found, FORMAT));
  return { lenient: lenient === 1, pending: new Map() };
}
