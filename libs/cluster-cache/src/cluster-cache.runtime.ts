import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CacheEngine } from './engine/cache-engine';
import { RESOLVED_OPTIONS, DEFAULT_TABLE } from './cluster-cache.constants';
import type { ResolvedOptions } from './options/resolve-options';
import { LmdbPersistenceDirectory } from './persistence/lmdb.persistence';
import type { PersistenceDirectory } from './persistence/table-persistence.interface';
import { Store } from './store/store';
import type { Table, TableMode } from './store/table';

/**
 * Owns this node's cache for the lifetime of the Nest app: makes the store and
 * engine, loads the disk copy on init and closes everything on shutdown.
 */
@Injectable()
export class ClusterCacheRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly store: Store;
  readonly engine: CacheEngine;
  private readonly logger = new Logger('ClusterCache');
  private persistence: PersistenceDirectory | undefined;

  constructor(@Inject(RESOLVED_OPTIONS) readonly options: ResolvedOptions) {
    this.store = new Store(options.node.name, options.clock);
    this.engine = new CacheEngine(this.store, {
      writes: options.writes,
      sweepInterval: options.timing.sweepInterval,
      logger: this.logger,
    });
    this.store.addTable(DEFAULT_TABLE, 'replicated');
  }

  /** The table named `name`, made on first use (by `forFeature`). */
  table(name: string, mode: TableMode = 'replicated'): Table {
    return this.store.table(name) ?? this.store.addTable(name, mode);
  }

  async onModuleInit(): Promise<void> {
    const persistence = this.options.persistence;
    if (persistence !== undefined) {
      const directory = await LmdbPersistenceDirectory.open(persistence.dir, this.logger, { fsync: persistence.fsync });
      this.persistence = directory;
      for (const table of this.store.allTables()) {
        if (table.mode !== 'replicated' || (persistence.tables !== undefined && !persistence.tables.includes(table.name))) continue;
        this.engine.persist(table, await directory.table(table.name));
      }
      const loaded = await this.engine.loadPersisted();
      this.logger.log(`${this.options.node.name} loaded ${loaded} entries from ${persistence.dir}`);
    }
    this.engine.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.engine.stop();
    await this.persistence?.close();
    this.persistence = undefined;
  }
}
