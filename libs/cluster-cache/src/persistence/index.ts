export { DATA_FILE, LmdbPersistenceDirectory } from './lmdb.persistence';
export type { LmdbPersistenceOptions, PersistenceLogger } from './lmdb.persistence';
export { LOCK_FILE } from './directory-lock';
export { PersistenceError } from './persistence.error';
export type { PersistenceErrorCode } from './persistence.error';
export type { PersistenceDirectory, TablePersistence } from './table-persistence.interface';
