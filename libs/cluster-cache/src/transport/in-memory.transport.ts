import { randomBytes } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import type { NodeInfo } from './node-info';
import type {
  AckHandler,
  LinkCloseHandler,
  LinkCloseReason,
  LinkDirection,
  MessageHandler,
  PeerLink,
} from './peer-link.interface';
import { errorMessage, TransportError } from './transport.error';
import type { Transport } from './transport.interface';
import { LinkHandlers } from './link-handlers';
import type { TransportLogger } from './transport-logger.interface';

// Records as on the wire, so messages decode to the same values as over TCP; without
// `sequential` every message is self-contained and one shared pair serves every link.
const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true, copyBuffers: true });

/**
 * A simulated network for {@link InMemoryTransport}s, for fast protocol tests without
 * sockets: nodes reach each other by `host:port`, and pairs of nodes can be partitioned.
 */
export class InMemoryNetwork {
  private readonly members = new Set<InMemoryTransport>();
  private readonly listeners = new Map<string, InMemoryTransport>();
  private readonly cuts = new Set<string>();
  private nextPort = 40_000;

  /**
   * Cuts nodes `a` and `b` (by name) apart: their links close as `'heartbeat-timeout'` on
   * both sides, messages in flight are lost, and they cannot connect until {@link heal}.
   */
  partition(a: string, b: string): void {
    this.cuts.add(pairKey(a, b));
    for (const member of this.members) {
      if (member.self.name === a) member.sever(b);
      if (member.self.name === b) member.sever(a);
    }
  }

  /** Removes every partition. Links are not restored: nodes reconnect as over TCP. */
  heal(): void {
    this.cuts.clear();
  }

  /** Whether nodes `a` and `b` (by name) are partitioned. */
  isPartitioned(a: string, b: string): boolean {
    return this.cuts.has(pairKey(a, b));
  }

  /** @internal Adds a transport to the network. */
  join(transport: InMemoryTransport): void {
    this.members.add(transport);
  }

  /** @internal Binds a transport's address; port 0 gets a free one. */
  bind(transport: InMemoryTransport): void {
    const { self } = transport;
    if (self.port === 0) self.port = this.nextPort++;
    const address = `${self.host}:${self.port}`;
    if (this.listeners.has(address)) throw new Error(`address ${address} is already in use`);
    this.listeners.set(address, transport);
  }

  /** @internal Removes a transport and its address from the network. */
  leave(transport: InMemoryTransport): void {
    this.members.delete(transport);
    const address = `${transport.self.host}:${transport.self.port}`;
    if (this.listeners.get(address) === transport) this.listeners.delete(address);
  }

  /** @internal The transport listening on `host:port`. */
  lookup(host: string, port: number): InMemoryTransport | undefined {
    return this.listeners.get(`${host}:${port}`);
  }
}

/**
 * A {@link Transport} on an {@link InMemoryNetwork}, with the link semantics of
 * `TcpTransport`: ordered asynchronous delivery of copies (a msgpack round trip), a
 * `leave` on close, a new incarnation replacing the old link. It has no handshake,
 * heartbeats or byte-level failures; {@link InMemoryNetwork.partition} and {@link crash}
 * stand in for network and process failures.
 */
export class InMemoryTransport implements Transport {
  private readonly linksByName = new Map<string, InMemoryPeerLink>();
  private readonly linkHandlers = new Set<(link: PeerLink) => void>();
  private closed = false;

  constructor(
    readonly self: NodeInfo,
    private readonly network: InMemoryNetwork,
    private readonly logger: TransportLogger = console,
  ) {
    network.join(this);
  }

  async listen(): Promise<void> {
    if (this.closed) throw shutdownError();
    this.network.bind(this);
  }

  async connect(host: string, port: number): Promise<PeerLink> {
    if (this.closed) throw shutdownError();
    const target = this.network.lookup(host, port);
    if (!target) throw new TransportError('connect-failed', `nothing listens on ${host}:${port}`);
    if (target.self.name === this.self.name) {
      throw new TransportError('name-conflict', `${host}:${port} uses this node's own name`);
    }
    if (this.network.isPartitioned(this.self.name, target.self.name)) {
      throw new TransportError('connect-timeout', `${host}:${port} is unreachable (partitioned)`);
    }
    const existing = this.linksByName.get(target.self.name);
    if (existing?.peer.incarnation === target.self.incarnation) return existing;
    const id = randomBytes(16).toString('hex');
    const outbound = new InMemoryPeerLink(id, { ...target.self }, 'outbound', this.logger);
    const inbound = new InMemoryPeerLink(id, { ...this.self }, 'inbound', target.logger);
    outbound.remote = inbound;
    inbound.remote = outbound;
    target.adopt(inbound);
    this.adopt(outbound);
    return outbound;
  }

  links(): PeerLink[] {
    return [...this.linksByName.values()];
  }

  onLink(handler: (link: PeerLink) => void): () => void {
    this.linkHandlers.add(handler);
    return () => this.linkHandlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of [...this.linksByName.values()]) link.close('shutdown');
    this.network.leave(this);
  }

  /**
   * Simulates `kill -9`: the node vanishes without a `leave`. Its peers see `'closed'`;
   * its own handlers are not called.
   */
  crash(): void {
    this.closed = true;
    this.linkHandlers.clear();
    for (const link of [...this.linksByName.values()]) link.crash();
    this.linksByName.clear();
    this.network.leave(this);
  }

  /** @internal Closes the link to `peerName` as a partition would. */
  sever(peerName: string): void {
    this.linksByName.get(peerName)?.sever();
  }

  /** @internal Registers a new link, replacing one to an older incarnation of its peer. */
  adopt(link: InMemoryPeerLink): void {
    const { name, incarnation } = link.peer;
    const current = this.linksByName.get(name);
    this.linksByName.set(name, link);
    link.onClose(() => {
      if (this.linksByName.get(name) === link) this.linksByName.delete(name);
    });
    for (const handler of this.linkHandlers) {
      try {
        handler(link);
      } catch (error) {
        this.logger.error(`Link handler threw: ${errorMessage(error)}`);
      }
    }
    // As over TCP: the old link closes after its successor is announced.
    current?.close(current.peer.incarnation === incarnation ? 'duplicate' : 'replaced');
  }
}

/** What the other end of a link sees when this end closes for `reason`. */
function remoteReason(reason: LinkCloseReason): LinkCloseReason {
  if (reason === 'leave' || reason === 'shutdown') return 'leave';
  return reason === 'duplicate' ? 'duplicate' : 'closed';
}

/** One end of an in-memory link. */
class InMemoryPeerLink implements PeerLink {
  /** The other end. */
  remote!: InMemoryPeerLink;

  /** Encoded messages and acks (their id), then possibly the reason the other end closed. */
  private inbox: Array<Buffer | number | LinkCloseReason> = [];
  private inboxBytes = 0;
  private delivery?: NodeJS.Immediate;
  private readonly handlers: LinkHandlers;

  constructor(
    readonly id: string,
    readonly peer: NodeInfo,
    readonly direction: LinkDirection,
    logger: TransportLogger,
  ) {
    this.handlers = new LinkHandlers(peer.name, logger);
  }

  get closeReason(): LinkCloseReason | undefined {
    return this.handlers.reason;
  }

  private get reason(): LinkCloseReason | undefined {
    return this.handlers.reason;
  }

  get bufferedBytes(): number {
    return this.remote.inboxBytes;
  }

  send(message: unknown): boolean {
    if (this.reason) return false;
    let data: Buffer;
    try {
      data = packr.pack(message);
    } catch (error) {
      throw new TransportError('encode-failed', `cannot encode message: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    this.remote.enqueue(data);
    return true;
  }

  sendShared(message: object): boolean {
    return this.send(message);
  }

  sendAck(id: number): boolean {
    if (this.reason) return false;
    this.remote.enqueue(id);
    return true;
  }

  onAck(handler: AckHandler): () => void {
    return this.handlers.onAck(handler);
  }

  onMessage(handler: MessageHandler): () => void {
    return this.handlers.onMessage(handler);
  }

  onClose(handler: LinkCloseHandler): () => void {
    return this.handlers.onClose(handler);
  }

  close(reason: LinkCloseReason = 'closed'): void {
    if (this.reason) return;
    this.remote.enqueue(remoteReason(reason));
    this.finish(reason);
  }

  /** Both ends fail at once and what is in flight is lost, as in a partition. */
  sever(): void {
    this.finish('heartbeat-timeout');
    this.remote.finish('heartbeat-timeout');
  }

  /** This end vanishes silently; the other end sees `'closed'` after what is in flight. */
  crash(): void {
    this.handlers.forget();
    this.remote.enqueue('closed');
    this.finish('closed');
  }

  private enqueue(item: Buffer | number | LinkCloseReason): void {
    if (this.reason) return;
    this.inbox.push(item);
    if (typeof item === 'object') this.inboxBytes += item.length;
    this.delivery ??= setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.delivery = undefined;
    const items = this.inbox;
    this.inbox = [];
    this.inboxBytes = 0;
    for (const item of items) {
      if (this.reason) return;
      if (typeof item === 'string') this.finish(item);
      else if (typeof item === 'number') this.handlers.deliverAck(item);
      else this.handlers.deliver(unpackr.unpack(item));
    }
  }

  private finish(reason: LinkCloseReason): void {
    this.handlers.close(reason, () => {
      clearImmediate(this.delivery);
      this.inbox = [];
      this.inboxBytes = 0;
    });
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

function shutdownError(): TransportError {
  return new TransportError('shutdown', 'the transport is closed');
}
