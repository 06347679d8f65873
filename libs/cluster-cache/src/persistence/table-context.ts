import type { Database, RootDatabase } from 'lmdb';
import type { DiskGuard } from './disk-guard';

/** How a table reaches its LMDB file. */
export interface TableContext {
  readonly env: RootDatabase;
  /** Small records: the format and each table's active slot. */
  readonly meta: Database<number, string>;
  /** The data file, for messages. */
  readonly file: string;
  /** Whether a write resolves only once flushed to the disk (see `LmdbPersistenceOptions.fsync`). */
  readonly fsync: boolean;
  /** Admits commits the disk has room for (see `DiskGuard`). */
  readonly guard: DiskGuard;
  /**
   * Whether the file was written by an earlier build, whose records carry no
   * checksum: its tables are read leniently until rewritten (`checksumsKey`).
   */
  readonly lenient: boolean;
  /** Meta records to write with the next commit (the format upgrade of an earlier build's file). */
  readonly pendingMeta: Map<string, number>;
  /** Checks that the disk takes writes again (see `TablePersistence.probe`). */
  probe(table: string): Promise<void>;
}

/** The meta key naming a table's active slot. */
export function slotKey(table: string): string {
  return `slot:${table}`;
}

/** The meta key set (to 1) once every record of a table in an earlier build's file carries a checksum. */
export function checksumsKey(table: string): string {
  return `checksums:${table}`;
}
