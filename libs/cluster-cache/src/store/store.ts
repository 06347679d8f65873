import type { Clock } from './clock';
import { EntryState, isTombstone } from './entry';
import { HybridLogicalClock } from './hlc';
import { Table, TableMode } from './table';
import { isDelete, WriteOp } from './write-op';
import { settleValue } from '../values/settle';

/**
 * Every table of this node, the node's hybrid logical clock, and the two ways
 * states change: local writes (which get a new version) and states merged from
 * other nodes (which keep theirs).
 */
export class Store {
  readonly hlc: HybridLogicalClock;
  private readonly tables = new Map<string, Table>();

  constructor(
    /** This node's name: the origin of local writes. */
    readonly node: string,
    readonly clock: Clock,
  ) {
    this.hlc = new HybridLogicalClock(clock);
  }

  addTable(name: string, mode: TableMode): Table {
    const table = new Table(name, mode, this.clock);
    this.tables.set(name, table);
    return table;
  }

  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  allTables(): Table[] {
    return [...this.tables.values()];
  }

  /**
   * Applies one atomic local write: every op gets the same new version and is
   * installed before this returns (nothing else runs in between).
   * @returns the states made, to persist and replicate.
   */
  write(table: Table, ops: readonly WriteOp[]): EntryState[] {
    const now = this.clock.now();
    const version = this.hlc.next();
    if (ops.length === 1) {
      // One op (every put and delete): the state it replaces is the one just looked up.
      const current = table.current(ops[0].ns, ops[0].key);
      const state = this.localState(ops[0], current, version);
      if (state.expiresAt > now) table.install(state, current);
      return [state];
    }
    const states = ops.map((op) => this.localState(op, table.current(op.ns, op.key), version));
    // Two ops of one write may share a key: each replaces what the key holds by then.
    for (const state of states) if (state.expiresAt > now) table.install(state, table.current(state.ns, state.key));
    return states;
  }

  /** The state a local op makes over the key's `current` one. */
  private localState(op: WriteOp, current: EntryState | undefined, version: number): EntryState {
    // An overwrite keeps the stored key object: the caller's is an equal copy, and the Map holds the first one.
    const key = current === undefined ? op.key : current.key;
    if (isDelete(op)) {
      const liveUntil = current !== undefined && !isTombstone(current) ? current.expiresAt : 0;
      return {
        ns: op.ns,
        key,
        value: undefined,
        expiresAt: Math.max(liveUntil, op.keepUntil, current !== undefined && isTombstone(current) ? current.expiresAt : 0),
        version,
        seen: version,
        origin: this.node,
      };
    }
    // A write follows the newest delete this node has seen for the key.
    const seen = current === undefined ? 0 : isTombstone(current) ? current.version : current.seen;
    return { ns: op.ns, key, value: op.value, expiresAt: op.expiresAt, version, seen, origin: this.node };
  }

  /**
   * Offers states from another node (replication, a join copy, a heal) and
   * advances the clock past their versions. A state whose value came as its
   * bytes is installed as a resting state (see `Table.offer`). The values of those that win are
   * settled: deeply frozen, binaries as Uint8Array, mutable leaves as copying
   * getters (values handed out must not change; see values/settle.ts); losers
   * cost nothing more. A value that is itself a binary was settled by the
   * decoder already (values/wire-value.ts).
   * @returns the states that won and were installed.
   */
  merge(table: Table, states: readonly EntryState[]): EntryState[] {
    const now = this.clock.now();
    const installed: EntryState[] = [];
    for (const state of states) {
      this.hlc.observe(state.version);
      const won = table.offer(state, now);
      if (won === undefined) continue;
      // A resting state's value is settled when it is first read.
      if (won === state) settleValue(state.value);
      installed.push(won);
    }
    return installed;
  }
}
