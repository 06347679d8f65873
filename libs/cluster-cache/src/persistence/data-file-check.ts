import * as fs from 'node:fs';
import { PersistenceError } from './persistence.error';
import { messages } from './persistence.messages';

/*
 * The meta pages of an lmdb-js data file (LMDB 0.9 with lmdb-js' 24-byte page
 * header and its overlappingSync additions), as far as this check reads them.
 * Offsets are from the start of a meta page.
 */
const PAGE_FLAGS = 18; // uint16, P_META on a meta page
const P_META = 0x08;
const META = 24; // MDB_meta starts after the page header
const MAGIC = META + 0; // uint32 0xBEEFC0DE
const LMDB_MAGIC = 0xbeefc0de;
const VERSION = META + 4; // uint32, data format in the low 16 bits
const LMDB_DATA_VERSION = 2;
const PAGE_SIZE = META + 24; // uint32, mm_dbs[FREE_DBI].md_pad
const ENV_FLAGS = META + 28; // uint16, mm_dbs[FREE_DBI].md_flags
const OVERLAPPING_SYNC = 0x1000;
const LAST_PAGE = META + 120; // uint64, last page in use
const TXN_ID = META + 128; // uint64, the transaction that wrote this meta
const BOOT_ID = META + 136; // int64, the boot it was written in
const META_END = META + 144;
const MAX_PAGE_SIZE = 0x10000;

/**
 * Checks that an existing data file looks like an intact LMDB file, before
 * lmdb opens it. lmdb-js does not return an error for a file that is not LMDB,
 * or is shorter than its header says: it kills the whole process (SIGSEGV when
 * it maps the header, SIGBUS when it reads past the end of the file). So the
 * cases we can see from outside — garbage, a foreign or empty file, a
 * truncated copy — are refused here with a message naming the file. A missing
 * file is fine: LMDB creates it.
 *
 * Damage inside the file is not seen here (LMDB keeps no checksums): `load()`
 * usually reports it as an error naming the file, but a damaged page can
 * still crash the process when LMDB follows it.
 * @throws PersistenceError `corrupt` or `unreadable`.
 */
export function checkDataFile(file: string): void {
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw corrupt(file, 'it is not a regular file');
    size = stat.size;
  } catch (error) {
    if (error instanceof PersistenceError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PersistenceError('unreadable', file, messages.unreadable(file, error), { cause: error });
  }
  // An LMDB file always has its two meta pages; an empty one was cut short (or never written by LMDB).
  if (size === 0) throw corrupt(file, 'it is empty');

  const head = readHead(file, Math.min(size, MAX_PAGE_SIZE + META_END));
  const first = readMeta(head, 0, true);
  if (first === undefined) throw corrupt(file, 'it does not start with an LMDB header');
  const pageSize = first.pageSize;
  if (pageSize < 512 || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    throw corrupt(file, `its header gives an invalid page size ${pageSize}`);
  }
  const second = readMeta(head, pageSize, true);
  if (second === undefined) throw corrupt(file, 'its second header page is missing or damaged');
  // Every page of the snapshot LMDB will open must be in the file.
  const flushed = readMeta(head, pageSize / 2, false);
  const boot = bootId();
  let chosen = pickMeta(first, second, boot);
  if (flushed !== undefined) chosen = pickMeta(chosen, flushed, boot);
  const needed = (Number(chosen.lastPage) + 1) * pageSize;
  if (size < needed) throw corrupt(file, `it is cut short: ${size} bytes where its header needs ${needed}`);
}

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnId: bigint;
  bootId: bigint;
  overlappingSync: boolean;
}

/** Reads a meta record; meta pages have a page header, lmdb-js' "flushed" meta record (mid page 0) has none. */
function readMeta(head: Buffer, at: number, page: boolean): Meta | undefined {
  if (head.length < at + META_END) return undefined;
  if (page && (head.readUInt16LE(at + PAGE_FLAGS) & P_META) === 0) return undefined;
  if (head.readUInt32LE(at + MAGIC) !== LMDB_MAGIC) return undefined;
  if ((head.readUInt32LE(at + VERSION) & 0xffff) !== LMDB_DATA_VERSION) return undefined;
  return {
    pageSize: head.readUInt32LE(at + PAGE_SIZE),
    lastPage: head.readBigUInt64LE(at + LAST_PAGE),
    txnId: head.readBigUInt64LE(at + TXN_ID),
    bootId: head.readBigInt64LE(at + BOOT_ID),
    overlappingSync: (head.readUInt16LE(at + ENV_FLAGS) & OVERLAPPING_SYNC) !== 0,
  };
}

/**
 * The meta LMDB opens, as lmdb-js' `mdb_pick_meta` chooses it when opening a
 * file with overlappingSync: the newest, if it was written since the last
 * boot (or without overlappingSync); after a reboot, the older one, whose
 * pages were flushed.
 */
function pickMeta(a: Meta, b: Meta, boot: bigint): Meta {
  if (b.txnId === 0n) return a;
  const latest = a.txnId >= b.txnId ? a : b;
  if ((latest.bootId !== 0n && latest.bootId === boot) || !latest.overlappingSync) return latest;
  return a.txnId > b.txnId ? b : a;
}

/** The boot id as LMDB reads it: `strtoll` of /proc's boot id in base 16, which stops at the first '-'. */
function bootId(): bigint {
  try {
    const hex = /^[0-9a-f]+/i.exec(fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))?.[0];
    return hex === undefined ? 0n : BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`));
  } catch {
    return 0n;
  }
}

function readHead(file: string, length: number): Buffer {
  const head = Buffer.alloc(length);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const read = fs.readSync(fd, head, 0, length, 0);
    return head.subarray(0, read);
  } catch (error) {
    throw new PersistenceError('unreadable', file, messages.unreadable(file, error), { cause: error });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function corrupt(file: string, detail: string): PersistenceError {
  return new PersistenceError('corrupt', file, messages.notLmdb(file, detail));
}
