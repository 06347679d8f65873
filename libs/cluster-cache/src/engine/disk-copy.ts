import type { LoggerService } from '@nestjs/common';
import { PersistenceError } from '../persistence/persistence.error';
import type { DamagedRecord, TablePersistence } from '../persistence/table-persistence.interface';
import type { EntryState } from '../store/entry';
import { describeKey } from '../codec/key-codec';
import type { Table } from '../store/table';

/** The disk copy's state, for `ClusterService.stats()` and the health check. @publicApi */
export interface DiskStatus {
  /** The data file. */
  file: string;
  /** Whether writes reach the disk now. */
  writing: boolean;
  /** Why they do not (a full or failing disk), while they do not. */
  failure?: string;
  /**
   * Tables whose disk copy lacks writes that were applied in memory while the
   * disk failed. Each is rewritten from memory once the disk takes writes again.
   */
  behind: string[];
  /** Writes (local, from peers, or sweeps) that did not reach the disk since start. */
  failedWrites: number;
  /** Damaged records found in the data file since start (reported and skipped, never loaded). */
  damaged: number;
  /**
   * Damaged records whose entries have not been written again since: by a
   * copy from a peer (a join, a heal), a later write of the same key, or a
   * rewrite of the table.
   */
  unrepaired: number;
}

/** How often a failing disk is probed, in ms. */
const RETRY_INTERVAL = 1_000;
/** Failures of single writes are logged at most once per this many ms (the rest are counted). */
const LOG_INTERVAL = 10_000;
/** Damaged records logged one by one per load; the rest are counted in the summary. */
const DAMAGED_LINES = 20;

/**
 * Keeps the disk copy honest for the engine: notes writes that did not reach
 * the disk, reports them without flooding the log, says so in `status()`, and
 * — once the disk takes writes again (`TablePersistence.probe`) — rewrites the
 * tables that missed writes from memory, so that every write applied in memory
 * ends up on disk. Also counts and reports damaged records found at load.
 */
export class DiskCopy {
  private readonly behind = new Set<Table>();
  private failure: string | undefined;
  private failedWrites = 0;
  private damaged = 0;
  /** Per table: the keys (`ns:key` as stored) of damaged records not written again since. */
  private readonly unrepaired = new Map<string, Set<string>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private lastLogged = -Infinity;
  private suppressed = 0;
  private summaryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly persistenceOf: (table: Table) => TablePersistence | undefined,
    private readonly tables: () => Table[],
    private readonly logger: LoggerService,
    private readonly retryInterval = RETRY_INTERVAL,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Watches a save of `states` to `table`: a failure marks the table behind
   * and is logged (rate-limited) unless `quiet` (the caller hands it on); a
   * success writes damaged keys again. Returns `saved`, with its rejection
   * handled here.
   */
  watch(table: Table, saved: Promise<void>, states: readonly EntryState[], what: string, quiet = false): Promise<void> {
    saved.then(
      () => this.rewritten(table, states),
      (error: unknown) => this.failed(table, error, what, quiet),
    );
    return saved;
  }

  /** Rewrites a table's disk copy from memory; a disk that fails leaves it behind (retried), and does not throw. */
  async rewrite(table: Table): Promise<void> {
    const persistence = this.persistenceOf(table);
    if (persistence === undefined) return;
    this.behind.delete(table);
    try {
      await persistence.replaceAll(table.states());
    } catch (error) {
      this.behind.add(table);
      if (!isDiskFailure(error)) throw error;
      this.failed(table, error, 'rewriting the disk copy', false);
      return;
    }
    this.unrepaired.delete(table.name);
    if (this.behind.size === 0) this.failure = undefined;
  }

  /** A record that `load` skipped. */
  damagedRecord(table: Table, record: DamagedRecord, reported: number): void {
    this.damaged++;
    let keys = this.unrepaired.get(table.name);
    if (keys === undefined) this.unrepaired.set(table.name, (keys = new Set()));
    keys.add(record.key);
    if (reported < DAMAGED_LINES) this.logger.error(record.message);
  }

  /** After a load that skipped `count` damaged records of `table`. */
  damagedSummary(table: Table, file: string, count: number): void {
    if (count === 0) return;
    this.logger.error(
      `${count} damaged record(s) of table '${table.name}' in persistence data file ${file} were skipped, not loaded` +
        (count > DAMAGED_LINES ? ` (the first ${DAMAGED_LINES} are logged above)` : '') +
        '. A node that joins a running cluster takes the cluster\'s copy of them; a node that started the cluster alone has lost them. ' +
        'The disk copy is rewritten without them when this node copies the cluster\'s data.',
    );
  }

  status(): DiskStatus | undefined {
    const persisted = this.tables().filter((t) => this.persistenceOf(t) !== undefined);
    if (persisted.length === 0) return undefined;
    let unrepaired = 0;
    for (const keys of this.unrepaired.values()) unrepaired += keys.size;
    const failure = this.failure ?? (this.behind.size > 0 ? 'writes did not reach the disk' : undefined);
    return {
      file: this.persistenceOf(persisted[0])!.location,
      writing: failure === undefined,
      ...(failure === undefined ? {} : { failure }),
      behind: [...this.behind].map((t) => t.name),
      failedWrites: this.failedWrites,
      damaged: this.damaged,
      unrepaired,
    };
  }

  /** Takes up the retries again after `stop` (a disk copy still behind is probed again). */
  resume(): void {
    this.stopped = false;
    if (this.behind.size > 0) this.scheduleRecovery();
  }

  /** Stops the retries (the node shuts down). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (this.summaryTimer !== undefined) this.flushSummary();
  }

  private failed(table: Table, error: unknown, what: string, quiet: boolean): void {
    if (!isDiskFailure(error)) {
      // Not the disk (a state that cannot be stored, a closed directory): the write's own error.
      if (!quiet && !(error instanceof PersistenceError && error.code === 'closed')) this.logger.error(`${what} to table "${table.name}" failed: ${String(error)}`);
      return;
    }
    this.failedWrites++;
    const first = this.failure === undefined && this.behind.size === 0;
    this.behind.add(table);
    this.failure = describe(error);
    if (first) {
      this.logger.warn?.(
        `the disk copy of table "${table.name}" misses writes: ${error instanceof Error ? error.message : String(error)} ` +
          `Reads and writes go on in memory and to the peers; the disk copy is rewritten from memory once the disk takes writes again (probed every ${this.retryInterval} ms).`,
      );
    }
    if (!quiet) this.logRateLimited(`${what} to table "${table.name}" failed: ${String(error)}`);
    this.scheduleRecovery();
  }

  /** States saved: damaged records of those keys are gone from the disk. */
  private rewritten(table: Table, states: readonly EntryState[]): void {
    const keys = this.unrepaired.get(table.name);
    if (keys === undefined || keys.size === 0) return;
    for (const state of states) keys.delete(describeKey(state.ns, state.key));
  }

  private scheduleRecovery(): void {
    if (this.retryTimer !== undefined || this.stopped) return;
    this.retryTimer = setInterval(() => void this.recover(), this.retryInterval);
    this.retryTimer.unref();
  }

  /** Probes the disk; once it takes writes, rewrites every table that missed writes from memory. */
  recover(): Promise<void> {
    this.recovering ??= this.tryRecover().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async tryRecover(): Promise<void> {
    const tables = [...this.behind];
    if (tables.length === 0) return this.recovered([]);
    const probe = tables.map((t) => this.persistenceOf(t)).find((p) => p?.probe !== undefined);
    try {
      await probe?.probe?.();
    } catch (error) {
      this.failure = describe(error); // still failing: try again on the next tick
      return;
    }
    let entries = 0;
    for (const table of tables) {
      if (this.stopped) return;
      entries += table.size;
      await this.rewrite(table).catch((error: unknown) => {
        if (!this.stopped) this.logger.error(`rewriting the disk copy of table "${table.name}" failed: ${String(error)}`);
      });
      if (this.behind.has(table)) return; // the disk failed again: next tick
    }
    if (this.behind.size === 0) this.recovered(tables, entries);
  }

  private recovered(tables: Table[], entries = 0): void {
    this.failure = undefined;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (tables.length > 0) {
      this.logger.log(
        `the disk takes writes again: rewrote the disk copy of ${tables.map((t) => `table "${t.name}"`).join(', ')} from memory (${entries} entries); ` +
          `${this.failedWrites} write(s) had not reached the disk since start`,
      );
    }
  }

  private logRateLimited(line: string): void {
    const now = this.now();
    if (now - this.lastLogged >= LOG_INTERVAL) {
      this.lastLogged = now;
      this.logger.error(line);
      return;
    }
    this.suppressed++;
    if (this.summaryTimer === undefined) {
      this.summaryTimer = setTimeout(() => this.flushSummary(), Math.max(0, this.lastLogged + LOG_INTERVAL - now));
      this.summaryTimer.unref();
    }
  }

  private flushSummary(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    if (this.suppressed === 0) return;
    this.logger.error(`${this.suppressed} more write(s) to the disk copy failed in the last ${LOG_INTERVAL / 1000} s (${this.failure ?? 'see above'})`);
    this.suppressed = 0;
    this.lastLogged = this.now();
  }
}

/** Whether an error says the disk did not take a write (full, failing), as opposed to a write that cannot be stored. */
function isDiskFailure(error: unknown): boolean {
  if (error instanceof PersistenceError) return error.code === 'write-failed';
  return true; // another persistence's failure: treat it as the disk's
}

/** The short reason of a failure (a `PersistenceError` wraps it in advice). */
function describe(error: unknown): string {
  if (error instanceof PersistenceError && error.detail !== undefined) return error.detail;
  return error instanceof Error ? error.message : String(error);
}
