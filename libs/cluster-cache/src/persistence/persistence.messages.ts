/**
 * The text of every persistence error and log line, in one place so the
 * wording (and the advice) stays consistent.
 */

const KEEPS_RUNNING =
  'The in-memory cache keeps running and serving; the disk copy is rewritten from memory once the disk takes writes again';

const MOVE_AWAY = 'move the file away (or restore a backup) and restart: the cache then starts with an empty disk copy';

/** Short text of an unknown thrown value. */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

export const messages = {
  lockHeld: (dir: string, pid: number, host: string, lockFile: string) =>
    `Persistence directory ${dir} is in use by process ${pid} on ${host} (lock file ${lockFile}). ` +
    'Only one process may use a persistence directory: stop that process or give this one another directory. ' +
    `If no process uses the directory any more (say, it ran on another machine), delete ${lockFile}.`,

  lockHeldHere: (dir: string) =>
    `Persistence directory ${dir} is already open in this process (pid ${process.pid}). Close it before opening it again.`,

  lockUnreadable: (dir: string, lockFile: string, detail: string) =>
    `Persistence directory ${dir} has a lock file ${lockFile} that cannot be read (${detail}). ` +
    'If no process is using the directory, delete the lock file and restart.',

  lockContended: (dir: string, lockFile: string) =>
    `Could not take the lock of persistence directory ${dir}: ${lockFile} kept changing (another process is starting on it?).`,

  lockTakenOver: (dir: string, pid: number, why: string) =>
    `Taking over the lock of persistence directory ${dir} left by process ${pid} (${why}).`,

  dirUnusable: (dir: string, cause: unknown) =>
    `Cannot use persistence directory ${dir}: ${describeCause(cause)}. Check that it can be created, read and written by this process.`,

  notLmdb: (file: string, detail: string) =>
    `Persistence data file ${file} is corrupt or is not an LMDB data file (${detail}). ` +
    `It was left untouched and the cache did not start with an empty copy: ${MOVE_AWAY}.`,

  unreadable: (file: string, cause: unknown) =>
    `Cannot read persistence data file ${file}: ${describeCause(cause)}. ` +
    `Check its permissions and the disk; if the file is damaged, ${MOVE_AWAY}.`,

  damaged: (file: string, table: string, cause: unknown) =>
    `Persistence data file ${file} is damaged: reading table '${table}' failed (${describeCause(cause)}). ${capitalize(MOVE_AWAY)}.`,

  badEntry: (file: string, table: string, key: string, detail: string) =>
    `Persistence data file ${file} is damaged: the entry ${key} of table '${table}' cannot be decoded (${detail}). ${capitalize(MOVE_AWAY)}.`,

  newerFormat: (file: string, found: unknown, supported: number) =>
    `Persistence data file ${file} has format ${String(found)}, and this version of nest-cluster-cache reads format ${supported}. ` +
    'Upgrade nest-cluster-cache, or move the file away to start with an empty disk copy.',

  tooManyTables: (file: string, max: number) =>
    `Persistence data file ${file} cannot hold more than ${max} tables.`,

  invalidState: (file: string, table: string, key: string, detail: string) =>
    `Cannot save the entry ${key} of table '${table}' to ${file}: ${detail}.`,

  writeFailed: (file: string, table: string, cause: unknown) =>
    `Could not write table '${table}' to persistence data file ${file}: ${describeCause(cause)}. ` +
    `Check free disk space and the disk. ${KEEPS_RUNNING}`,

  noRoom: (file: string, table: string, why: string) =>
    `Could not write table '${table}' to persistence data file ${file}: ${why} (writes stop short of a full disk). ` +
    `Check free disk space and the disk. ${KEEPS_RUNNING}`,

  writesHeld: (file: string, table: string, why: string) =>
    `Could not write table '${table}' to persistence data file ${file}: writes are held back since the disk failed (${why}). ` +
    `Check free disk space and the disk. ${KEEPS_RUNNING}`,

  damagedRecord: (file: string, table: string, key: string, detail: string) =>
    `Persistence data file ${file} has a damaged record: the entry ${key} of table '${table}' ${detail}. It was skipped, not loaded.`,

  opened: (dir: string, fsync: boolean) =>
    `Persistence directory ${dir} opened (${fsync ? 'saves wait for the disk flush' : 'saves survive a process crash'}).`,

  closeUnflushed: (file: string) =>
    `Closing ${file} without a final flush: the disk rejects writes. What was acknowledged is committed; check the disk.`,

  closed: (where: string) => `The disk copy in ${where} is closed: it takes no more calls.`,
};

/** Bytes for messages: `812 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit]}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
