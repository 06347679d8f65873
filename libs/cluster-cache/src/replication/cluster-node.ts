import type { LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Observable, Subject } from 'rxjs';
import type { DiscoveryContext, DiscoveryStrategy } from '../discovery/discovery-strategy.interface';
import type { CacheEngine } from '../engine/cache-engine';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import { compareStates, EntryState } from '../store/entry';
import { versionAt } from '../store/hlc';
import { keyHash } from '../store/state-hash';
import type { Table } from '../store/table';
import type { NodeInfo } from '../transport/node-info';
import { errorMessage, TransportError } from '../transport/transport.error';
import { handshakeHint } from '../transport/transport.messages';
import type { LinkCloseReason, PeerLink } from '../transport/peer-link.interface';
import type { Transport } from '../transport/transport.interface';
import { isAddress } from '../util/address';
import { LogLimiter } from '../util/log-limiter';
import { logSafe } from '../util/log-safe';
import { AntiEntropy } from './anti-entropy';
import type { ClusterEvent, NodeDownReason } from './cluster-event';
import { ClusterLock } from './cluster-lock';
import { KeyHashTable } from './key-hash-table';
import { fromFlat } from './flat-states';
import { HelloMessage, MemberAddress, ReplicationMessage } from './messages';
import { CallHandler, ChunkHandler, PeerCalls } from './peer-calls';
import { ClusterShape, incompatibility } from './peer-compatibility';
import { PeerSession } from './peer-session';
import { Reconnector } from './reconnector';
import { COPY_CHUNK, streamTables } from './table-copy';
import { float64sOf } from './wire-arrays';
import { WriteFanout } from './write-fanout';

/** How a cluster node behaves. */
export interface ClusterNodeOptions {
  /** How long `start()` waits to hold the cluster's data, in ms. */
  joinTimeout: number;
  /** What two clusters that never met do: merge their data, or reset the younger (Pow). */
  autoInitialize: 'merge' | 'reset-younger';
  /** A peer that does not acknowledge a write for this long is disconnected. */
  ackTimeout: number;
  /** Addresses (`host:port`) to reach at start and keep reaching (extraNodes, static discovery). */
  seeds: () => Promise<string[]>;
  /** How often the seeds are reached again, and the first wait before retrying one that did not answer, in ms. */
  reconnectInterval: number;
  /** Discovery strategies to run (they report addresses; this node links to them). */
  discovery: DiscoveryStrategy[];
  /** How long start waits for discovery to report nodes before deciding to join or start a cluster, in ms. */
  discoveryGrace: number;
  /** The cluster secret, handed to discovery strategies that authenticate their packets. */
  cookie: string;
  /** The cluster name. */
  cluster: string;
  /**
   * On a restart into a running cluster, keep this node's disk copy and merge
   * it both ways (nothing acknowledged is lost), instead of Pow's "the cluster
   * wins" (the disk copy is replaced by the cluster's data).
   */
  keepLocalOnJoin: boolean;
  /** The Unsplit strategy (`'off'` without Unsplit): peers must have the same. */
  unsplit: ClusterShape['unsplit'];
  /**
   * Linked peers needed before this node becomes ready: with fewer it neither
   * joins nor starts a cluster (`minPeers`). Default 0.
   */
  minPeers?: number;
}

/**
 * How long a link closed as a duplicate waits for the connection the peer kept
 * to be announced here, in ms; after that the peer counts as lost.
 */
const DUPLICATE_GRACE = 1_000;
/** After the first seed answers, how long start waits for the others before deciding to join or start a cluster, in ms. */
const SEED_GRACE = 1_000;
/** Clock skew between nodes that a catch-up allows for, in ms (keep clocks in sync with NTP). */
const CATCH_UP_MARGIN = 10_000;
/** How long a peer refused as incompatible is not dialled again, in ms (it may still dial this node). */
const REFUSED_HOLD = 30_000;
/** A copy that receives nothing for this long is given up (and retried), in ms. */
const COPY_IDLE_TIMEOUT = 15_000;
/** How long a lock grant lasts unless released (a crashed holder blocks no longer than this), in ms. */
const LOCK_TTL = 10_000;

type Phase = 'idle' | 'joining' | 'ready' | 'stopped';

/**
 * This node's membership in the cluster: links to every other node, sends
 * local writes to them, applies theirs, and copies the cluster's data when it
 * joins. One instance per node; `ClusterService` is its public face.
 */
export class ClusterNode {
  private readonly subject = new Subject<ClusterEvent>();
  /** Every cluster event, as it happens. */
  readonly events$: Observable<ClusterEvent> = this.subject.asObservable();
  private readonly sessions = new Map<string, PeerSession>();
  private readonly fanout: WriteFanout;
  /**
   * Each peer's latest run this node was linked to, and whether contact with it
   * was lost since (a link that failed, not one replaced by a duplicate): to
   * tell a partition from a restart, and a partition from a dial race.
   */
  private readonly runs = new Map<string, { run: string; lost: boolean }>();
  /** Why peers were refused (incompatible settings), by name, until one of them links. */
  private readonly refusals = new Map<string, string>();
  private readonly reconnector: Reconnector;
  /** Warnings about messages of no known type, per peer, a few a minute. */
  private readonly oddMessages = new LogLimiter({ lines: 3, window: 60_000 });
  private phase: Phase = 'idle';
  private clusterId = '';
  private joinedFrom: string | undefined;
  private copySource: PeerSession | undefined;
  /** Set while this node starts the cluster from its disk copy (no join may begin meanwhile). */
  private initiating = false;
  private readonly calls: PeerCalls;
  /** A lock across the connected cluster (session rotation, heals). */
  readonly lock: ClusterLock;
  /** Digest-based sync with one peer (the merge heal, resyncs). */
  readonly antiEntropy: AntiEntropy;
  /** Peers dropped for not acknowledging writes: they missed some and must resync when they are back. */
  private readonly mustResync = new Set<string>();
  /** Peers seen again after a partition, not healed yet: not part of this node's island. */
  private readonly partitioned = new Set<string>();
  private readyWaiters: Array<() => void> = [];
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
    // Ack deadlines are real durations, read afresh: the store's clock keeps one reading per callback, and a
    // long synchronous step before a write (copying a huge value) would date the batch back and time it out early.
    this.fanout = new WriteFanout({ now: () => Date.now() }, options.ackTimeout);
    this.calls = new PeerCalls(
      (peer, message) => {
        const session = this.sessions.get(peer);
        if (session === undefined || !session.open) return undefined;
        session.send(message);
        return session.link.id;
      },
      (name) => this.replicatedTable(name),
    );
    this.lock = new ClusterLock(this.self.name, this.calls, () => this.peers().map((p) => p.name), LOCK_TTL, options.ackTimeout);
    this.antiEntropy = new AntiEntropy(this, engine);
    const node = this;
    this.reconnector = new Reconnector(
      {
        dial: (address, timeout) => this.connect(address, timeout),
        linked: () => new Set([...this.sessions.values()].map((s) => `${s.info.host}:${s.info.port}`)),
        get address() {
          return node.address;
        },
      },
      options.reconnectInterval,
      logger,
    );
  }

  /** This node's identity. */
  get self(): NodeInfo {
    return this.transport.self;
  }

  /** Whether this node holds the cluster's data. */
  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** The peers linked right now. */
  peers(): NodeInfo[] {
    return [...this.sessions.values()].filter(greeted).map((s) => s.info);
  }

  /** Writes in flight per peer. */
  backlog(): Record<string, number> {
    return this.fanout.backlog();
  }

  /** Replication lag per peer, in ms (send to acknowledgement of the newest acknowledged write). */
  lag(): Record<string, number> {
    return this.fanout.lag();
  }

  /** Whether a peer is currently linked and greeted. */
  isLinked(name: string): boolean {
    const session = this.sessions.get(name);
    return session !== undefined && greeted(session);
  }

  /** What this node knows of a linked peer (name, address, incarnation, start time). */
  peer(name: string): NodeInfo | undefined {
    const session = this.sessions.get(name);
    return session !== undefined && greeted(session) ? session.info : undefined;
  }

  /** Peers refused for settings that differ from this node's, and why. */
  refused(): Record<string, string> {
    return Object.fromEntries(this.refusals);
  }

  /** This node and the linked peers it has not been partitioned from: its island. */
  island(): string[] {
    return [this.self.name, ...this.peers().map((p) => p.name).filter((name) => !this.partitioned.has(name))];
  }

  /** Peers seen again after a split and not healed yet. */
  unhealed(): string[] {
    return [...this.partitioned];
  }

  /** Marks the split with `peer` as healed: it is part of this node's island again. */
  markHealed(peer: string): void {
    this.partitioned.delete(peer);
  }

  /** Marks `peer` as apart from this node's island (a peer that saw the split asks for the heal). */
  markPartitioned(peer: string): void {
    if (this.isLinked(peer)) this.partitioned.add(peer);
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
    for (let i = 0; i < states.length; i += COPY_CHUNK) {
      this.fanout.replicate(table, states.slice(i, i + COPY_CHUNK), except).catch(() => undefined);
    }
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
    this.engine.replicateWith(this.fanout);
    this.phase = 'joining';
    await this.startDiscovery();
    const seeds = [...new Set([...(await this.safeSeeds()), ...this.discovered])].filter((a) => a !== this.address);
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
    const underway = this.phase !== 'joining' || this.copySource !== undefined || this.peers().length > 0;
    if (!reached && !underway && this.minPeers === 0) {
      await this.initiate(refusedBy.size === 0 ? undefined : { refusedBy });
    } else {
      if (!reached && !underway) this.logger.log(this.waitingForPeers(seeds, refusedBy));
      this.decideJoin();
      await this.waitReady(this.options.joinTimeout);
      if ((this.phase as Phase) === 'stopped') return; // stop() ran meanwhile
      if (!this.ready) this.logger.warn?.(this.notReadyYet());
    }
    this.reconnectTimer = setInterval(() => void this.reconnectSeeds(), this.options.reconnectInterval).unref();
  }

  /** Linked peers this node needs before it becomes ready (`minPeers`). */
  get minPeers(): number {
    return this.options.minPeers ?? 0;
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
    const session = this.sessions.get(name);
    if (session === undefined) return false;
    session.closedHere = true;
    session.link.close('closed');
    return true;
  }

  /** Tells the peers this node leaves, and closes every link and timer. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    clearInterval(this.reconnectTimer);
    this.reconnector.stop();
    await Promise.all(this.options.discovery.map((strategy) => Promise.resolve(strategy.stop()).catch(() => undefined)));
    this.unsubscribeLinks?.();
    this.engine.replicateWith(undefined);
    this.fanout.stop();
    this.calls.dropAll();
    await this.transport.close();
    for (const waiter of this.readyWaiters) waiter();
    this.readyWaiters = [];
    this.subject.complete();
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

  private async safeSeeds(): Promise<string[]> {
    try {
      const seeds = await this.options.seeds();
      const bad = seeds.filter((s) => !isAddress(s));
      if (bad.length > 0) this.logger.warn?.(`extraNodes gave addresses that are not "host:port", ignored: ${JSON.stringify(bad)}`);
      return seeds.filter(isAddress);
    } catch (error) {
      this.logger.error(`resolving the nodes to join failed: ${String(error)}`);
      return [];
    }
  }

  private async reconnectSeeds(): Promise<void> {
    const seeds = await this.safeSeeds();
    if (this.phase !== 'stopped') this.reconnector.reach(seeds);
  }

  /** Starts every discovery strategy and gives them `discoveryGrace` ms to report nodes. */
  private async startDiscovery(): Promise<void> {
    const strategies = this.options.discovery;
    if (strategies.length === 0) return;
    const context = {
      self: this.self,
      cluster: this.options.cluster,
      cookie: this.options.cookie,
      logger: this.logger as DiscoveryContext['logger'],
      found: (addresses: readonly string[]) => {
        if (this.phase === 'joining' && this.copySource === undefined && !this.ready) for (const a of addresses) this.discovered.add(a);
        if (this.phase !== 'stopped') this.reconnector.reach(addresses);
      },
    };
    for (const strategy of strategies) {
      try {
        await strategy.start(context);
      } catch (error) {
        this.logger.error(`discovery strategy ${strategy.constructor.name} failed to start: ${String(error)}`);
      }
    }
    if (this.options.discoveryGrace > 0) await new Promise((resolve) => setTimeout(resolve, this.options.discoveryGrace));
  }

  /**
   * This node starts the cluster, from its disk copy if it has one: no one
   * answered, or only nodes that refused it (`refusedBy`: it then runs alone,
   * and says so as a warning), or the linked peers (`with`) are all starting
   * and this node is the oldest.
   */
  private async initiate(how: { refusedBy?: ReadonlyMap<string, string>; with?: string[] } = {}): Promise<void> {
    if (this.phase !== 'joining' || this.copySource !== undefined || this.initiating) return;
    this.initiating = true;
    const loaded = [...(await this.engine.loadPersisted()).values()].reduce((n, states) => n + states.length, 0);
    this.clusterId = randomBytes(8).toString('hex');
    const fromDisk = loaded > 0 ? ` with ${loaded} entries from disk` : '';
    if (how.refusedBy !== undefined) {
      const refusals = [...how.refusedBy].map(([address, reason]) => `${address} refused it (${reason})`).join('; ');
      this.logger.warn?.(
        `${this.self.name} found no node it may join: ${refusals}. It runs alone, as a cluster of its own${fromDisk}: ` +
          'sessions made here are unknown to those nodes and theirs here, until they link; it keeps trying them',
      );
    } else if (how.with !== undefined) {
      this.logger.log(`${this.self.name} initiated the cluster with ${how.with.join(', ')}, which were starting too${fromDisk}`);
    } else {
      this.logger.log(`no cluster found: ${this.self.name} initiated the cluster${fromDisk}`);
    }
    this.becomeReady(undefined, loaded);
  }

  /** What a node with `minPeers` says when no one answered at start. */
  private waitingForPeers(seeds: readonly string[], refusedBy: ReadonlyMap<string, string>): string {
    const tried = seeds.filter((address) => !refusedBy.has(address));
    const refusals = [...refusedBy].map(([address, reason]) => `; ${address} refused it (${reason})`).join('');
    return (
      `${this.self.name} waits for ${this.minPeers} peer(s) before it becomes ready (minPeers)` +
      (tried.length > 0 ? `; no node answered at ${tried.join(', ')}` : '') +
      refusals
    );
  }

  /** Why this node is not ready after `joinTimeout`. */
  private notReadyYet(): string {
    const linked = this.peers().length;
    if (linked < this.minPeers) {
      return `${this.self.name} is not ready after ${this.options.joinTimeout} ms: it waits for at least ${this.minPeers} peer(s) (minPeers) and has ${linked} linked; still trying`;
    }
    return `${this.self.name} has not joined the cluster after ${this.options.joinTimeout} ms; still trying`;
  }

  private attach(link: PeerLink): void {
    // A link to a peer that had one replaces it (the transport closes the old one).
    const session = new PeerSession(link);
    this.sessions.set(session.name, session);
    link.onMessage((message) => this.receive(session, message as ReplicationMessage));
    link.onAck((id) => this.fanout.acknowledge(session.name, id));
    link.onClose((reason) => this.detach(session, reason));
    session.send(this.hello());
  }

  private hello(): HelloMessage {
    return {
      t: 'hello',
      clusterId: this.clusterId,
      ready: this.ready,
      joinedFrom: this.joinedFrom,
      members: this.memberAddresses(),
      shape: this.shape(),
    };
  }

  private shape(): ClusterShape {
    return { tables: this.engine.store.allTables().map((t) => [t.name, t.mode]), unsplit: this.options.unsplit };
  }

  private memberAddresses(): MemberAddress[] {
    return [...this.sessions.values()].map((s) => ({ name: s.info.name, host: s.info.host, port: s.info.port }));
  }

  private detach(session: PeerSession, reason: LinkCloseReason): void {
    session.open = false;
    this.calls.dropLink(session.link.id);
    if (this.sessions.get(session.name) !== session) {
      // Superseded by a newer link to the same node: the peer is still there, unless it restarted.
      if (reason === 'replaced') {
        this.lock.peerDown(session.name);
        if (session.hello !== undefined) this.subject.next({ type: 'nodedown', node: session.name, reason: 'replaced' });
      }
      return;
    }
    if (reason === 'duplicate' && session.hello !== undefined) {
      // The peer kept the other connection of a dial race, not announced here yet: no contact was lost.
      // Writes in flight wait for it and are sent again on it; if it never comes, the peer is lost after all.
      setTimeout(() => {
        if (this.sessions.get(session.name) === session) this.lose(session, 'closed');
      }, DUPLICATE_GRACE).unref();
      return;
    }
    this.lose(session, reason);
  }

  /** Contact with a peer is lost: its writes are released, and if it comes back the data may have diverged. */
  private lose(session: PeerSession, reason: LinkCloseReason): void {
    this.sessions.delete(session.name);
    this.fanout.remove(session.name);
    this.lock.peerDown(session.name);
    // Apart now: a split seen again is reported again when the peer is back.
    this.partitioned.delete(session.name);
    if (session.hello === undefined) return;
    if (reason === 'leave') this.reconnector.forget(session.name);
    else this.runs.set(session.name, { run: session.runId, lost: true });
    this.subject.next({ type: 'nodedown', node: session.name, reason: session.closedHere ? 'disconnected' : downReason(reason) });
  }

  private receive(session: PeerSession, message: ReplicationMessage): void {
    // Frames are authenticated, so only a member sends this: a bug, or another version; never a reason to throw.
    if (typeof message !== 'object' || message === null) return this.ignore(session, message);
    switch (message.t) {
      case 'hello':
        return this.onHello(session, message);
      case 'ready':
        session.ready = true;
        session.joinedFrom = message.joinedFrom;
        if (this.phase === 'joining') this.decideJoin();
        return;
      case 'members':
        return this.reach(message.members);
      case 'write': {
        let applied = 0;
        for (const [name, flat] of message.batches) {
          const states = fromFlat(flat);
          const table = this.replicatedTable(name);
          if (table !== undefined) this.engine.merge(table, states);
          applied += states.length;
        }
        // A part of a message too large for one frame: the last part acknowledges them all.
        if (message.more === 1) return;
        return session.acknowledge(message.id, applied);
      }
      case 'copy-request': {
        const tables = message.tables.map((name) => this.replicatedTable(name)).filter((t): t is Table => t !== undefined);
        const now = this.engine.store.clock.now();
        const only = message.keys ? withKeys(float64sOf(message.keys), now) : message.since === undefined ? undefined : newerThan(message.since, now);
        streamTables(session, message.id, tables, only).catch((error: unknown) =>
          this.logger.error(`sending a copy to ${session.name} failed: ${String(error)}`),
        );
        return;
      }
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

  private onHello(session: PeerSession, hello: HelloMessage): void {
    const refusal = incompatibility(this.self.name, this.shape(), session.name, hello.shape);
    if (refusal !== undefined) return this.refuse(session, refusal);
    this.refusals.delete(session.name);
    session.hello = hello;
    session.ready = hello.ready;
    session.joinedFrom = hello.joinedFrom;
    const previous = this.runs.get(session.name);
    const relinked = previous?.run === session.runId;
    this.runs.set(session.name, { run: session.runId, lost: false });
    this.fanout.add({
      name: session.name,
      send: (m, shared) => {
        try {
          session.send(m, shared);
        } catch (error) {
          // Not expected (puts refuse values too large for a frame); never let it end the process.
          this.logger.error(`a write to ${session.name} could not be sent, the peer misses it until a resync: ${String(error)}`);
          this.mustResync.add(session.name);
        }
      },
      disconnect: (reason) => {
        this.mustResync.add(session.name);
        this.logger.warn?.(`${session.name} did not acknowledge writes within ${this.options.ackTimeout} ms: disconnected, it resyncs when it is back`);
        session.link.close(reason);
      },
    });
    const address = `${session.info.host}:${session.info.port}`;
    this.reconnector.linked(session.name, address);
    // A dial race swapped the link: the peer was never down.
    if (!relinked || previous.lost) this.subject.next({ type: 'nodeup', node: session.name, address });
    this.reach(hello.members);
    for (const other of this.sessions.values()) {
      if (other !== session && other.hello !== undefined) other.send({ t: 'members', members: [{ name: session.name, host: session.info.host, port: session.info.port }] });
    }
    if (this.phase === 'joining') return this.decideJoin();
    if (this.phase !== 'ready' || !hello.ready) return;
    if (this.mustResync.delete(session.name)) this.resync(session.name);
    if (hello.clusterId !== this.clusterId) return this.meetCluster(session, hello);
    if (relinked) return previous.lost ? this.inconsistent(session, 'running_partitioned_network') : undefined;
    if (!this.sameComponent(session)) return this.inconsistent(session, 'starting_partitioned_network');
    // A new run of the peer that took its data from this node's side: whatever diverged before is gone.
    this.partitioned.delete(session.name);
    // But each side wrote without the other since the younger of the two started: take the other's writes of that time.
    this.catchUp(session, Math.max(this.self.startedAt, session.info.startedAt));
  }

  /**
   * Takes what `peer` holds of version `since` (a wall time, less a margin for
   * clock skew) and newer: writes a node made before it was linked to this one
   * reached this node's other peers only — a copy source may have streamed the
   * key before one of them arrived. Cheap: a scan of the peer's table, and only
   * recent states move. Applying a state twice changes nothing.
   */
  private catchUp(session: PeerSession, since: number): void {
    const from = versionAt(since - CATCH_UP_MARGIN);
    const tables = this.replicatedTables().map((t) => t.name);
    this.pull(session.name, tables, (table, states) => this.engine.merge(table, states), undefined, from).catch((error: unknown) =>
      this.logger.warn?.(`taking the recent writes of ${session.name} failed (${String(error)}); the background sync or a heal brings them`),
    );
  }

  /** Whether a ready peer of our cluster got its data from a node we are linked to. */
  private sameComponent(session: PeerSession): boolean {
    const linked = (run: string | undefined) =>
      run !== undefined && (run === `${this.self.name}#${this.self.incarnation}` || [...this.sessions.values()].some((s) => s.runId === run));
    if (linked(session.joinedFrom) || linked(this.joinedFrom)) return true;
    // Or we share a linked member who vouches for both of us (it is linked to both right now).
    const theirs = new Set(session.hello?.members.map((m) => m.name));
    return [...this.sessions.values()].some((s) => s !== session && s.hello !== undefined && theirs.has(s.name));
  }

  /** Brings a peer that missed writes up to date (both ways), whatever the Unsplit setting. */
  private resync(peer: string): void {
    this.antiEntropy.sync(peer).then(
      (entries) => this.logger.log(`${peer} resynced with ${this.self.name}: ${entries} entries exchanged`),
      (error: unknown) => {
        this.mustResync.add(peer);
        this.logger.warn?.(`resyncing ${peer} failed (${String(error)}); it will be tried again when it relinks`);
      },
    );
  }

  /** Refuses a peer whose settings differ (both sides do, each from the other's hello). */
  private refuse(session: PeerSession, reason: string): void {
    if (this.refusals.get(session.name) !== reason) this.logger.error(reason);
    this.refusals.set(session.name, reason);
    this.reconnector.hold(`${session.info.host}:${session.info.port}`, REFUSED_HOLD);
    session.closedHere = true;
    session.link.close('closed');
  }

  private inconsistent(session: PeerSession, context: 'running_partitioned_network' | 'starting_partitioned_network'): void {
    this.partitioned.add(session.name);
    this.logger.warn?.(`netsplit detected: ${session.name} was apart from ${this.self.name} (${context}); data may have diverged`);
    this.subject.next({ type: 'inconsistent_database', context, node: session.name });
  }

  /** Two clusters that never met: merge both ways, or reset the smaller/younger one (Pow). */
  private meetCluster(session: PeerSession, hello: HelloMessage): void {
    const mode = this.options.autoInitialize;
    const tables = this.replicatedTables().map((t) => t.name);
    const merge: ChunkHandler = (table, states) => this.spread(table, this.engine.merge(table, states), session.name);
    const failed = (error: unknown) => this.logger.warn?.(`copying the data of ${session.name} failed: ${String(error)}`);
    if (mode === 'merge') {
      this.logger.log(`${this.self.name} met ${session.name} of another cluster: merging their data`);
      this.pull(session.name, tables, merge).catch(failed);
      this.clusterId = this.clusterId < hello.clusterId ? this.clusterId : hello.clusterId;
    } else if (this.isYoungerThan(session, hello)) {
      this.logger.warn?.(`resetting ${this.self.name} to take the data of ${session.name} (autoInitialize: reset-younger)`);
      for (const table of this.replicatedTables()) table.clear();
      this.pull(session.name, tables, merge)
        .then(() => this.saveAll())
        .catch(failed);
      this.clusterId = hello.clusterId;
    } else {
      this.logger.log(`${this.self.name} met ${session.name} of another cluster: keeping its data, ${session.name} resets`);
    }
    this.subject.next({ type: 'clusters_merged', node: session.name, mode });
  }

  /** Pow's rule: a lone node resets for a cluster; between equals the younger resets. */
  private isYoungerThan(session: PeerSession, hello: HelloMessage): boolean {
    const mine = this.sessions.size - 1;
    const theirs = hello.members.filter((m) => m.name !== this.self.name).length;
    if (mine !== theirs) return mine < theirs;
    if (this.self.startedAt !== session.info.startedAt) return this.self.startedAt > session.info.startedAt;
    return this.self.name > session.name;
  }

  /**
   * While joining: copy from a ready peer if there is one. If every peer is
   * joining too (a cluster starting all at once), the oldest node starts the
   * cluster and the others copy from it.
   */
  private decideJoin(): void {
    if (this.phase !== 'joining' || this.copySource !== undefined || this.initiating) return;
    const linked = [...this.sessions.values()].filter(greeted);
    // With minPeers, too few peers: neither join nor start a cluster yet (more may link).
    if (linked.length < this.minPeers) return;
    const source = linked.find((s) => s.ready);
    if (source !== undefined) {
      this.copySource = source;
      this.clusterId = source.hello!.clusterId;
      this.join(source).catch((error: unknown) => {
        this.logger.warn?.(`copying from ${source.name} failed (${String(error)}); looking for another node`);
        this.copySource = undefined;
        this.decideJoin();
      });
      return;
    }
    const oldest = linked.every((s) => s.info.startedAt > this.self.startedAt || (s.info.startedAt === this.self.startedAt && s.name > this.self.name));
    if (linked.length > 0 && oldest) {
      this.initiate({ with: linked.map((s) => s.name) }).catch((error: unknown) => this.logger.error(`${this.self.name} could not start the cluster: ${String(error)}`));
    }
  }

  /**
   * Copies every replicated table from `source`. Pow's rule by default: the
   * cluster's data replaces this node's disk copy. With `keepLocalOnJoin` the
   * disk copy is loaded first, and the states the cluster lacks (or has older)
   * are sent to the cluster afterwards.
   */
  private async join(source: PeerSession): Promise<void> {
    this.logger.log(`${this.self.name} joins the cluster: copying ${this.replicatedTables().length} table(s) from ${source.name}`);
    // Local tables always come from this node's disk; replicated ones only if they are to be merged.
    const tables = this.engine.store.allTables();
    await this.engine.loadPersisted(tables.filter((t) => t.mode === 'local'));
    const local = this.options.keepLocalOnJoin ? await this.engine.loadPersisted(this.replicatedTables()) : new Map<Table, EntryState[]>();
    const unconfirmed = new Map([...local].map(([table, states]) => [table, new Set(states)]));
    // Chunks are not saved one by one while joining: the disk copy is replaced once, at the end.
    await this.pull(source.name, this.replicatedTables().map((t) => t.name), (table, states) => {
      const mine = unconfirmed.get(table);
      if (mine !== undefined && mine.size > 0) {
        for (const state of states) {
          const current = table.current(state.ns, state.key);
          if (current !== undefined && mine.has(current) && compareStates(state, current) >= 0) mine.delete(current);
        }
      }
      this.engine.merge(table, states, { persist: false });
    });
    if (this.phase !== 'joining') return;
    let pushed = 0;
    for (const [table, mine] of unconfirmed) {
      const lacking = [...mine].filter((state) => table.current(state.ns, state.key) === state);
      this.spread(table, lacking);
      pushed += lacking.length;
    }
    // The disk copy now mirrors what this node holds.
    const entries = await this.saveAll();
    this.logger.log(`${this.self.name} joined the cluster: ${entries} entries copied from ${source.name}` + (pushed > 0 ? `, ${pushed} of its own sent to the cluster` : ''));
    this.becomeReady(source.runId, entries);
    // Writes other peers made since this node started, before they were linked to it, may have missed the copy.
    for (const other of this.sessions.values()) if (other !== source && greeted(other) && other.ready) this.catchUp(other, this.self.startedAt);
  }

  /**
   * Replaces the disk copy of every replicated table with what is in memory; returns the entry count.
   * A disk that does not take it (full, failing) leaves the copy to be rewritten once it does.
   */
  async saveAll(): Promise<number> {
    let entries = 0;
    for (const table of this.replicatedTables()) {
      entries += table.size;
      await this.engine.rewrite(table);
    }
    return entries;
  }

  private becomeReady(joinedFrom: string | undefined, entries: number): void {
    if (this.phase !== 'joining') return;
    this.phase = 'ready';
    this.joinedFrom = joinedFrom;
    this.copySource = undefined;
    for (const session of this.sessions.values()) session.send({ t: 'ready', joinedFrom });
    this.subject.next({ type: 'joined', node: this.self.name, from: joinedFrom?.split('#')[0], entries });
    for (const waiter of this.readyWaiters) waiter();
    this.readyWaiters = [];
  }

  /** Links to the members a peer named, and keeps probing them while they are absent. */
  private reach(members: readonly MemberAddress[]): void {
    const addresses: string[] = [];
    for (const member of members) {
      if (member.name === this.self.name || this.sessions.has(member.name)) continue;
      const address = `${member.host.includes(':') ? `[${member.host}]` : member.host}:${member.port}`;
      this.reconnector.remember(member.name, address);
      addresses.push(address);
    }
    this.reconnector.reach(addresses);
  }

  private replicatedTable(name: string): Table | undefined {
    const table = this.engine.store.table(name);
    return table?.mode === 'replicated' ? table : undefined;
  }
}

/** Whether a failed dial means the node answered but refused this one (a setting that differs), not that no one is there. */
function isRefusal(error: unknown): error is TransportError {
  return error instanceof TransportError && ['auth-failed', 'wrong-cluster', 'name-conflict', 'protocol-version', 'protocol-error'].includes(error.code);
}

/** A refusal's reason, with what to do about it when the setting is known. */
function refusalReason(error: TransportError): string {
  const hint = handshakeHint(error.code);
  return hint === undefined ? errorMessage(error) : `${errorMessage(error)}; ${hint}`;
}

/** Resolves true as soon as one of `attempts` resolves, false once all of them failed (or there are none). */
function anyResolves(attempts: readonly Promise<unknown>[]): Promise<boolean> {
  let failed = 0;
  return new Promise((resolve) => {
    if (attempts.length === 0) resolve(false);
    for (const attempt of attempts) attempt.then(() => resolve(true), () => ++failed === attempts.length && resolve(false));
  });
}

/** Whether a session is open and its peer greeted (a closed one may wait for its successor; see `detach`). */
function greeted(session: PeerSession): boolean {
  return session.open && session.hello !== undefined;
}

/** A filter keeping the unexpired states of version `since` and newer. */
function newerThan(since: number, now: number): (state: EntryState) => boolean {
  return (state) => state.version >= since && state.expiresAt > now;
}

/** A filter keeping the live states of the keys with these hashes. */
function withKeys(keys: Float64Array, now: number): (state: EntryState) => boolean {
  const wanted = new KeyHashTable(keys.length);
  for (const key of keys) wanted.set(key, 0);
  return (state) => state.expiresAt > now && wanted.has(keyHash(state.ns, state.key));
}

function downReason(reason: LinkCloseReason): NodeDownReason {
  switch (reason) {
    case 'leave':
    case 'heartbeat-timeout':
    case 'ack-timeout':
    case 'replaced':
    case 'shutdown':
      return reason;
    default:
      return 'connection-lost';
  }
}
