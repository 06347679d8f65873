import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { Child, run } from './child-process';
import { batchStates } from './fixtures/states';

/**
 * The disk copy across real processes: acknowledged writes survive `kill -9`,
 * a directory is used by one process at a time, and damaged files are refused
 * with a message, not a crash or an empty cache.
 */
describe('persistence across processes', () => {
  let dir: string;
  let file: string;
  const children: Child[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-e2e-'));
    file = path.join(dir, 'cache.mdb');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await child.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(args: string[]): Child {
    const child = new Child(args);
    children.push(child);
    return child;
  }

  /** The states a reader child loads, as comparable strings keyed by namespace and key. */
  async function load(): Promise<Map<string, string>> {
    const reader = await run(['read', dir]);
    expect(reader.stderr).not.toContain('ERROR');
    expect(reader.exit).toEqual({ code: 0, signal: null });
    const line = reader.lines.find((l) => l.startsWith('STATES '))!;
    const states = JSON.parse(line.slice('STATES '.length)) as EntryState[];
    return new Map(states.map((s) => [id(s), summary(s)]));
  }

  const id = (s: EntryState) => JSON.stringify([s.ns, s.key]);
  const summary = (s: EntryState) => JSON.stringify([s.version, s.value ?? null, s.value === undefined, s.expiresAt, s.seen, s.origin]);
  const acked = (child: Child) => child.lines.filter((l) => l.startsWith('ACK ')).map((l) => Number(l.slice(4)));

  /** Starts a writer, lets it acknowledge `acks` saves, and kills it with SIGKILL while it is still writing. */
  async function writeAndKill(firstBatch: number, acks: number): Promise<number[]> {
    const writer = start(['write', dir, String(firstBatch), '100000', '20']);
    await writer.line(() => acked(writer).length >= acks);
    writer.kill('SIGKILL');
    expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const batches = acked(writer);
    expect(batches.length).toBeLessThan(100000); // it was killed mid-stream
    return batches;
  }

  it('keeps every acknowledged state through kill -9, and a restart takes over the stale lock', async () => {
    const first = await writeAndKill(0, 40);
    // The killed writer could not release its lock: the next process must take it over.
    expect(fs.existsSync(path.join(dir, 'cluster-cache.lock'))).toBe(true);
    const second = await writeAndKill(1_000_000, 40);
    expect(children[1].stderr).toContain(`left by process ${children[0].pid}`);

    const stored = await load();
    const expected = [...first, ...second].flatMap((batch) => batchStates(batch, 20));
    expect(expected.length).toBeGreaterThanOrEqual(80 * 20);
    const missing = expected.filter((s) => stored.get(id(s)) !== summary(s));
    expect(missing).toEqual([]);
  });

  it('refuses a second process while the first one has the directory, naming the directory and the pid', async () => {
    const holder = start(['hold', dir]);
    await holder.line((l) => l === 'READY');

    const second = await run(['read', dir]);
    expect(second.exit.code).toBe(2);
    expect(second.stderr).toContain('ERROR locked');
    expect(second.stderr).toContain(`Persistence directory ${fs.realpathSync(dir)} is in use by process ${holder.pid}`);

    holder.kill('SIGTERM');
    await holder.line((l) => l === 'CLOSED');
    expect((await holder.exited).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'cluster-cache.lock'))).toBe(false);
    expect((await run(['read', dir])).exit.code).toBe(0);
  });

  describe('a damaged data file', () => {
    beforeEach(async () => {
      const writer = await run(['write', dir, '0', '50', '20', 'close']);
      expect(writer.exit).toEqual({ code: 0, signal: null });
      expect(fs.statSync(file).size).toBeGreaterThan(16_384);
    });

    it.each([
      ['random bytes over the whole file', (data: Buffer) => randomBytes(data.length)],
      ['a truncated copy', (data: Buffer) => data.subarray(0, Math.floor(data.length / 2))],
      ['a file that is not LMDB', () => Buffer.from('{"sessions": []}\n')],
    ])('is refused with a message naming it (%s), not a crash or an empty cache', async (_, damage) => {
      fs.writeFileSync(file, damage(fs.readFileSync(file)));
      const reader = await run(['read', dir]);
      expect(reader.exit).toEqual({ code: 2, signal: null });
      expect(reader.stderr).toContain(`ERROR corrupt Persistence data file ${fs.realpathSync(file)} is corrupt`);
      expect(reader.stderr).toContain('move the file away');
      expect(reader.lines.some((l) => l.startsWith('STATES'))).toBe(false);
    });
  });

  it('rejects saves when the disk is full, naming the file, and the process keeps running', async () => {
    const filler = await run(['fill', dir], 4096);
    expect(filler.exit).toEqual({ code: 0, signal: null });
    const rejected = filler.lines.find((l) => l.startsWith('REJECTED '));
    expect(rejected).toBeDefined();
    const error = JSON.parse(rejected!.slice('REJECTED '.length)) as { name: string; code: string; message: string };
    expect(error).toMatchObject({ name: 'PersistenceError', code: 'write-failed' });
    expect(error.message).toContain(`Could not write table 'sessions' to persistence data file ${fs.realpathSync(file)}`);
    expect(error.message).toContain('Check free disk space');
    // The process went on: it read the table back, every acknowledged state included, and closed.
    const [, saved, loaded] = /^ALIVE saved=(\d+) loaded=(\d+)$/.exec(filler.lines.find((l) => l.startsWith('ALIVE'))!)!.map(Number);
    expect(saved).toBeGreaterThan(0);
    expect(loaded).toBeGreaterThanOrEqual(saved);
    expect(filler.lines).toContain('CLOSED');
  });
});
