import { Logger } from '@nestjs/common';
import { ClusterCache } from '../cluster-cache';
import { CacheEngine, WriteMode } from '../../engine/cache-engine';
import { ManualClock } from '../../store/clock';
import { Store } from '../../store/store';
import type { TableMode } from '../../store/table';

/** A Nest-free cache on one node with a manual clock, for this library's own unit specs. */
export function localCache<V = unknown>(options: { ttl?: number; node?: string; writes?: WriteMode; mode?: TableMode; clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const store = new Store(options.node ?? 'a@127.0.0.1', clock);
  const table = store.addTable('sessions', options.mode ?? 'replicated');
  const engine = new CacheEngine(store, { writes: options.writes ?? 'sync', sweepInterval: 1000, logger: new Logger('test') });
  const cache = new ClusterCache<V>(engine, table, 'cache', options.ttl);
  return { clock, store, table, engine, cache };
}
