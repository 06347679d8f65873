import type { LoggerService } from '@nestjs/common';
import type { TablePersistence } from '../persistence/table-persistence.interface';
import type { EntryState } from '../store/entry';
import type { Store } from '../store/store';
import type { Table } from '../store/table';
import type { WriteOp } from '../store/write-op';
import { atOnce, inSlices, type Sliced, TimedSlice } from '../util/slices';
import { holdEncodings, releaseEncoding } from '../values/held-encodings';
import { DiskCopy, type DiskStatus } from './disk-copy';
import type { WriteReplicator } from './write-replicator.interface';

/** What a write that has nothing to wait for returns. */
const DONE = Promise.resolve();

/** The periodic sweep removes expired entries for this long per event-loop turn (ms): a million that expire in the same second take over a second to remove, longer than `deadPeerTimeout`. */
export const SWEEP_SLICE_MS = 5;

/** When a write's promise resolves. @publicApi */
export type WriteMode = 'sync' | 'async';

/** How the engine is set up. */
export interface CacheEngineOptions {
  writes: WriteMode;
  /** How often expired entries and old tombstones are removed, in ms. */
  sweepInterval: number;
  logger: LoggerService;
  /** How often a disk that failed is probed, in ms (default 1 s). */
  diskRetryInterval?: number;
}

/**
 * One node's cache: the store plus what happens around a write — the disk copy
 * and the replication to other nodes — and the periodic sweep of expired data.
 * Reads go to the store directly and never pass through here.
 */
export class CacheEngine {
  private readonly persistence = new Map<string, TablePersistence>();
  private replicator: WriteReplicator | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  /** The last promise an async write logs the failure of. */
  private watched: Promise<void> | undefined;
  /** Who wants to see every state applied (a heal collecting what changed while it ran). */
  private readonly taps = new Set<(table: Table, states: readonly EntryState[]) => void>();
  /** Writes that missed the disk, their recovery, and damaged records. */
  private readonly disk: DiskCopy;
  /** The compaction of a table's slab of resting states in progress (one at a time). */
  private compacting: Promise<void> | undefined;
  /** The periodic sweep in progress, when it takes more than one slice. */
  private sweeping: Promise<void> | undefined;

  constructor(
    readonly store: Store,
    private readonly options: CacheEngineOptions,
  ) {
    this.disk = new DiskCopy(
      (table) => this.persistence.get(table.name),
      () => this.store.allTables(),
      options.logger,
      options.diskRetryInterval,
    );
  }

  /** Keeps a disk copy of `table` from now on. */
  persist(table: Table, persistence: TablePersistence): void {
    this.persistence.set(table.name, persistence);
  }

  persistenceOf(table: Table): TablePersistence | undefined {
    return this.persistence.get(table.name);
  }

  /** Sends local writes of replicated tables through `replicator` from now on. */
  replicateWith(replicator: WriteReplicator | undefined): void {
    this.replicator = replicator;
  }

  /**
   * Applies one atomic write locally, then saves and replicates it. With
   * `writes: 'sync'` the promise resolves once the write is on disk (if the
   * table is persisted) and applied on every connected peer; with `'async'`,
   * at once.
   *
   * A write the disk does not take (full, failing: a `PersistenceError`) is
   * applied in memory and replicated all the same; a sync write rejects with
   * that error, an async one is logged (at most once per 10 s, the rest
   * counted). The disk copy is rewritten from memory once the disk takes
   * writes again (see `diskStatus`).
   */
  write(table: Table, ops: readonly WriteOp[]): Promise<void> {
    const states = this.store.write(table, ops);
    if (this.taps.size > 0) for (const tap of this.taps) tap(table, states);
    const sync = this.options.writes === 'sync';
    const persistence = this.persistence.get(table.name);
    const replicator = this.replicator !== undefined && table.mode === 'replicated' ? this.replicator : undefined;
    // Saved and sent to peers: each value is encoded once, for the disk record and the message alike.
    const held = persistence !== undefined && replicator?.sending === true ? holdEncodings(states) : undefined;
    const saved = persistence === undefined ? undefined : this.disk.watch(table, persistence.save(states), states, 'async write', sync);
    const replicated = replicator?.replicate(table, states);
    if (held !== undefined) for (const value of held) releaseEncoding(value);
    if (sync) {
      const all = saved === undefined ? replicated : replicated === undefined ? saved : Promise.all([saved, replicated]).then(() => undefined);
      return all ?? DONE;
    }
    // Writes of one turn share the replication batch's promise: one handler for all of them.
    if (replicated !== undefined && replicated !== this.watched) {
      this.watched = replicated;
      replicated.catch((error: unknown) => this.options.logger.error(`async write to table "${table.name}" failed: ${String(error)}`));
    }
    return DONE;
  }

  /**
   * Applies states that came from elsewhere (a peer, a join copy) and saves
   * those that won, unless `persist` is false.
   */
  merge(table: Table, states: readonly EntryState[], { persist = true } = {}): EntryState[] {
    const installed = this.store.merge(table, states);
    for (const tap of this.taps) tap(table, installed);
    const persistence = this.persistence.get(table.name);
    if (persist && persistence !== undefined && installed.length > 0) {
      void this.disk.watch(table, persistence.save(installed), installed, 'saving states from peers');
    }
    return installed;
  }

  /** Calls `tap` with every state applied from now on (local writes and merges); returns the way to stop. */
  tap(tap: (table: Table, states: readonly EntryState[]) => void): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  /**
   * Replaces a table's content with `states` in one step (a heal's reload), then
   * re-applies `since`: what changed while the new content was being fetched.
   */
  async replace(table: Table, states: readonly EntryState[], since: readonly EntryState[]): Promise<void> {
    table.clear();
    this.store.merge(table, states);
    this.store.merge(table, since);
    await this.rewrite(table);
  }

  /**
   * Replaces a table's disk copy with what memory holds (after a join copy).
   * A disk that does not take it leaves the table behind, rewritten once the
   * disk takes writes again: this rejects only for other errors.
   */
  rewrite(table: Table): Promise<void> {
    return this.disk.rewrite(table);
  }

  /** The disk copy's state (undefined when no table is persisted). */
  diskStatus(): DiskStatus | undefined {
    return this.disk.status();
  }

  /**
   * Loads persisted tables (all, or those given) from disk into memory; returns
   * how many states were installed, and hands them to `onInstalled` (a slice
   * at a time) if given. Damaged records are logged with the file and
   * their key, counted in `diskStatus()`, and skipped: never loaded.
   */
  async loadPersisted(tables: readonly Table[] = this.store.allTables(), onInstalled?: (table: Table, states: readonly EntryState[]) => void): Promise<number> {
    let loaded = 0;
    for (const table of tables) {
      const persistence = this.persistence.get(table.name);
      if (persistence === undefined) continue;
      let damaged = 0;
      // Values stay bytes until read (see store/compact/), merged a slice at a time as they are read;
      // the states installed are not kept unless asked for (a million objects for the GC to trace).
      const onStates = (states: EntryState[]) => {
        const installed = this.store.merge(table, states);
        loaded += installed.length;
        onInstalled?.(table, installed);
      };
      const rest = await persistence.load((record) => this.disk.damagedRecord(table, record, damaged++), { valuesAsBytes: true, onStates });
      // A persistence that does not take onStates hands everything over at the end.
      onStates(rest);
      this.disk.damagedSummary(table, persistence.location, damaged);
    }
    return loaded;
  }

  /**
   * Removes expired entries and old tombstones from memory and disk, and keeps
   * the fast path of reads open until a little after the next sweep is due
   * (twice the interval, plus a second for timers that run late), all at once
   * (the periodic sweep runs in slices instead).
   * @returns how many states it removed.
   */
  sweep(now = this.store.clock.now()): number {
    return atOnce(this.sweepSteps(() => now));
  }

  /** The periodic sweep: in slices of SWEEP_SLICE_MS, one per event-loop turn, so heartbeats go on however much expired at once. */
  private sweepInSlices(): void {
    if (this.sweeping !== undefined) return;
    const work = this.sweepSteps(() => this.store.clock.now(), new TimedSlice(SWEEP_SLICE_MS));
    this.sweeping = inSlices(work)
      .then(() => undefined)
      .catch((error: unknown) => this.options.logger.error(`sweeping expired entries failed: ${String(error)}`))
      .finally(() => (this.sweeping = undefined));
  }

  /** The sweep of every table, a slice at a time with `slice` (stopping early if the engine stops); then a compaction if one is due. */
  private *sweepSteps(clock: () => number, slice?: TimedSlice): Sliced<number> {
    let removed = 0;
    for (const table of this.store.allTables()) {
      for (;;) {
        const now = clock();
        const gone = table.sweep(now, now + 2 * this.options.sweepInterval + 1000, slice);
        removed += gone.length;
        const persistence = this.persistence.get(table.name);
        if (persistence !== undefined && gone.length > 0) {
          void this.disk.watch(table, persistence.forget(gone), [], 'removing expired entries');
        }
        if (table.sweepDone) break;
        yield;
        if (this.sweeper === undefined) return removed;
        slice?.next();
      }
    }
    this.compactSlab();
    return removed;
  }

  /**
   * Starts compacting the slab of resting states of a table whose slab holds
   * more garbage than records that count: a slice of states per event-loop
   * turn (no pause of more than a few ms), one table at a time.
   */
  private compactSlab(): void {
    if (this.compacting !== undefined) return;
    const table = this.store.allTables().find((t) => t.wantsCompaction);
    if (table === undefined) return;
    this.compacting = inSlices(table.compaction())
      .catch((error: unknown) => this.options.logger.error(`compacting the resting entries of table "${table.name}" failed: ${String(error)}`))
      .finally(() => (this.compacting = undefined));
  }

  /** Starts the periodic sweep (and the probes of a failing disk, after a `stop`). */
  start(): void {
    this.sweeper ??= setInterval(() => this.sweepInSlices(), this.options.sweepInterval);
    this.sweeper.unref();
    this.disk.resume();
  }

  /** Stops the periodic sweep and the probes of a failing disk. */
  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.disk.stop();
  }
}
