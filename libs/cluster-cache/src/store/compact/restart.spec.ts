import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CacheEngine } from '../../engine/cache-engine';
import { LmdbPersistenceDirectory } from '../../persistence/lmdb.persistence';
import { systemClock } from '../clock';
import { Store } from '../store';
import { RestingState } from './resting-state';

const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };
const MIN = 60_000;

async function nodeOn(dir: string) {
  const store = new Store('a@h', systemClock);
  const table = store.addTable('t', 'replicated');
  const engine = new CacheEngine(store, { writes: 'sync', sweepInterval: 60_000, logger });
  const disk = await LmdbPersistenceDirectory.open(dir, logger);
  engine.persist(table, await disk.table('t'));
  return { store, table, engine, disk };
}

describe('a restart', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resting-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads values as bytes, reads them on demand, and saves them again without reading them', async () => {
    const first = await nodeOn(dir);
    const sessions = Array.from({ length: 50 }, (_, i) => ({ userId: `user-${i}`, roles: ['a', 'b'], at: new Date(1_700_000_000_000 + i), avatar: new Uint8Array([i]) }));
    await first.engine.write(first.table, sessions.map((value, i) => ({ ns: 'sessions', key: `s${i}`, value, expiresAt: Date.now() + MIN })));
    await first.engine.write(first.table, [{ ns: 'sessions', key: 's49', delete: true, keepUntil: Date.now() + MIN }]);
    await first.disk.close();

    const second = await nodeOn(dir);
    await second.engine.loadPersisted();
    const loaded = second.table.current('sessions', 's0');
    expect(loaded).toBeInstanceOf(RestingState);
    expect((loaded as RestingState).wasRead).toBe(false);
    expect(second.table.current('sessions', 's49')!.value).toBeUndefined(); // the tombstone
    // Saved again (a rewrite after a join) without being read.
    await second.engine.rewrite(second.table);
    expect((loaded as RestingState).wasRead).toBe(false);
    expect(loaded!.value).toEqual(sessions[0]);
    await second.disk.close();

    const third = await nodeOn(dir);
    await third.engine.loadPersisted();
    for (let i = 0; i < 49; i++) expect(third.table.current('sessions', `s${i}`)!.value).toEqual(sessions[i]);
    expect(third.table.size).toBe(50);
    await third.disk.close();
  });
});
