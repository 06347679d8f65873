import { ManualClock } from '../store/clock';
import { Store } from '../store/store';
import type { TablePersistence } from '../persistence/table-persistence.interface';
import { CacheEngine, WriteMode } from './cache-engine';

const MIN = 60_000;

function engineWith(writes: WriteMode) {
  const clock = new ManualClock();
  const store = new Store('a@h', clock);
  const table = store.addTable('t', 'replicated');
  const errors: string[] = [];
  const logger = { log() {}, warn() {}, debug() {}, verbose() {}, error: (message: unknown) => void errors.push(String(message)) };
  const engine = new CacheEngine(store, { writes, sweepInterval: 1000, logger });
  const put = (key: string) => engine.write(table, [{ ns: 'n', key, value: key, expiresAt: clock.now() + MIN }]);
  return { engine, table, errors, put };
}

/** A disk copy whose saves fail. */
const failingDisk = { save: () => Promise.reject(new Error('disk full')) } as unknown as TablePersistence;

describe('CacheEngine.write', () => {
  it('in async mode resolves at once and logs each failed save with its table', async () => {
    const { engine, table, errors, put } = engineWith('async');
    engine.persist(table, failingDisk);
    await expect(put('a')).resolves.toBeUndefined();
    await expect(put('b')).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual(['async write to table "t" failed: Error: disk full', 'async write to table "t" failed: Error: disk full']);
    expect(table.current('n', 'b')?.value).toBe('b'); // applied in memory all the same
  });

  it('in async mode logs a failure shared by the writes of one replication batch once', async () => {
    const { engine, errors, put } = engineWith('async');
    const batch = Promise.reject(new Error('peer gone'));
    batch.catch(() => undefined);
    engine.replicateWith({ replicate: () => batch });
    await Promise.all([put('a'), put('b'), put('c')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual(['async write to table "t" failed: Error: peer gone']);
  });

  it('in sync mode hands the failure to the caller', async () => {
    const { engine, table, errors, put } = engineWith('sync');
    engine.persist(table, failingDisk);
    await expect(put('a')).rejects.toThrow('disk full');
    expect(errors).toEqual([]);
  });
});
