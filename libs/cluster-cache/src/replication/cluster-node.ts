import type { LoggerService } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { ClusterEvent } from '../cluster/cluster-event';
import type { DiscoveryContext } from '../discovery/discovery-strategy.interface';
import type { CacheEngine } from '../engine/cache-engine';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import type { NodeInfo } from '../transport/node-info';
import type { PeerLink } from '../transport/peer-link.interface';
import type { Transport } from '../transport/transport.interface';
import { isAddress } from '../util/address';
import { LogLimiter } from '../util/log-limiter';
import { logSafe } from '../util/log-safe';
import { AntiEntropy } from './anti-entropy';
import { ClusterJoin } from './cluster-join';
import type { Phase } from './cluster-join';
import { ClusterLock } from './cluster-lock';
import type { ClusterNodeOptions } from './cluster-node-options';
import { serveCopy } from './copy-serving';
import { anyResolves, isRefusal, readSeeds, refusalReason, startDiscovery } from './finding-peers';
import { Membership } from './membership';
import type { HelloMessage, ReplicationMessage } from './messages';
import { CallHandler, ChunkHandler, PeerCalls } from './peer-calls';
import type { ClusterShape } from './peer-compatibility';
import { PeerLinking } from './peer-linking';
import { PeerReunion } from './peer-reunion';
import { PeerSession } from './peer-session';
import { Reconnector } from './reconnector';
import { WritePath } from './write-path';

export type { ClusterNodeOptions } from './cluster-node-options';

/** After the first seed answers, how long start waits for the others before deciding to join or start a cluster, in ms. */
const SEED_GRACE = 1_000;
/** A copy that receives nothing for this long is given up (and retried), in ms. */
const COPY_IDLE_TIMEOUT = 15_000;
/** How long a lock grant lasts unless released (a crashed holder blocks no longer than this), in ms. */
const LOCK_TTL = 10_000;

/**
 * This node's membership in the cluster: links to every other node, sends
 * local writes to them, applies theirs, and copies the cluster's data when it
 * joins. One instance per node; `ClusterService` is its public face. The
 * concerns live beside it: who is linked (`Membership`), peers coming and
 * going (`PeerLinking`), the join (`ClusterJoin`), replicated writes
 * (`WritePath`), what a ready peer's greeting sets off — resyncs, merges,
 * split detection (`PeerReunion`) — and requests between nodes (`PeerCalls`).
 */
export class ClusterNode {
  private readonly subject = new Subject<ClusterEvent>();
  /** Every cluster event, as it happens. */
  readonly events$: Observable<ClusterEvent> = this.subject.asObservable();
  private readonly membership = new Membership();
  private readonly writes: WritePath;
  private readonly joining: ClusterJoin;
  private readonly linking: PeerLinking;
  private readonly reconnector: Reconnector;
  /** Warnings about messages of no known type, per peer, a few a minute. */
  private readonly oddMessages = new LogLimiter({ lines: 3, window: 60_000 });
  private readonly calls: PeerCalls;
  /** A lock across the connected cluster (session rotation, heals). */
  readonly lock: ClusterLock;
  /** Digest-based sync with one peer (the merge heal, resyncs). */
  readonly antiEntropy: AntiEntropy;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Addresses discovery reported before the start decision. */
  private readonly discovered = new Set<string>();
  private unsubscribeLinks: (() => void) | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly engine: CacheEngine,
    private readonly options: ClusterNodeOptions,
    private readonly logger: LoggerService,
  ) {
    const sessions = this.membership.sessions;
    this.writes = new WritePath(engine, options.ackTimeout, logger, (name) => this.replicatedTable(name));
    this.calls = new PeerCalls(
      (peer, message) => {
        const session = sessions.get(peer);
        if (session === undefined || !session.open) return undefined;
        session.send(message);
        return session.link.id;
      },
      (name) => this.replicatedTable(name),
    );
    this.lock = new ClusterLock(this.self.name, this.calls, () => this.peers().map((p) => p.name), LOCK_TTL, options.ackTimeout);
    this.antiEntropy = new AntiEntropy(this, engine);
    this.joining = new ClusterJoin(this, engine, this.membership, options, logger);
    const reunion = new PeerReunion(this, engine, this.membership, this.joining, this.writes, options.autoInitialize, logger);
    const node = this;
    this.reconnector = new Reconnector(
      {
        dial: (address, timeout) => this.connect(address, timeout),
        linked: () => this.membership.linkedAddresses(),
        get address() {
          return node.address;
        },
      },
      options.reconnectInterval,
      logger,
    );
    const { membership, writes, joining, reconnector, lock, calls } = this;
    this.linking = new PeerLinking(this, { membership, writes, joining, reunion, reconnector, lock, calls }, logger);
  }

  /** This node's identity. */
  get self(): NodeInfo {
    return this.transport.self;
  }

  /** Whether this node holds the cluster's data. */
  get ready(): boolean {
    return this.joining.ready;
  }

  /** The peers linked right now. */
  peers(): NodeInfo[] {
    return this.membership.peers();
  }

  /** Writes in flight per peer. */
  backlog(): Record<string, number> {
    return this.writes.backlog();
  }

  /** Replication lag per peer, in ms (send to acknowledgement of the newest acknowledged write). */
  lag(): Record<string, number> {
    return this.writes.lag();
  }

  /** Whether a peer is currently linked and greeted. */
  isLinked(name: string): boolean {
    return this.membership.linked(name) !== undefined;
  }

  /** What this node knows of a linked peer (name, address, incarnation, start time). */
  peer(name: string): NodeInfo | undefined {
    return this.membership.linked(name)?.info;
  }

  /** Peers refused for settings that differ from this node's, and why. */
  refused(): Record<string, string> {
    return Object.fromEntries(this.membership.refusals);
  }

  /** This node and the linked peers it has not been partitioned from: its island. */
  island(): string[] {
    return this.membership.island(this.self.name);
  }

  /** Peers seen again after a split and not healed yet. */
  unhealed(): string[] {
    return [...this.membership.partitioned];
  }

  /** Marks the split with `peer` as healed: it is part of this node's island again. */
  markHealed(peer: string): void {
    this.membership.partitioned.delete(peer);
  }

  /** Marks `peer` as apart from this node's island (a peer that saw the split asks for the heal). */
  markPartitioned(peer: string): void {
    if (this.isLinked(peer)) this.membership.partitioned.add(peer);
  }

  /** Emits a cluster event (for the Unsplit service). */
  report(event: ClusterEvent): void {
    this.subject.next(event);
  }

  /** Serves requests of `kind` from peers (see `call`). */
  handle(kind: string, handler: CallHandler): void {
    this.calls.handle(kind, handler);
  }

  /** Sends a request to a linked peer and resolves with its reply. */
  call<T>(peer: string, kind: string, body: unknown, timeout = this.options.ackTimeout): Promise<T> {
    return this.calls.call<T>(peer, kind, body, timeout);
  }

  /** Sends a request to a linked peer whose handler replies with `ReplyParts`; resolves with the parts. */
  callInParts<T>(peer: string, kind: string, body: unknown, timeout = this.options.ackTimeout): Promise<T[]> {
    return this.calls.callInParts<T>(peer, kind, body, timeout);
  }

  /**
   * Streams a copy of `tables` from `peer`, chunk by chunk, into `onChunk`:
   * all of them, or the states of some keys (by key hash), or the states of
   * version `since` and newer.
   */
  pull(peer: string, tables: readonly string[], onChunk: ChunkHandler, keys?: Float64Array, since?: number): Promise<void> {
    return this.calls.pull(peer, tables, onChunk, keys, COPY_IDLE_TIMEOUT, since);
  }

  /**
   * Sends states this node got from elsewhere (a heal, a merge) on to every
   * linked peer but `except` (where they came from), so the rest of its island
   * gets them too; peers apply them like any replicated write.
   */
  spread(table: Table, states: readonly EntryState[], except?: string): void {
    this.writes.spread(table, states, except);
  }

  /** The replicated tables of this node. */
  replicatedTables(): Table[] {
    return this.engine.store.allTables().filter((t) => t.mode === 'replicated');
  }

  /**
   * Listens, reaches the seeds, and either copies the data of a running
   * cluster or — when no one answers — loads the disk copy and starts a
   * cluster. Resolves when this node holds the cluster's data, or after
   * `joinTimeout` (it keeps joining in the background).
   */
  async start(): Promise<void> {
    this.unsubscribeLinks = this.transport.onLink((link) => this.attach(link));
    await this.transport.listen();
    this.writes.start();
    this.joining.phase = 'joining';
    await startDiscovery(this.options.discovery, this.discoveryContext(), this.options.discoveryGrace, this.logger);
    const seeds = [...new Set([...(await readSeeds(this.options.seeds, this.logger)), ...this.discovered])].filter((a) => a !== this.address);
    // Seeds that answer within a moment of the first are heard before deciding (nodes starting together pick one initiator);
    // one cut off by a partition does not hold the start for its whole connect timeout.
    const attempts = seeds.map((address) => this.connect(address));
    // Nodes that answered but refused this one (a cookie that differs): said when this node then starts alone.
    const refusedBy = new Map<string, string>();
    attempts.forEach((attempt, i) => attempt.catch((error: unknown) => isRefusal(error) && refusedBy.set(seeds[i], refusalReason(error))));
    const reached = await anyResolves(attempts);
    if (reached) await Promise.race([Promise.allSettled(attempts), new Promise((resolve) => setTimeout(resolve, SEED_GRACE).unref())]);
    this.reconnector.start();
    // Discovery may have linked a peer (and started a join) during the grace period already.
    const underway = this.joining.phase !== 'joining' || this.joining.copying || this.peers().length > 0;
    if (!reached && !underway && this.minPeers === 0) {
      await this.joining.initiate(refusedBy.size === 0 ? undefined : { refusedBy });
    } else {
      if (!reached && !underway) this.logger.log(this.joining.waitingForPeers(seeds, refusedBy));
      this.joining.decide();
      await this.joining.waitReady(this.options.joinTimeout);
      if ((this.joining.phase as Phase) === 'stopped') return; // stop() ran meanwhile
      if (!this.ready) this.logger.warn?.(this.joining.notReadyYet());
    }
    this.reconnectTimer = setInterval(() => void this.reconnectSeeds(), this.options.reconnectInterval).unref();
  }

  /** Linked peers this node needs before it becomes ready (`minPeers`). */
  get minPeers(): number {
    return this.joining.minPeers;
  }

  /** This node's cluster address, `host:port`. */
  get address(): string {
    return `${this.self.host}:${this.self.port}`;
  }

  /** Links to the node at `host:port` (resolves once authenticated); `timeout` bounds the TCP connect. */
  async connect(address: string, timeout?: number): Promise<NodeInfo> {
    if (!isAddress(address)) throw new ClusterCacheError(`cannot connect to ${JSON.stringify(address)}: an address is "host:port"`);
    const at = address.lastIndexOf(':');
    const host = address.slice(0, at).replace(/^\[|\]$/g, '');
    const link = await this.transport.connect(host, Number(address.slice(at + 1)), timeout);
    return link.peer;
  }

  /** Drops the link to a node (it may come back through discovery). */
  disconnect(name: string): boolean {
    const session = this.membership.sessions.get(name);
    if (session === undefined) return false;
    session.closedHere = true;
    session.link.close('closed');
    return true;
  }

  /** Tells the peers this node leaves, and closes every link and timer. */
  async stop(): Promise<void> {
    this.joining.phase = 'stopped';
    clearInterval(this.reconnectTimer);
    this.reconnector.stop();
    await Promise.all(this.options.discovery.map((strategy) => Promise.resolve(strategy.stop()).catch(() => undefined)));
    this.unsubscribeLinks?.();
    this.writes.stop();
    this.calls.dropAll();
    await this.transport.close();
    this.joining.releaseWaiters();
    this.subject.complete();
  }

  /** Resolves when this node is ready, or after `timeout` ms. */
  waitReady(timeout: number): Promise<void> {
    return this.joining.waitReady(timeout);
  }

  /**
   * Replaces the disk copy of every replicated table with what is in memory; returns the entry count.
   * A disk that does not take it (full, failing) leaves the copy to be rewritten once it does.
   */
  saveAll(): Promise<number> {
    return this.joining.saveAll();
  }

  private async reconnectSeeds(): Promise<void> {
    const seeds = await readSeeds(this.options.seeds, this.logger);
    if (this.joining.phase !== 'stopped') this.reconnector.reach(seeds);
  }

  /** What discovery strategies are given: addresses they report before the start decision count as seeds. */
  private discoveryContext(): DiscoveryContext {
    return {
      self: this.self,
      cluster: this.options.cluster,
      cookie: this.options.cookie,
      logger: this.logger as DiscoveryContext['logger'],
      found: (addresses: readonly string[]) => {
        if (this.joining.phase === 'joining' && !this.joining.copying && !this.ready) for (const a of addresses) this.discovered.add(a);
        if (this.joining.phase !== 'stopped') this.reconnector.reach(addresses);
      },
    };
  }

  private attach(link: PeerLink): void {
    // A link to a peer that had one replaces it (the transport closes the old one).
    const session = new PeerSession(link);
    this.membership.sessions.set(session.name, session);
    link.onMessage((message) => this.receive(session, message as ReplicationMessage));
    link.onAck((id) => this.writes.acknowledged(session.name, id));
    link.onClose((reason) => this.linking.closed(session, reason));
    session.send(this.hello());
  }

  private hello(): HelloMessage {
    return {
      t: 'hello',
      clusterId: this.joining.clusterId,
      ready: this.ready,
      joinedFrom: this.joining.joinedFrom,
      members: this.membership.addresses(),
      shape: this.shape(),
    };
  }

  /** This node's tables and Unsplit strategy, as its hello says them. */
  shape(): ClusterShape {
    return { tables: this.engine.store.allTables().map((t) => [t.name, t.mode]), unsplit: this.options.unsplit };
  }

  private receive(session: PeerSession, message: ReplicationMessage): void {
    // Frames are authenticated, so only a member sends this: a bug, or another version; never a reason to throw.
    if (typeof message !== 'object' || message === null) return this.ignore(session, message);
    switch (message.t) {
      case 'hello':
        return this.linking.greeted(session, message);
      case 'ready':
        session.ready = true;
        session.joinedFrom = message.joinedFrom;
        if (this.joining.phase === 'joining') this.joining.decide();
        return;
      case 'members':
        return this.linking.reach(message.members);
      case 'write':
        return this.writes.apply(session, message);
      case 'copy-request':
        return serveCopy(session, message, (name) => this.replicatedTable(name), this.engine.store.clock.now(), this.logger);
      case 'copy-chunk':
        return this.calls.chunk(message);
      case 'copy-end':
        return this.calls.end(message.id);
      case 'call':
        return void this.calls.serve(session.name, message);
      case 'reply-part':
        return this.calls.replyPart(message);
      case 'reply':
        return this.calls.reply(message);
      default:
        return this.ignore(session, message);
    }
  }

  private ignore(session: PeerSession, message: unknown): void {
    const kind = typeof message === 'object' && message !== null ? `a message of type ${logSafe((message as { t?: unknown }).t, 40)}` : `a ${message === null ? 'null' : typeof message}`;
    const line = this.oddMessages.take(session.name, `ignored ${kind} from ${session.name}: not a message of this protocol`);
    if (line !== undefined) this.logger.warn?.(line);
  }

  private replicatedTable(name: string): Table | undefined {
    const table = this.engine.store.table(name);
    return table?.mode === 'replicated' ? table : undefined;
  }
}
