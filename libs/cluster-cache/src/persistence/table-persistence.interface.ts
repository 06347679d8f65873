import type { EntryState } from '../store/entry';

/**
 * The disk copy of one replicated table (Mnesia's disc_copies): the store stays
 * in memory, this keeps a copy that survives a restart or a `kill -9`.
 */
export interface TablePersistence {
  /** The file or directory that holds this table, for messages. */
  readonly location: string;

  /**
   * Every state saved for the table, tombstones and expired ones included (the
   * store drops what expired). A record that is damaged (its checksum does not
   * match) or does not decode is handed to `onDamaged` and skipped; without
   * `onDamaged` the load rejects with it.
   *
   * With `valuesAsBytes`, a persistence may hand a value over as its
   * value-codec bytes (an `EncodedValue`) instead of decoding it: the store
   * keeps such values as bytes until they are first read (store/compact/).
   * @throws PersistenceError naming the file when it is unreadable or corrupt.
   */
  load(onDamaged?: (record: DamagedRecord) => void, options?: LoadOptions): Promise<EntryState[]>;

  /**
   * Saves states (writes and tombstones). Calls made in the same tick are
   * written together; the promise resolves once the states would survive a
   * `kill -9` of this process.
   */
  save(states: readonly EntryState[]): Promise<void>;

  /** Removes states the store swept (expired entries, collected tombstones), if still saved at that version. */
  forget(states: readonly EntryState[]): Promise<void>;

  /** Replaces the whole saved table with `states` (after a join copy or a heal flush). */
  replaceAll(states: Iterable<EntryState>): Promise<void>;

  /**
   * After writes failed (a full or failing disk, which holds later writes
   * back): resolves once the disk takes writes again, rejects with why not.
   */
  probe?(): Promise<void>;
}

/** How `TablePersistence.load` hands values over. */
export interface LoadOptions {
  /** Values as their bytes (`EncodedValue`) where the persistence holds them so; decoded otherwise. */
  readonly valuesAsBytes?: boolean;
  /**
   * Takes the states a slice at a time (the load then resolves to an empty
   * list): the caller stores them before the next slice is read, so a large
   * table never waits in memory twice. The states and their bytes are valid
   * only during the call: keep copies, not them.
   */
  readonly onStates?: (states: EntryState[]) => void;
}

/** A record of the disk copy that was skipped at load: damaged, or not decodable. */
export interface DamagedRecord {
  /** The data file. */
  readonly file: string;
  readonly table: string;
  /** The entry as `ns:key` (the key as stored, so possibly damaged too), or its bytes in hex if they do not decode. */
  readonly key: string;
  /** What is wrong with it. */
  readonly reason: string;
  /** A log line naming the file, the table and the key. */
  readonly message: string;
}

/**
 * A data directory holding the disk copies of this node's persisted tables.
 * Only one process may have a directory open at a time.
 */
export interface PersistenceDirectory {
  /** The directory path. */
  readonly dir: string;
  /** The disk copy of `table`, opened on first use. */
  table(table: string): Promise<TablePersistence>;
  /** Flushes pending writes, closes files and releases the directory lock. */
  close(): Promise<void>;
}
