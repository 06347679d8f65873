import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from 'lmdb';
import { checkDataFile } from './data-file-check';
import { PersistenceError } from './persistence.error';

describe('checkDataFile', () => {
  let dir: string;
  let file: string;
  /** A real LMDB file of a few hundred pages. */
  let good: Buffer;

  beforeAll(async () => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-check-src-'));
    const env = open({ path: path.join(source, 'cache.mdb'), overlappingSync: true });
    for (let i = 0; i < 5_000; i++) void env.put(`key ${i}`, { i, padding: 'x'.repeat(100) });
    await env.committed;
    // Some pages freed, so the free list has records.
    for (let i = 0; i < 5_000; i += 3) void env.remove(`key ${i}`);
    await env.committed;
    for (let i = 0; i < 5_000; i += 3) void env.put(`key ${i}`, { i });
    await env.committed;
    await env.close();
    good = fs.readFileSync(path.join(source, 'cache.mdb'));
    fs.rmSync(source, { recursive: true, force: true });
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-check-'));
    file = path.join(dir, 'cache.mdb');
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const failure = () => {
    try {
      checkDataFile(file);
    } catch (error) {
      return error as PersistenceError;
    }
    throw new Error('the file was accepted');
  };

  it('accepts a missing file (LMDB creates it) and an intact LMDB file', () => {
    expect(() => checkDataFile(file)).not.toThrow();
    fs.writeFileSync(file, good);
    expect(() => checkDataFile(file)).not.toThrow();
  });

  it.each([
    ['random bytes', () => randomBytes(good.length), /does not start with an LMDB header/],
    ['a text file', () => Buffer.from('hello\n'), /does not start with an LMDB header/],
    ['an empty file', () => Buffer.alloc(0), /it is empty/],
    ['a file cut after its header pages', () => good.subarray(0, 8192), /cut short: 8192 bytes where its header needs/],
    ['a file cut in half', () => good.subarray(0, good.length / 2), /cut short/],
    ['a header with a bad page size', () => withPageSize(good, 1000), /invalid page size 1000/],
  ])('refuses %s, naming the file and saying what to do', (_, content, detail) => {
    fs.writeFileSync(file, content());
    const error = failure();
    expect(error).toBeInstanceOf(PersistenceError);
    expect(error.code).toBe('corrupt');
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(detail);
    expect(error.message).toContain('move the file away');
  });

  it('refuses a directory in place of the file', () => {
    fs.mkdirSync(file);
    expect(failure().message).toContain('not a regular file');
  });

  describe('damage inside the file, to the pages LMDB follows (found by the fuzz suite, test/fuzz)', () => {
    it.each([
      ['a branch page that points past the end of the file', (f: LmdbFile) => f.setChild(f.root(), 1, f.lastPage + 100n), /leads to page \d+, outside the file's \d+ pages/],
      ['two branch nodes that point to one page', (f: LmdbFile) => f.setChild(f.root(), 1, f.child(f.root(), 0)), /which another place in the file uses too/],
      ['a leaf node whose data runs past its page', (f: LmdbFile) => f.setDataSize(f.firstLeaf(), 0, 0x7fff_ffff), /node 0 of page \d+ of the main database has 2147483647 bytes of data past the end of the page/],
      ['a node index entry outside the page', (f: LmdbFile) => f.data.writeUInt16LE(4095, f.offset(f.firstLeaf()) + 24), /has node 0 at 4095, outside its nodes/],
      ['a page of a later transaction (LMDB would write it in place)', (f: LmdbFile) => f.data.writeBigUInt64LE(f.txnId + 7n, f.offset(f.root()) + 8), /was written by transaction \d+, after the file's last/],
      ['a page that is not the one its parent names', (f: LmdbFile) => f.data.writeBigUInt64LE(3n, f.offset(f.firstLeaf())), /says it is page 3/],
      ['a branch page marked as a leaf', (f: LmdbFile) => f.data.writeUInt16LE(0x02, f.offset(f.root()) + 18), /has flags 0x2, not those of a branch page/],
      ['a free-list record naming pages past the end of the file', (f: LmdbFile) => f.setFreePage(f.lastPage + 1_000n), /lists free pages \d+\.\.\d+, outside the file's/],
      ['a free-list record counting more entries than it holds', (f: LmdbFile) => f.setFreeCount(1n << 40n), /free-list record of \d+ bytes that counts 1099511627776 entries/],
    ])('refuses %s, naming the file and the page', (_, damage, detail) => {
      const damaged = new LmdbFile(good);
      damage(damaged);
      fs.writeFileSync(file, damaged.data);
      const error = failure();
      expect(error).toBeInstanceOf(PersistenceError);
      expect(error.code).toBe('corrupt');
      expect(error.file).toBe(file);
      expect(error.message).toMatch(detail);
      expect(error.message).toContain('move the file away');
    });

    it('where lmdb-js itself ends the process (SIGSEGV or SIGBUS), the check refuses the file first', () => {
      const damaged = new LmdbFile(good);
      damaged.setDataSize(damaged.firstLeaf(), 0, 0x7fff_ffff);
      fs.writeFileSync(file, damaged.data);
      const read = `const { open } = require(${JSON.stringify(require.resolve('lmdb'))});
        const env = open({ path: ${JSON.stringify(file)}, readOnly: true });
        for (const entry of env.getRange()) void entry;`;
      const child = spawnSync(process.execPath, ['-e', read], { encoding: 'utf8', timeout: 20_000 });
      expect(child.signal).toMatch(/^SIG(SEGV|BUS)$/);
      expect(failure().code).toBe('corrupt');
    });

    it('refuses a header whose environment flags have a bit lmdb-js may crash on (found by the fuzz suite: 0x2000 ends the process on open)', () => {
      const damaged = Buffer.from(good);
      damaged.writeUInt16LE(damaged.readUInt16LE(52) | 0x2000, 52);
      fs.writeFileSync(file, damaged);
      const read = `const { open } = require(${JSON.stringify(require.resolve('lmdb'))});
        const env = open({ path: ${JSON.stringify(file)}, overlappingSync: true });
        env.get('key 1');`;
      const child = spawnSync(process.execPath, ['-e', read], { encoding: 'utf8', timeout: 20_000 });
      expect(child.signal).toMatch(/^SIG(SEGV|BUS)$/);
      fs.writeFileSync(file, damaged);
      const error = failure();
      expect(error.code).toBe('corrupt');
      expect(error.message).toMatch(/its first header page has flags 0x[0-9a-f]+, with bits 0x2000 this library never writes/);
    });

    it('accepts pages whose leaf nodes have flag bits LMDB does not read', () => {
      const damaged = new LmdbFile(good);
      const node = damaged.offset(damaged.firstLeaf()) + 24 + damaged.data.readUInt16LE(damaged.offset(damaged.firstLeaf()) + 24);
      damaged.data.writeUInt16LE(0x6600, node + 4);
      fs.writeFileSync(file, damaged.data);
      expect(() => checkDataFile(file)).not.toThrow();
    });
  });
});

/**
 * A copy of an LMDB file (lmdb-js' format: 24-byte page headers, see
 * data-file-check.ts) with the parts the specs damage located.
 */
class LmdbFile {
  readonly data: Buffer;
  readonly pageSize: number;
  private readonly meta: number;

  constructor(file: Buffer) {
    this.data = Buffer.from(file);
    this.pageSize = this.data.readUInt32LE(48);
    // The newer of the two meta pages (by txnid), as LMDB opens it on this boot.
    this.meta = this.data.readBigUInt64LE(this.pageSize + 24 + 128) > this.data.readBigUInt64LE(24 + 128) ? this.pageSize + 24 : 24;
  }

  get lastPage(): bigint {
    return this.data.readBigUInt64LE(this.meta + 120);
  }

  get txnId(): bigint {
    return this.data.readBigUInt64LE(this.meta + 128);
  }

  offset(pgno: bigint): number {
    return Number(pgno) * this.pageSize;
  }

  /** The main database's root page (a branch page: the file holds thousands of keys). */
  root(): bigint {
    return this.data.readBigUInt64LE(this.meta + 72 + 40);
  }

  /** The page that node `i` of branch page `pgno` points to. */
  child(pgno: bigint, i: number): bigint {
    const node = this.node(pgno, i);
    return BigInt(this.data.readUInt16LE(node)) | (BigInt(this.data.readUInt16LE(node + 2)) << 16n) | (BigInt(this.data.readUInt16LE(node + 4)) << 32n);
  }

  setChild(pgno: bigint, i: number, child: bigint): void {
    const node = this.node(pgno, i);
    this.data.writeUInt16LE(Number(child & 0xffffn), node);
    this.data.writeUInt16LE(Number((child >> 16n) & 0xffffn), node + 2);
    this.data.writeUInt16LE(Number((child >> 32n) & 0xffffn), node + 4);
  }

  /** The leftmost leaf page of the main database. */
  firstLeaf(): bigint {
    let pgno = this.root();
    while (this.data.readUInt16LE(this.offset(pgno) + 18) === 0x01) pgno = this.child(pgno, 0);
    return pgno;
  }

  setDataSize(pgno: bigint, i: number, size: number): void {
    const node = this.node(pgno, i);
    this.data.writeUInt16LE(size & 0xffff, node);
    this.data.writeUInt16LE(size >>> 16, node + 2);
  }

  /** Sets the first page entry of the free list's first record. */
  setFreePage(pgno: bigint): void {
    this.data.writeBigUInt64LE(pgno, this.freeRecord() + 8);
  }

  setFreeCount(count: bigint): void {
    this.data.writeBigUInt64LE(count, this.freeRecord());
  }

  /** Where the data of the free list's first record is: in its leaf node, or on its overflow page. */
  private freeRecord(): number {
    const root = this.data.readBigUInt64LE(this.meta + 24 + 40);
    expect(this.data.readUInt16LE(this.offset(root) + 18)).toBe(0x02); // one leaf page, in these files
    const node = this.node(root, 0);
    const data = node + 8 + this.data.readUInt16LE(node + 6);
    return this.data.readUInt16LE(node + 4) & 0x01 ? this.offset(this.data.readBigUInt64LE(data)) + 24 : data;
  }

  private node(pgno: bigint, i: number): number {
    const page = this.offset(pgno);
    return page + 24 + this.data.readUInt16LE(page + 24 + 2 * i);
  }
}

function withPageSize(file: Buffer, pageSize: number): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(pageSize, 48);
  return copy;
}
