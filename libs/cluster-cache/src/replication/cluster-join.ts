import type { LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ClusterEvent } from '../cluster/cluster-event';
import type { CacheEngine } from '../engine/cache-engine';
import { compareStates, EntryState, sameState } from '../store/entry';
import { encodeStoredKey } from '../codec/key-codec';
import { versionAt } from '../store/hlc';
import type { Table } from '../store/table';
import type { NodeInfo } from '../transport/node-info';
import type { Membership } from './membership';
import type { ChunkHandler } from './peer-calls';
import type { PeerSession } from './peer-session';

/** Clock skew between nodes that a catch-up allows for, in ms (keep clocks in sync with NTP). */
const CATCH_UP_MARGIN = 10_000;

/** Where a node is in its life: from `joining` (start) to `ready` (it holds the cluster's data), until `stopped`. */
export type Phase = 'idle' | 'joining' | 'ready' | 'stopped';

/** What the join needs of its node. */
export interface JoinHost {
  readonly self: NodeInfo;
  replicatedTables(): Table[];
  pull(peer: string, tables: readonly string[], onChunk: ChunkHandler, keys?: Float64Array, since?: number): Promise<void>;
  spread(table: Table, states: readonly EntryState[], except?: string): void;
  report(event: ClusterEvent): void;
}

/** How the join behaves (see `ClusterNodeOptions`). */
export interface JoinOptions {
  joinTimeout: number;
  keepLocalOnJoin: boolean;
  minPeers?: number;
}

/**
 * How a node comes to hold the cluster's data: it copies it from a ready
 * peer, or — when no one answered, or every linked peer is starting too and
 * this node is the oldest — starts the cluster from its disk copy. Holds the
 * node's phase and the cluster's identity.
 */
export class ClusterJoin {
  phase: Phase = 'idle';
  /** The cluster this node belongs to (made by the node that started it). */
  clusterId = '';
  /** `name#incarnation` of the node this one copied its data from. */
  joinedFrom: string | undefined;
  /** The peer being copied from. */
  private copySource: PeerSession | undefined;
  /** Set while this node starts the cluster from its disk copy (no join may begin meanwhile). */
  private initiating = false;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly host: JoinHost,
    private readonly engine: CacheEngine,
    private readonly membership: Membership,
    private readonly options: JoinOptions,
    private readonly logger: LoggerService,
  ) {}

  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** Linked peers this node needs before it becomes ready (`minPeers`). */
  get minPeers(): number {
    return this.options.minPeers ?? 0;
  }

  /** Whether a copy from a peer is under way. */
  get copying(): boolean {
    return this.copySource !== undefined;
  }

  /** Whether a copy, or the start of the cluster, is under way. */
  get underway(): boolean {
    return this.copySource !== undefined || this.initiating;
  }

  /**
   * While joining: copy from a ready peer if there is one. If every peer is
   * joining too (a cluster starting all at once), the oldest node starts the
   * cluster and the others copy from it.
   */
  decide(): void {
    if (this.phase !== 'joining' || this.underway) return;
    const self = this.host.self;
    const linked = this.membership.greeted();
    // With minPeers, too few peers: neither join nor start a cluster yet (more may link).
    if (linked.length < this.minPeers) return;
    const source = linked.find((s) => s.ready);
    if (source !== undefined) {
      this.copySource = source;
      this.clusterId = source.hello!.clusterId;
      this.join(source).catch((error: unknown) => {
        this.logger.warn?.(`copying from ${source.name} failed (${String(error)}); looking for another node`);
        this.copySource = undefined;
        this.decide();
      });
      return;
    }
    const oldest = linked.every((s) => s.info.startedAt > self.startedAt || (s.info.startedAt === self.startedAt && s.name > self.name));
    if (linked.length > 0 && oldest) {
      this.initiate({ with: linked.map((s) => s.name) }).catch((error: unknown) => this.logger.error(`${self.name} could not start the cluster: ${String(error)}`));
    }
  }

  /**
   * This node starts the cluster, from its disk copy if it has one: no one
   * answered, or only nodes that refused it (`refusedBy`: it then runs alone,
   * and says so as a warning), or the linked peers (`with`) are all starting
   * and this node is the oldest.
   */
  async initiate(how: { refusedBy?: ReadonlyMap<string, string>; with?: string[] } = {}): Promise<void> {
    if (this.phase !== 'joining' || this.underway) return;
    this.initiating = true;
    const name = this.host.self.name;
    const loaded = await this.engine.loadPersisted();
    this.clusterId = randomBytes(8).toString('hex');
    const fromDisk = loaded > 0 ? ` with ${loaded} entries from disk` : '';
    if (how.refusedBy !== undefined) {
      const refusals = [...how.refusedBy].map(([address, reason]) => `${address} refused it (${reason})`).join('; ');
      this.logger.warn?.(
        `${name} found no node it may join: ${refusals}. It runs alone, as a cluster of its own${fromDisk}: ` +
          'sessions made here are unknown to those nodes and theirs here, until they link; it keeps trying them',
      );
    } else if (how.with !== undefined) {
      this.logger.log(`${name} initiated the cluster with ${how.with.join(', ')}, which were starting too${fromDisk}`);
    } else {
      this.logger.log(`no cluster found: ${name} initiated the cluster${fromDisk}`);
    }
    this.becomeReady(undefined, loaded);
  }

  /**
   * Takes what `session`'s peer holds of version `since` (a wall time, less a
   * margin for clock skew) and newer: writes a node made before it was linked
   * to this one reached this node's other peers only — a copy source may have
   * streamed the key before one of them arrived. Cheap: a scan of the peer's
   * table, and only recent states move. Applying a state twice changes nothing.
   */
  catchUp(session: PeerSession, since: number): void {
    const from = versionAt(since - CATCH_UP_MARGIN);
    const tables = this.host.replicatedTables().map((t) => t.name);
    this.host.pull(session.name, tables, (table, states) => this.engine.merge(table, states), undefined, from).catch((error: unknown) =>
      this.logger.warn?.(`taking the recent writes of ${session.name} failed (${String(error)}); the background sync or a heal brings them`),
    );
  }

  /**
   * Replaces the disk copy of every replicated table with what is in memory; returns the entry count.
   * A disk that does not take it (full, failing) leaves the copy to be rewritten once it does.
   */
  async saveAll(): Promise<number> {
    let entries = 0;
    for (const table of this.host.replicatedTables()) {
      entries += table.size;
      await this.engine.rewrite(table);
    }
    return entries;
  }

  /** Resolves when this node is ready, or after `timeout` ms. */
  waitReady(timeout: number): Promise<void> {
    if (this.phase === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeout);
      const waiter = (): void => done();
      this.readyWaiters.push(waiter);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** What a node with `minPeers` says when no one answered at start. */
  waitingForPeers(seeds: readonly string[], refusedBy: ReadonlyMap<string, string>): string {
    const tried = seeds.filter((address) => !refusedBy.has(address));
    const refusals = [...refusedBy].map(([address, reason]) => `; ${address} refused it (${reason})`).join('');
    return (
      `${this.host.self.name} waits for ${this.minPeers} peer(s) before it becomes ready (minPeers)` +
      (tried.length > 0 ? `; no node answered at ${tried.join(', ')}` : '') +
      refusals
    );
  }

  /** Why this node is not ready after `joinTimeout`. */
  notReadyYet(): string {
    const linked = this.membership.peers().length;
    const name = this.host.self.name;
    if (linked < this.minPeers) {
      return `${name} is not ready after ${this.options.joinTimeout} ms: it waits for at least ${this.minPeers} peer(s) (minPeers) and has ${linked} linked; still trying`;
    }
    return `${name} has not joined the cluster after ${this.options.joinTimeout} ms; still trying`;
  }

  /**
   * Copies every replicated table from `source`. Pow's rule by default: the
   * cluster's data replaces this node's disk copy. With `keepLocalOnJoin` the
   * disk copy is loaded first, and the states the cluster lacks (or has older)
   * are sent to the cluster afterwards.
   */
  private async join(source: PeerSession): Promise<void> {
    const name = this.host.self.name;
    const replicated = this.host.replicatedTables();
    this.logger.log(`${name} joins the cluster: copying ${replicated.length} table(s) from ${source.name}`);
    // Local tables always come from this node's disk; replicated ones only if they are to be merged.
    const tables = this.engine.store.allTables();
    await this.engine.loadPersisted(tables.filter((t) => t.mode === 'local'));
    // This node's own states, by key (a state of a resting index is an object per lookup: see sameState).
    const unconfirmed = new Map<Table, Map<string, EntryState>>();
    if (this.options.keepLocalOnJoin) {
      await this.engine.loadPersisted(this.host.replicatedTables(), (table, states) => {
        let mine = unconfirmed.get(table);
        if (mine === undefined) unconfirmed.set(table, (mine = new Map()));
        for (const state of states) mine.set(stateKey(state), state);
      });
    }
    // Chunks are not saved one by one while joining: the disk copy is replaced once, at the end.
    await this.host.pull(source.name, this.host.replicatedTables().map((t) => t.name), (table, states) => {
      const mine = unconfirmed.get(table);
      if (mine !== undefined && mine.size > 0) {
        for (const state of states) {
          const key = stateKey(state);
          const own = mine.get(key);
          if (own !== undefined && sameState(table.current(state.ns, state.key), own) && compareStates(state, own) >= 0) mine.delete(key);
        }
      }
      this.engine.merge(table, states, { persist: false });
    });
    if (this.phase !== 'joining') return;
    let pushed = 0;
    for (const [table, mine] of unconfirmed) {
      const lacking = [...mine.values()].filter((state) => sameState(table.current(state.ns, state.key), state));
      this.host.spread(table, lacking);
      pushed += lacking.length;
    }
    // The disk copy now mirrors what this node holds.
    const entries = await this.saveAll();
    this.logger.log(`${name} joined the cluster: ${entries} entries copied from ${source.name}` + (pushed > 0 ? `, ${pushed} of its own sent to the cluster` : ''));
    this.becomeReady(source.runId, entries);
    // Writes other peers made since this node started, before they were linked to it, may have missed the copy.
    for (const other of this.membership.greeted()) if (other !== source && other.ready) this.catchUp(other, this.host.self.startedAt);
  }

  private becomeReady(joinedFrom: string | undefined, entries: number): void {
    if (this.phase !== 'joining') return;
    this.phase = 'ready';
    this.joinedFrom = joinedFrom;
    this.copySource = undefined;
    for (const session of this.membership.sessions.values()) session.send({ t: 'ready', joinedFrom });
    this.host.report({ type: 'joined', node: this.host.self.name, from: joinedFrom?.split('#')[0], entries });
    this.releaseWaiters();
  }

  /** Whoever waits for this node to be ready stops waiting (it became ready, or stopped). */
  releaseWaiters(): void {
    for (const waiter of this.readyWaiters) waiter();
    this.readyWaiters = [];
  }
}

/** A state's namespace and key as one string: their stored encoding (numbers and strings, scalars and arrays kept apart). */
function stateKey(state: EntryState): string {
  return encodeStoredKey(state.ns, state.key).toString('latin1');
}
