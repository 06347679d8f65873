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
});

function withPageSize(file: Buffer, pageSize: number): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(pageSize, 48);
  return copy;
}
