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
/**
 * Every header flag a file of this library carries: MDB_INTEGERKEY (the free
 * list's keys), overlapping sync and lmdb-js' 0x4000, whatever the options.
 * Any other bit is damage, and some send lmdb-js down paths that crash the
 * process (0x2000: SIGSEGV on open, found by the fuzz suite).
 */
const KNOWN_ENV_FLAGS = 0x0008 | OVERLAPPING_SYNC | 0x4000;
const LAST_PAGE = META + 120; // uint64, last page in use
const TXN_ID = META + 128; // uint64, the transaction that wrote this meta
const BOOT_ID = META + 136; // int64, the boot it was written in
const META_END = META + 144;
const MAX_PAGE_SIZE = 0x10000;
const FREE_DB = META + 24; // MDB_db of the free list (mm_dbs[FREE_DBI])
const MAIN_DB = META + 72; // MDB_db of the main database, which names the others (mm_dbs[MAIN_DBI])

/**
 * Checks that an existing data file looks like an intact LMDB file, before
 * lmdb opens it. lmdb-js does not return an error for a file that is not LMDB,
 * or is shorter than its header says: it kills the whole process (SIGSEGV when
 * it maps the header, SIGBUS when it reads past the end of the file). So the
 * cases we can see from outside — garbage, a foreign or empty file, a
 * truncated copy — are refused here with a message naming the file. A missing
 * file is fine: LMDB creates it.
 *
 * Damage inside the file ends the process the same way when LMDB follows a
 * damaged page (a child page number, a node offset or size, a free-list entry
 * out of bounds): so every page of every tree LMDB will open is checked here
 * too (`checkTrees`), which reads the file's used pages once, in file order
 * (about 0.25 s for the 500 MB of a million sessions). What it does not see —
 * damaged keys and values — the records' checksums report (see state-codec.ts).
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
  for (const [meta, which] of [[first, 'first header page'], [second, 'second header page'], [flushed, 'flushed header']] as const) {
    const unknown = meta === undefined ? 0 : meta.envFlags & ~KNOWN_ENV_FLAGS;
    if (unknown !== 0) throw corrupt(file, `its ${which} has flags 0x${meta!.envFlags.toString(16)}, with bits 0x${unknown.toString(16)} this library never writes`);
  }
  const boot = bootId();
  let chosen = pickMeta(first, second, boot);
  if (flushed !== undefined) chosen = pickMeta(chosen, flushed, boot);
  const needed = (Number(chosen.lastPage) + 1) * pageSize;
  if (size < needed) throw corrupt(file, `it is cut short: ${size} bytes where its header needs ${needed}`);
  checkTrees(file, chosen);
}

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnId: bigint;
  bootId: bigint;
  /** The environment's flags (kept in the free list's MDB_db record). */
  envFlags: number;
  overlappingSync: boolean;
  /** The roots of the free list and of the main database. */
  free: Tree;
  main: Tree;
}

/** An LMDB tree as its MDB_db record describes it. */
interface Tree {
  flags: number;
  depth: number;
  root: bigint;
}

/** Reads a meta record; meta pages have a page header, lmdb-js' "flushed" meta record (mid page 0) has none. */
function readMeta(head: Buffer, at: number, page: boolean): Meta | undefined {
  if (head.length < at + META_END) return undefined;
  if (page && (head.readUInt16LE(at + PAGE_FLAGS) & P_META) === 0) return undefined;
  if (head.readUInt32LE(at + MAGIC) !== LMDB_MAGIC) return undefined;
  if ((head.readUInt32LE(at + VERSION) & 0xffff) !== LMDB_DATA_VERSION) return undefined;
  const envFlags = head.readUInt16LE(at + ENV_FLAGS);
  return {
    pageSize: head.readUInt32LE(at + PAGE_SIZE),
    lastPage: head.readBigUInt64LE(at + LAST_PAGE),
    txnId: head.readBigUInt64LE(at + TXN_ID),
    bootId: head.readBigInt64LE(at + BOOT_ID),
    envFlags,
    overlappingSync: (envFlags & OVERLAPPING_SYNC) !== 0,
    free: readTree(head, at + FREE_DB),
    main: readTree(head, at + MAIN_DB),
  };
}

/** An MDB_db record: md_pad u32, md_flags u16, md_depth u16, three page counts, md_entries, md_root (u64 each). */
function readTree(bytes: Buffer, at: number): Tree {
  return { flags: bytes.readUInt16LE(at + 4), depth: bytes.readUInt16LE(at + 6), root: bytes.readBigUInt64LE(at + 40) };
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

/*
 * The pages of the trees, as lmdb-js' LMDB reads them: a 24-byte page header
 * (pgno u64, txnid u64, pad u16, flags u16, then lower u16 and upper u16, or
 * the page count u32 of an overflow page); the node index (u16 offsets, from
 * byte 24) up to `lower`; nodes from `upper` to the end of the page. A node
 * is lo u16, hi u16, flags u16, key size u16, the key, then the data (leaf:
 * lo|hi<<16 bytes, or an MDB_ovpage of 24 bytes naming overflow pages) or,
 * on a branch page, the child's page number in lo|hi<<16|flags<<32.
 */
const PAGE_HEADER = 24;
const PAGE_LOWER = 20;
const PAGE_UPPER = 22;
const OVERFLOW_PAGES = 20; // u32, in place of lower and upper
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const NODE_HEADER = 8;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const OVPAGE_BYTES = 24; // MDB_ovpage: op_pgno, op_txnid, op_pages
const TREE_BYTES = 48; // MDB_db
const NUM_METAS = 2n;
const P_INVALID = 0xffff_ffff_ffff_ffffn;
/** LMDB's cursor stack (CURSOR_STACK): no tree may be deeper. */
const MAX_DEPTH = 31;

/**
 * Walks every tree of the snapshot LMDB will open (the free list, the main
 * database and each named database in it) and checks each page against what
 * LMDB trusts when it follows it: page numbers inside the file and used once,
 * the page type its place in the tree calls for, node offsets and sizes
 * inside their page, overflow pages inside the file, free-list entries naming
 * pages of the file, and no page of a transaction newer than the snapshot
 * (LMDB would take it for one it may write in place). LMDB checks none of
 * this: a page that breaks it makes it read or write outside the file's
 * mapping (SIGSEGV, SIGBUS), abort on an assertion, or reuse pages that are
 * in use. Keys, values and their order are not checked: damage there costs
 * records, which their checksums report, not the process.
 * @throws PersistenceError `corrupt` naming the file and the first damaged page.
 */
function checkTrees(file: string, meta: Meta): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    new TreeWalk(fd, meta).all();
  } catch (error) {
    if (error instanceof Damage) throw corrupt(file, error.message);
    throw new PersistenceError('unreadable', file, messages.unreadable(file, error), { cause: error });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** What a walk found wrong with a page. */
class Damage extends Error {}

/** Pages read at once when a level of a tree has several pages near each other (256 KiB of 4 KiB pages). */
const SPAN_PAGES = 64;

/**
 * One walk over the trees of a snapshot (see `checkTrees`). Each tree is
 * walked a level at a time, the pages of a level in file order, read in spans
 * of neighbouring pages: a large table's leaves are spread over the file in
 * no order, and a read per page costs a system call per 4 KiB (about 7 µs
 * each on a VM), where a span costs one per 256 KiB.
 */
class TreeWalk {
  private readonly pageSize: number;
  private readonly lastPage: bigint;
  /** Pages reached so far: each belongs to one place in one tree. */
  private readonly used: Uint8Array;
  /** The pages read last as one span: `spanPages` pages from `spanFirst`. */
  private span: Buffer = Buffer.alloc(0);
  private spanFirst = 0;
  private spanPages = 0;

  constructor(
    private readonly fd: number,
    private readonly meta: Meta,
  ) {
    this.pageSize = meta.pageSize;
    this.lastPage = meta.lastPage;
    this.used = new Uint8Array(Number(meta.lastPage) + 1);
  }

  all(): void {
    this.tree(this.meta.free, 'the free list', 'free');
    this.tree(this.meta.main, 'the main database', 'main');
  }

  private tree(tree: Tree, name: string, kind: 'free' | 'main' | 'named'): void {
    if (tree.root === P_INVALID) {
      if (tree.depth !== 0) throw new Damage(`${name} has no root page but a depth of ${tree.depth}`);
      return;
    }
    if (tree.depth < 1 || tree.depth > MAX_DEPTH) throw new Damage(`${name} has a depth of ${tree.depth}`);
    // Page numbers as doubles: a branch node holds 48 bits, exact in one, and sorting them is native.
    let level = Float64Array.of(Number(tree.root));
    for (let depth = 1; level.length > 0; depth++) {
      level.sort();
      const next: number[] = [];
      for (let i = 0; i < level.length; i++) {
        this.readAhead(level, i);
        this.page(BigInt(level[i]), depth < tree.depth, name, kind, next);
      }
      level = Float64Array.from(next);
    }
  }

  /**
   * Checks page `pgno` of a tree, a branch page or a leaf as its level calls
   * for, and what its leaves lead to; a branch page's children go to `children`.
   */
  private page(pgno: bigint, branch: boolean, name: string, kind: 'free' | 'main' | 'named', children: number[]): void {
    const page = this.claim(pgno, 1n, name);
    const where = `page ${pgno} of ${name}`;
    const flags = page.readUInt16LE(18);
    if (flags !== (branch ? P_BRANCH : P_LEAF)) throw new Damage(`${where} has flags 0x${flags.toString(16)}, not those of a ${branch ? 'branch' : 'leaf'} page`);
    const lower = page.readUInt16LE(PAGE_LOWER);
    const upper = page.readUInt16LE(PAGE_UPPER);
    const room = this.pageSize - PAGE_HEADER;
    if (lower % 2 !== 0 || lower > upper || upper > room) throw new Damage(`${where} has its free space at ${lower}..${upper}, outside its ${room} bytes`);
    const count = lower / 2;
    // LMDB asserts a branch page has two keys or more (one may remain on the free list's, ITS#8336).
    if (branch && count < (kind === 'free' ? 1 : 2)) throw new Damage(`${where} is a branch page with ${count} key(s)`);
    for (let i = 0; i < count; i++) {
      const offset = page.readUInt16LE(PAGE_HEADER + 2 * i);
      const node = PAGE_HEADER + offset;
      if (offset % 2 !== 0 || offset < upper || node + NODE_HEADER > this.pageSize) throw new Damage(`${where} has node ${i} at ${offset}, outside its nodes`);
      const keySize = page.readUInt16LE(node + 6);
      const data = node + NODE_HEADER + keySize;
      if (data > this.pageSize) throw new Damage(`${where} has node ${i} with a key of ${keySize} bytes past the end of the page`);
      if (branch) {
        children.push(page.readUInt16LE(node) + page.readUInt16LE(node + 2) * 0x1_0000 + page.readUInt16LE(node + 4) * 0x1_0000_0000);
      } else {
        this.leafNode(page, node, data, `node ${i} of ${where}`, name, kind);
      }
    }
  }

  private leafNode(page: Buffer, node: number, data: number, where: string, name: string, kind: 'free' | 'main' | 'named'): void {
    // LMDB reads only these bits of a leaf node's flags; damage to the others changes nothing it does.
    const flags = page.readUInt16LE(node + 4) & (F_BIGDATA | F_SUBDATA | F_DUPDATA);
    const size = (page.readUInt16LE(node) | (page.readUInt16LE(node + 2) << 16)) >>> 0;
    // Named databases live in the main database; this library stores no duplicates (sorted-duplicate databases).
    if (flags !== 0 && flags !== F_BIGDATA && !(flags === F_SUBDATA && kind === 'main')) throw new Damage(`${where} has flags 0x${flags.toString(16)}`);
    let value: Buffer;
    if (flags === F_BIGDATA) {
      if (data + OVPAGE_BYTES > this.pageSize) throw new Damage(`${where} names its overflow pages past the end of the page`);
      const first = page.readBigUInt64LE(data);
      const pages = page.readBigUInt64LE(data + 16);
      const needed = BigInt(Math.floor((PAGE_HEADER - 1 + size) / this.pageSize) + 1);
      if (pages < needed) throw new Damage(`${where} holds ${size} bytes in ${pages} overflow page(s)`);
      value = this.overflow(first, pages, size, where, kind === 'free');
    } else {
      if (data + size > this.pageSize) throw new Damage(`${where} has ${size} bytes of data past the end of the page`);
      value = page.subarray(data, data + size);
    }
    if (flags === F_SUBDATA) {
      if (size !== TREE_BYTES) throw new Damage(`${where} names a database in ${size} bytes`);
      const key = page.subarray(node + NODE_HEADER, data).toString('utf8');
      this.tree(readTree(value, 0), `database '${key.replace(/\0$/, '').replace(/[^\x20-\x7e]/g, '?')}'`, 'named');
    }
    if (kind === 'free') this.freeList(value, where);
  }

  /** Claims overflow pages `first` … `first + pages - 1`; returns their data (only read for the free list). */
  private overflow(first: bigint, pages: bigint, size: number, where: string, read: boolean): Buffer {
    const page = this.claim(first, pages, where);
    if (page.readUInt16LE(18) !== P_OVERFLOW) throw new Damage(`${where} names page ${first} as its overflow page, which is not one`);
    const count = BigInt(page.readUInt32LE(OVERFLOW_PAGES));
    if (count < BigInt(Math.floor((PAGE_HEADER - 1 + size) / this.pageSize) + 1) || first + count - 1n > this.lastPage) {
      throw new Damage(`overflow page ${first} (of ${where}) says it spans ${count} page(s)`);
    }
    return read ? this.read(first, Number(pages)).subarray(PAGE_HEADER, PAGE_HEADER + size) : page;
  }

  /**
   * A free-list record: a count, then that many entries (u64 each): a page
   * number, 0 (a hole), or minus a run's length followed by its first page.
   */
  private freeList(list: Buffer, where: string): void {
    if (list.length < 8 || list.length % 8 !== 0) throw new Damage(`${where} is a free-list record of ${list.length} bytes`);
    const count = list.readBigUInt64LE(0);
    if (count > BigInt(list.length / 8 - 1)) throw new Damage(`${where} is a free-list record of ${list.length} bytes that counts ${count} entries`);
    for (let i = 1; i <= Number(count); i++) {
      const entry = list.readBigInt64LE(8 * i);
      if (entry === 0n) continue;
      let first = entry;
      let pages = 1n;
      if (entry < 0n) {
        if (i === Number(count)) throw new Damage(`${where} ends in a run of free pages without its first page`);
        pages = -entry;
        first = list.readBigInt64LE(8 * ++i);
      }
      if (first < NUM_METAS || first + pages - 1n > this.lastPage) throw new Damage(`${where} lists free pages ${first}..${first + pages - 1n}, outside the file's ${this.lastPage + 1n} pages`);
    }
  }

  /** Reads `pages` pages from `pgno`, after checking they are pages of the snapshot not reached before; returns the first. */
  private claim(pgno: bigint, pages: bigint, where: string): Buffer {
    if (pgno < NUM_METAS || pages < 1n || pgno + pages - 1n > this.lastPage) throw new Damage(`${where} leads to page ${pgno}, outside the file's ${this.lastPage + 1n} pages`);
    for (let p = Number(pgno); p < Number(pgno + pages); p++) {
      if (this.used[p] !== 0) throw new Damage(`${where} leads to page ${p}, which another place in the file uses too`);
      this.used[p] = 1;
    }
    const page = this.read(pgno, 1);
    if (page.readBigUInt64LE(0) !== pgno) throw new Damage(`page ${pgno} (of ${where}) says it is page ${page.readBigUInt64LE(0)}`);
    if (page.readBigUInt64LE(8) > this.meta.txnId) throw new Damage(`page ${pgno} (of ${where}) was written by transaction ${page.readBigUInt64LE(8)}, after the file's last (${this.meta.txnId})`);
    return page;
  }

  /**
   * Before page `level[at]`: if it is not in the span read last, reads the
   * span from it to the furthest page of `level` within SPAN_PAGES of it.
   */
  private readAhead(level: Float64Array, at: number): void {
    const start = level[at];
    const last = Number(this.lastPage);
    if (start > last) return; // `claim` refuses it
    if (start >= this.spanFirst && start < this.spanFirst + this.spanPages) return;
    let end = start;
    for (let i = at + 1; i < level.length && level[i] <= last && level[i] < start + SPAN_PAGES; i++) end = level[i];
    if (end === start) return; // a page alone is read on its own
    // A new buffer per span: pages of the last one may still be in use (a leaf's overflow pages are read in its node loop).
    const bytes = Buffer.allocUnsafe((end - start + 1) * this.pageSize);
    const read = fs.readSync(this.fd, bytes, 0, bytes.length, start * this.pageSize);
    this.span = bytes;
    this.spanFirst = start;
    this.spanPages = Math.floor(read / this.pageSize);
  }

  /** `pages` pages from `pgno`: from the span read last if it holds them, else read now. */
  private read(pgno: bigint, pages: number): Buffer {
    const first = Number(pgno);
    if (first >= this.spanFirst && first + pages <= this.spanFirst + this.spanPages) {
      const at = (first - this.spanFirst) * this.pageSize;
      return this.span.subarray(at, at + pages * this.pageSize);
    }
    const bytes = Buffer.allocUnsafe(pages * this.pageSize);
    const read = fs.readSync(this.fd, bytes, 0, bytes.length, first * this.pageSize);
    if (read < bytes.length) throw new Damage(`page ${pgno} is past the end of the file`);
    return bytes;
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
