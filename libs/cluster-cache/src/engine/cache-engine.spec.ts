import { ManualClock } from '../store/clock';
import type { EntryState } from '../store/entry';
import { Store } from '../store/store';
import { PersistenceError } from '../persistence/persistence.error';
import type { DamagedRecord, TablePersistence } from '../persistence/table-persistence.interface';
import { CacheEngine, WriteMode } from './cache-engine';
import type { ReplicationMessage, WriteMessage } from '../replication/messages';
import { WriteFanout } from '../replication/write-fanout';
import { heldEncoding } from '../values/held-encodings';
import { decodeValue } from '../values/value-codec';

const MIN = 60_000;

function engineWith(writes: WriteMode) {
  const clock = new ManualClock();
  const store = new Store('a@h', clock);
  const table = store.addTable('t', 'replicated');
  const errors: string[] = [];
  const logs: string[] = [];
  const logger = {
    log: (message: unknown) => void logs.push(String(message)),
    warn: (message: unknown) => void logs.push(String(message)),
    debug() {},
    verbose() {},
    error: (message: unknown) => void errors.push(String(message)),
  };
  const engine = new CacheEngine(store, { writes, sweepInterval: 1000, logger, diskRetryInterval: 10 });
  const put = (key: string) => engine.write(table, [{ ns: 'n', key, value: key, expiresAt: clock.now() + MIN }]);
  return { engine, table, errors, logs, put };
}

/**
 * A disk copy in memory whose disk can be full: saves, rewrites and probes
 * then reject with a `PersistenceError` ('write-failed'), as the LMDB one does.
 */
class FakeDisk implements TablePersistence {
  readonly location = '/data/cache.mdb';
  full = false;
  readonly saved = new Map<string, EntryState>();
  replaced = 0;
  damaged: DamagedRecord[] = [];
  private held = false;

  private refuse(): Promise<never> {
    this.held = true;
    return Promise.reject(new PersistenceError('write-failed', this.location, 'Could not write … : the disk is full', { detail: 'the disk is full' }));
  }
  save(states: readonly EntryState[]): Promise<void> {
    if (this.full || this.held) return this.refuse();
    for (const s of states) this.saved.set(`${s.ns}:${String(s.key)}`, s);
    return Promise.resolve();
  }
  forget(): Promise<void> {
    return this.full || this.held ? this.refuse() : Promise.resolve();
  }
  replaceAll(states: Iterable<EntryState>): Promise<void> {
    if (this.full || this.held) return this.refuse();
    this.saved.clear();
    this.replaced++;
    return this.save([...states]);
  }
  load(onDamaged?: (record: DamagedRecord) => void): Promise<EntryState[]> {
    for (const record of this.damaged) onDamaged?.(record);
    return Promise.resolve([...this.saved.values()]);
  }
  probe(): Promise<void> {
    if (this.full) return this.refuse();
    this.held = false;
    return Promise.resolve();
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

/** A disk copy whose saves fail. */
const failingDisk = { save: () => Promise.reject(new Error('disk full')) } as unknown as TablePersistence;

describe('CacheEngine.write', () => {
  it('in async mode resolves at once, logs a failed save with its table, and the next ones at most once per 10 s', async () => {
    const { engine, table, errors, put } = engineWith('async');
    engine.persist(table, failingDisk);
    await expect(put('a')).resolves.toBeUndefined();
    await expect(put('b')).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual(['async write to table "t" failed: Error: disk full']);
    expect(table.current('n', 'b')?.value).toBe('b'); // applied in memory all the same
    engine.stop(); // flushes the count of the writes not logged
    expect(errors).toEqual(['async write to table "t" failed: Error: disk full', '1 more write(s) to the disk copy failed in the last 10 s (disk full)']);
  });

  it('in async mode logs a failure shared by the writes of one replication batch once', async () => {
    const { engine, errors, put } = engineWith('async');
    const batch = Promise.reject(new Error('peer gone'));
    batch.catch(() => undefined);
    engine.replicateWith({ replicate: () => batch, sending: true });
    await Promise.all([put('a'), put('b'), put('c')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual(['async write to table "t" failed: Error: peer gone']);
  });

  it('in sync mode hands the failure to the caller', async () => {
    const { engine, table, errors, put } = engineWith('sync');
    engine.persist(table, failingDisk);
    await expect(put('a')).rejects.toThrow('disk full');
    expect(errors).toEqual([]);
    engine.stop();
  });
});

describe('CacheEngine: a write saved and sent to peers', () => {
  /** A disk copy that notes, as it saves, the encoding each value holds (the one its record is built around). */
  function diskNotingEncodings() {
    const atSave: Array<Uint8Array | undefined> = [];
    const disk = { save: (states: readonly EntryState[]) => (states.forEach((state) => atSave.push(heldEncoding(state.value))), Promise.resolve()) } as unknown as TablePersistence;
    return { disk, atSave };
  }

  it('encodes each object value once: the disk record and the message to the peers share the bytes', async () => {
    const { engine, table } = engineWith('async');
    const { disk, atSave } = diskNotingEncodings();
    engine.persist(table, disk);
    const fanout = new WriteFanout(new ManualClock(), 1000);
    const sent: ReplicationMessage[] = [];
    fanout.add({ name: 'b@h', send: (message) => void sent.push(message), disconnect: () => undefined });
    engine.replicateWith(fanout);
    const value = Object.freeze({ userId: 'ada', roles: Object.freeze(['admin']) });
    await engine.write(table, [{ ns: 'n', key: 's', value, expiresAt: Date.now() + MIN }, { ns: 'n', key: 'p', value: 'plain', expiresAt: Date.now() + MIN }]);
    await new Promise((resolve) => setImmediate(resolve));
    const flat = (sent[0] as WriteMessage).batches[0][1];
    expect(atSave[0]).toBeInstanceOf(Uint8Array);
    expect(flat[2]).toBe(atSave[0]); // the very bytes the disk record was built around
    expect(decodeValue(flat[2] as Uint8Array)).toEqual(value);
    expect(atSave[1]).toBeUndefined(); // a string is encoded in place, on both paths
    expect(heldEncoding(value)).toBeUndefined(); // released once both took it
    fanout.stop();
  });

  it('holds no encoding when no peer would get the write', async () => {
    const { engine, table } = engineWith('async');
    const { disk, atSave } = diskNotingEncodings();
    engine.persist(table, disk);
    const fanout = new WriteFanout(new ManualClock(), 1000);
    engine.replicateWith(fanout);
    await engine.write(table, [{ ns: 'n', key: 's', value: Object.freeze({ a: 1 }), expiresAt: Date.now() + MIN }]);
    expect(atSave).toEqual([undefined]);
    fanout.stop();
  });
});

describe('CacheEngine and a full disk', () => {
  it('keeps every write applied in memory, says so in diskStatus, and rewrites the disk copy from memory once the disk takes writes', async () => {
    const { engine, table, errors, logs, put } = engineWith('sync');
    const disk = new FakeDisk();
    engine.persist(table, disk);
    await put('before');
    disk.full = true;
    const failure = await put('during-1').then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(PersistenceError);
    await expect(put('during-2')).rejects.toThrow(PersistenceError);
    expect(table.current('n', 'during-2')?.value).toBe('during-2'); // reads are served from memory
    expect(engine.diskStatus()).toEqual({
      file: '/data/cache.mdb',
      writing: false,
      failure: 'the disk is full',
      behind: ['t'],
      failedWrites: 2,
      damaged: 0,
      unrepaired: 0,
    });
    expect(errors).toEqual([]); // a sync write's failure goes to its caller
    expect(logs.some((l) => l.startsWith('the disk copy of table "t" misses writes'))).toBe(true);

    disk.full = false;
    await until(() => engine.diskStatus()!.writing);
    expect(disk.replaced).toBe(1);
    expect([...disk.saved.keys()].sort()).toEqual(['n:before', 'n:during-1', 'n:during-2']);
    expect(engine.diskStatus()).toMatchObject({ writing: true, behind: [], failedWrites: 2 });
    expect(logs.some((l) => l.includes('the disk takes writes again: rewrote the disk copy of table "t" from memory (3 entries)'))).toBe(true);
    await put('after');
    expect(disk.saved.has('n:after')).toBe(true);
    engine.stop();
  });

  it('keeps a rewrite after a join copy for later when the disk is full, instead of failing it', async () => {
    const { engine, table, put } = engineWith('async');
    const disk = new FakeDisk();
    engine.persist(table, disk);
    await put('a');
    disk.full = true;
    await expect(engine.rewrite(table)).resolves.toBeUndefined();
    expect(engine.diskStatus()).toMatchObject({ writing: false, behind: ['t'] });
    disk.full = false;
    await until(() => engine.diskStatus()!.writing);
    expect([...disk.saved.keys()]).toEqual(['n:a']);
    engine.stop();
  });

  it('reports damaged records at load with the file and key, counts them, and counts them repaired once their key is written again', async () => {
    const { engine, table, errors } = engineWith('sync');
    const disk = new FakeDisk();
    const record = (key: string): DamagedRecord => ({
      file: disk.location,
      table: 't',
      key,
      reason: 'its checksum does not match',
      message: `Persistence data file ${disk.location} has a damaged record: the entry ${key} of table 't' …`,
    });
    disk.damaged = [record('n:"x"'), record('n:"y"')];
    engine.persist(table, disk);
    await engine.loadPersisted();
    expect(errors[0]).toContain('the entry n:"x" of table \'t\'');
    expect(errors[1]).toContain('the entry n:"y"');
    expect(errors[2]).toMatch(/^2 damaged record\(s\) of table 't' in persistence data file \/data\/cache.mdb were skipped, not loaded/);
    expect(engine.diskStatus()).toMatchObject({ writing: true, damaged: 2, unrepaired: 2 });
    // A peer's copy of one of them arrives.
    engine.merge(table, [{ ns: 'n', key: 'x', value: 'good', expiresAt: Date.now() + MIN, version: 5, seen: 0, origin: 'b@h' }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(engine.diskStatus()).toMatchObject({ damaged: 2, unrepaired: 1 });
    await engine.rewrite(table);
    expect(engine.diskStatus()).toMatchObject({ damaged: 2, unrepaired: 0 });
  });
});

describe('CacheEngine: the periodic sweep', () => {
  /** An engine sweeping every 10 ms, holding `n` entries that expired in the same second. */
  function massExpiry(n: number) {
    const clock = new ManualClock();
    const store = new Store('a@h', clock);
    const table = store.addTable('t', 'replicated');
    const engine = new CacheEngine(store, { writes: 'async', sweepInterval: 10, logger: { log() {}, warn() {}, error() {} } });
    store.merge(
      table,
      Array.from({ length: n }, (_, i) => ({ ns: 'n', key: `k${i}`, value: i, expiresAt: clock.now() + MIN, version: 1, seen: 0, origin: 'b@h' })),
    );
    clock.advance(2 * MIN);
    return { engine, table };
  }

  /** Table sizes seen between event-loop turns until `done` (setImmediate, as the sweep's slices). */
  async function sizesUntil(table: { size: number }, done: () => boolean): Promise<number[]> {
    const sizes: number[] = [];
    while (!done()) {
      sizes.push(table.size);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return sizes;
  }

  it('removes a mass expiry a slice per event-loop turn, so other work runs between', async () => {
    const N = 200_000;
    const { engine, table } = massExpiry(N);
    engine.start();
    const sizes = await sizesUntil(table, () => table.size === 0);
    engine.stop();
    // Seen half done: the sweep yielded between slices instead of removing the 200,000 in one go.
    expect(sizes.some((size) => size > 0 && size < N)).toBe(true);
    expect(table.sweepDone).toBe(true);
    expect(engine.sweep()).toBe(0);
  });

  it('stops between slices when the engine stops, and a later sweep removes the rest', async () => {
    const N = 200_000;
    const { engine, table } = massExpiry(N);
    engine.start();
    await sizesUntil(table, () => table.size < N);
    engine.stop();
    const left = table.size;
    expect(left).toBeGreaterThan(0);
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(table.size).toBe(left);
    expect(engine.sweep()).toBe(left);
    expect(table.size).toBe(0);
  });
});
