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
   * store drops what expired).
   * @throws PersistenceError naming the file when it is unreadable or corrupt.
   */
  load(): Promise<EntryState[]>;

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
