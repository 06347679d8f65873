import type { Database } from 'lmdb';
import type { EntryState } from '../store/entry';
import { commitBytes, type CommitShape } from './disk-guard';
import { describeKey, describeStoredKey, encodeStoredKey } from '../codec/key-codec';
import { PersistenceError } from './persistence.error';
import { describeCause, messages } from './persistence.messages';
import { StateCodec, type StoredState } from './state-codec';
import { pagesOf, readTree, shapeOf, type Tree, TREE_TTL } from './tree-shape';
import { checksumsKey, slotKey, type TableContext } from './table-context';
import { nextTurn } from '../util/slices';
import type { DamagedRecord, LoadOptions, TablePersistence } from './table-persistence.interface';

/**
 * Each table has two LMDB sub-databases ("slots"); a key in the meta database
 * says which one holds the table. `replaceAll` fills the other slot in chunks
 * and then switches in one small transaction, so a crash in the middle leaves
 * the old copy whole.
 */
export type Slot = 0 | 1;

/** Sub-databases per LMDB file: two slots per table and the meta database. */
export const MAX_DATABASES = 128;
const MAX_TABLES = Math.floor((MAX_DATABASES - 1) / 2);

/** States written per transaction by `replaceAll`, and read per event-loop turn by `load`. */
const CHUNK = 10_000;
/**
 * States `load` hands to `onStates` at once: few enough that they die young.
 * States held for a whole CHUNK outlive a scavenge of the young generation,
 * which copies them (half of a restart's GC time at a million sessions).
 */
const HAND_OVER = 1_000;

/** A write's promise; with lmdb's `separateFlushed`, `flushed` resolves once its transaction is on disk. */
type Commit = Promise<unknown> & { flushed?: Promise<unknown> };

/**
 * The disk copy of one table in an LMDB file.
 *
 * Every call is one lmdb `batch`: its writes are queued without awaiting each
 * one, go to lmdb's writer thread and land in one transaction (all or
 * nothing); the promise resolves when that transaction is committed. Calls
 * made together share transactions as the writer picks them up.
 *
 * A `replaceAll` or `load` in progress holds later calls back until it ends,
 * so calls take effect in the order they were made.
 *
 * Every commit is first admitted by the directory's `DiskGuard`, with an
 * upper bound of what it adds to the file: lmdb must never meet a full disk
 * (see there). Records carry a checksum (see `StateCodec`); a record whose
 * checksum does not match is reported and skipped, never loaded.
 */
export class LmdbTablePersistence implements TablePersistence {
  readonly location: string;
  private readonly codec = new StateCodec();
  private closed = false;
  /** Settles when the exclusive work in progress and everything queued behind it is done. */
  private queue: Promise<void> | undefined;
  private tree: Tree | undefined;

  private constructor(
    private readonly context: TableContext,
    /** The table name. */
    readonly name: string,
    private slot: Slot,
    private db: Database<Buffer, Buffer>,
    /** Whether every record must carry a checksum (false: some may be an earlier build's). */
    private strict: boolean,
  ) {
    this.location = context.file;
  }

  /**
   * Opens the table's active slot, creating the table if it is new.
   * @throws PersistenceError when the file is damaged or has no room for another table.
   */
  static open(context: TableContext, name: string): LmdbTablePersistence {
    let stored: unknown;
    try {
      stored = context.meta.get(slotKey(name));
    } catch (error) {
      throw new PersistenceError('corrupt', context.file, messages.damaged(context.file, name, error), { cause: error });
    }
    if (stored !== undefined && stored !== 0 && stored !== 1) {
      throw new PersistenceError('corrupt', context.file, messages.damaged(context.file, name, `its slot record is ${String(stored)}`));
    }
    const slot: Slot = stored ?? 0;
    let strict = !context.lenient;
    if (!strict) {
      try {
        strict = context.meta.get(checksumsKey(name)) === 1;
      } catch (error) {
        throw new PersistenceError('corrupt', context.file, messages.damaged(context.file, name, error), { cause: error });
      }
    }
    return new LmdbTablePersistence(context, name, slot, openSlot(context, name, slot), strict);
  }

  load(onDamaged?: (record: DamagedRecord) => void, options: LoadOptions = {}): Promise<EntryState[]> {
    return this.exclusive(() => this.readAll(onDamaged, options));
  }

  probe(): Promise<void> {
    return this.context.probe(this.name);
  }

  save(states: readonly EntryState[]): Promise<void> {
    return this.run(() => this.write(states));
  }

  forget(states: readonly EntryState[]): Promise<void> {
    return this.run(() => this.remove(states));
  }

  replaceAll(states: Iterable<EntryState>): Promise<void> {
    return this.exclusive(() => this.replace(states));
  }

  /** Refuses new calls; resolves when the calls already made are done. */
  close(): Promise<void> {
    this.closed = true;
    return this.queue ?? Promise.resolve();
  }

  private async readAll(onDamaged: ((record: DamagedRecord) => void) | undefined, { valuesAsBytes = false, onStates }: LoadOptions): Promise<EntryState[]> {
    await this.db.committed.then(noop, noop); // include what was saved before this call
    let states: EntryState[] = [];
    let read = 0;
    const handOver = () => {
      onStates!(states);
      states = [];
      this.codec.reuseStage(); // the caller copied what it keeps
    };
    try {
      // Values read in place (see IN_PLACE): the codec copies what it keeps before the next one is read.
      for (const { key, value, version } of openSlot(this.context, this.name, this.slot, IN_PLACE).getRange({ versions: true })) {
        const state = this.decode(key, value, version, onDamaged, valuesAsBytes);
        if (state !== undefined) states.push(state);
        if (++read % HAND_OVER !== 0) continue;
        if (onStates !== undefined) handOver();
        // The range keeps its snapshot across turns; yield so a big table does not block the process.
        if (read % CHUNK === 0) await nextTurn();
      }
      if (onStates !== undefined) handOver();
    } catch (error) {
      if (error instanceof PersistenceError) throw error;
      throw new PersistenceError('corrupt', this.location, messages.damaged(this.location, this.name, error), { cause: error });
    }
    return states;
  }

  /** Decodes a record; a damaged one goes to `onDamaged` (undefined back), or without it rejects the load. */
  private decode(key: Buffer, value: Buffer, version: number | undefined, onDamaged: ((record: DamagedRecord) => void) | undefined, valuesAsBytes: boolean): EntryState | undefined {
    try {
      return this.codec.decode(key, value, version, this.strict, valuesAsBytes);
    } catch (error) {
      const detail = describeCause(error);
      const described = describeStoredKey(key);
      if (onDamaged === undefined) {
        throw new PersistenceError('corrupt', this.location, messages.badEntry(this.location, this.name, described, detail), { cause: error });
      }
      onDamaged({
        file: this.location,
        table: this.name,
        key: described,
        reason: detail,
        message: messages.damagedRecord(this.location, this.name, described, `cannot be used: ${detail}`),
      });
      return undefined;
    }
  }

  private async write(states: readonly EntryState[]): Promise<void> {
    if (states.length === 0) return;
    // Encode everything first: a state that cannot be stored rejects the whole call and writes nothing.
    const stored = states.map((state) => this.encode(state));
    await this.commit(
      this.db,
      () => {
        for (const s of stored) void this.db.put(s.key, s.value, s.version);
      },
      shapeOf(stored, this.treeOf(this.db, false)),
    );
  }

  private async remove(states: readonly EntryState[]): Promise<void> {
    const keys: { key: Buffer; version: number }[] = [];
    for (const state of states) {
      try {
        keys.push({ key: encodeStoredKey(state.ns, state.key), version: state.version });
      } catch {
        // A key that cannot be stored was never saved.
      }
    }
    if (keys.length === 0) return;
    // Conditional removes get a promise each, which must not be left to reject unhandled.
    const removes: Promise<unknown>[] = [];
    await this.commit(
      this.db,
      () => {
        // Only while the entry still has this version: a newer save of the key stays.
        for (const { key, version } of keys) removes.push(this.db.remove(key, version));
      },
      { ...this.treeOf(this.db, false), puts: keys.length, bytes: 0 },
      removes,
    );
  }

  private async replace(states: Iterable<EntryState>): Promise<void> {
    const next: Slot = this.slot === 0 ? 1 : 0;
    const target = openSlot(this.context, this.name, next);
    // Leftovers of an interrupted replace go first, in a commit of their own, so that the
    // chunks can reuse their pages (lmdb reuses only pages that earlier commits freed).
    const leftover = this.treeOf(target, true);
    if (leftover.leafPages + leftover.overflowPages > 0) {
      await this.commit(target, () => void target.clearAsync(), { ...leftover, puts: 0, bytes: 0, freedPages: pagesOf(leftover) });
    }
    let chunk: StoredState[] = [];
    const writeChunk = (last: boolean) => {
      const shape = shapeOf(chunk, this.treeOf(target, true));
      // The last one also empties the old slot: its pages go to the freelist.
      if (last) shape.freedPages = pagesOf(this.treeOf(this.db, true));
      return this.commit(
        target,
        () => {
          for (const s of chunk) void target.put(s.key, s.value, s.version);
          // The switch, in the last transaction: point the table at the new slot, empty the old one.
          if (last) {
            void this.context.meta.put(slotKey(this.name), next);
            if (this.context.lenient) void this.context.meta.put(checksumsKey(this.name), 1);
            void this.db.clearAsync();
          }
        },
        shape,
        [],
        last && this.context.fsync,
      );
    };
    // A state that cannot be stored throws here; the half-filled slot is not active and the next replace clears it.
    for (const state of states) {
      chunk.push(this.encode(state));
      if (chunk.length === CHUNK) {
        await writeChunk(false); // also yields to the event loop between chunks
        chunk = [];
      }
    }
    await writeChunk(true);
    this.slot = next;
    this.db = target;
    this.strict = true;
    this.tree = undefined;
  }

  /** The shape of a slot's tree; read again when older than `TREE_TTL`, or always with `fresh`. */
  private treeOf(db: Database<Buffer, Buffer>, fresh: boolean): Tree {
    const now = Date.now();
    if (!fresh && db === this.db && this.tree !== undefined && now - this.tree.at < TREE_TTL) return this.tree;
    const tree = readTree(db, now);
    if (db === this.db) this.tree = tree;
    return tree;
  }

  private encode(state: EntryState): StoredState {
    try {
      return this.codec.encode(state);
    } catch (error) {
      const key = describeKey(state.ns, state.key);
      throw new PersistenceError('invalid-state', this.location, messages.invalidState(this.location, this.name, key, describeCause(error)), {
        cause: error,
      });
    }
  }

  /**
   * Queues `writes` as one lmdb batch (one transaction) and waits for its
   * commit, and with `flush` for the disk. `shape` says what it writes, for the
   * disk guard's estimate. `promises` are promises the writes returned,
   * handled here so none rejects unhandled when the commit fails.
   */
  private async commit(
    db: Database,
    writes: () => void,
    shape: CommitShape,
    promises: Promise<unknown>[] = [],
    flush = this.context.fsync,
  ): Promise<void> {
    // Refused (a PersistenceError naming the file) before lmdb sees anything.
    const admission = this.context.guard.admit(this.name, commitBytes(shape));
    const meta = [...this.context.pendingMeta];
    let batch: Commit;
    try {
      batch = db.batch(() => {
        for (const [key, value] of meta) void this.context.meta.put(key, value);
        writes();
      });
    } catch (error) {
      admission.release();
      silence(promises);
      throw this.writeFailed(error); // lmdb refused to queue the writes (say, the file is closed)
    }
    silence([batch, ...promises]);
    try {
      await Promise.all([batch, ...promises]);
      if (flush) await (batch.flushed ?? this.context.env.flushed);
    } catch (error) {
      const cause = await commitFailure(error);
      this.context.guard.failed(cause);
      throw this.writeFailed(cause);
    } finally {
      admission.release();
    }
    for (const [key, value] of meta) if (this.context.pendingMeta.get(key) === value) this.context.pendingMeta.delete(key);
  }

  private writeFailed(cause: unknown): PersistenceError {
    return new PersistenceError('write-failed', this.location, messages.writeFailed(this.location, this.name, cause), { cause, detail: describeCause(cause) });
  }

  /** Runs a write now, or after the exclusive work in progress. */
  private run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.queue === undefined ? op() : this.enqueue(op);
  }

  /** Runs work that must not overlap other calls (a load or a replace). */
  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.enqueue(op);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = (this.queue ?? Promise.resolve()).then(op);
    const tail = result.then(noop, noop);
    this.queue = tail;
    void tail.then(() => {
      if (this.queue === tail) this.queue = undefined;
    });
    return result;
  }

  private closedError(): PersistenceError {
    return new PersistenceError('closed', this.location, messages.closed(this.location));
  }
}

/**
 * Values as views of lmdb's shared read buffer, valid until the next value is
 * read: what a load reads once and copies from. With `encoding: 'binary'`
 * lmdb-js copies every value into a Buffer of its own (an allocation outside
 * the heap per record: about a microsecond, and GC pressure, at a restart).
 * An encoder whose decoder does not ask for a stable buffer gets the shared
 * one (lmdb-js `decoderCopies`). Never used to write.
 */
const IN_PLACE = {
  encode(value: Uint8Array): Uint8Array {
    return value;
  },
  decode(bytes: Uint8Array, size: number): Uint8Array {
    return new Uint8Array(bytes.buffer, bytes.byteOffset, size);
  },
};

/** Opens (and creates, if needed) the sub-database of one slot of a table (with `encoder`: a handle to read it with that decoder). */
function openSlot(context: TableContext, table: string, slot: Slot, encoder?: typeof IN_PLACE): Database<Buffer, Buffer> {
  try {
    return context.env.openDB<Buffer, Buffer>(`table:${table}:${slot}`, {
      ...(encoder === undefined ? { encoding: 'binary' } : { encoder }),
      keyEncoding: 'binary',
      useVersions: true,
    });
  } catch (error) {
    if (describeCause(error).includes('MDB_DBS_FULL')) {
      throw new PersistenceError('too-many-tables', context.file, messages.tooManyTables(context.file, MAX_TABLES), { cause: error });
    }
    throw new PersistenceError('corrupt', context.file, messages.damaged(context.file, table, error), { cause: error });
  }
}

/**
 * A failed lmdb commit rejects each write with a generic "Commit failed" whose
 * `commitError` promise rejects with the real cause (e.g. an I/O error). Every
 * rejection gets a handler here, or an unhandled rejection would end the process.
 */
function silence(promises: Iterable<Promise<unknown>>): void {
  for (const promise of promises) {
    promise.catch((error: { commitError?: Promise<unknown> } | undefined) => {
      error?.commitError?.catch(noop);
    });
  }
}

/** The real cause of a failed commit when lmdb has already reported it, else the error itself. */
async function commitFailure(error: unknown): Promise<unknown> {
  const commitError = (error as { commitError?: Promise<unknown> } | undefined)?.commitError;
  if (commitError === undefined) return error;
  // lmdb rejects commitError in the same callback that failed the write; give it one turn.
  return Promise.race([commitError.then(() => error, (cause: unknown) => cause), nextTurn().then(() => error)]);
}

function noop(): void {}
