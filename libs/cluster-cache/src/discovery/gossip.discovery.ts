import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import { logSafe } from '../util/log-safe';
import type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
import { GossipCodec, GossipDropReason, Heartbeat } from './gossip-packet';
import { checkGossip, DISCOVERY_DEFAULTS, formatAddress } from './validate-discovery';
import type { GossipDiscoveryOptions } from './discovery-options';

/** Counters of a {@link GossipDiscovery}: what it sent, and what it received, kept or dropped. @publicApi */
export interface GossipStats {
  /** Heartbeats sent. */
  sent: number;
  /** Heartbeats that could not be sent (e.g. no route). */
  sendErrors: number;
  /** Packets received on the port, valid or not. */
  received: number;
  /** Heartbeats of other nodes of the cluster that were accepted (and reported). */
  accepted: number;
  /** This node's own heartbeats, looped back and ignored. */
  own: number;
  /** Not a heartbeat, truncated, garbage or an unknown version. */
  malformed: number;
  /** Bad MAC or tag: another cookie or secret, tampered, or unencrypted where a secret is set. */
  unauthenticated: number;
  /** Authentic-looking heartbeats of another cluster. */
  foreign: number;
  /** Authentic heartbeats that were replayed: too old, or a sequence number already seen. */
  replayed: number;
}

/** How many senders are remembered for replay protection at most. */
const MAX_SENDERS = 10_000;

/**
 * libcluster's `Gossip` strategy: every node sends a heartbeat with its name,
 * cluster address and incarnation to a UDP multicast group (or a broadcast
 * address) every `interval`, and reports the addresses it hears.
 *
 * Heartbeats are always authenticated (HMAC-SHA256 with a key derived from the
 * cookie and cluster name: scrypt, then HKDF) and, with `secret`, encrypted with
 * AES-256-GCM.
 * Stale or repeated heartbeats (timestamp outside `replayWindow`, sequence not
 * newer than the last one of that sender's incarnation) are replays. Every
 * dropped packet is counted in {@link stats} and logged at debug level; none
 * can crash the node.
 *
 * Several nodes on one host share the port (`reuseAddr`).
 * @publicApi
 */
export class GossipDiscovery implements DiscoveryStrategy {
  private readonly options: Required<Omit<GossipDiscoveryOptions, 'strategy' | 'interface' | 'secret'>> & Pick<GossipDiscoveryOptions, 'interface' | 'secret'>;
  private readonly counters: GossipStats = { sent: 0, sendErrors: 0, received: 0, accepted: 0, own: 0, malformed: 0, unauthenticated: 0, foreign: 0, replayed: 0 };
  /** Last sequence number seen per sender incarnation, and when (local clock). */
  private readonly senders = new Map<string, { sequence: number; seenAt: number }>();
  private lastPrune = 0;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private context: DiscoveryContext | undefined;
  private codec: GossipCodec | undefined;
  private sequence = 0;
  private lastSendError: string | undefined;

  /** @param options checked like the `discovery` option (throws `InvalidOptionError`). */
  constructor(options: Omit<GossipDiscoveryOptions, 'strategy'> = {}) {
    const checked = checkGossip({ ...options, strategy: 'gossip' }, 'gossip');
    const d = DISCOVERY_DEFAULTS.gossip;
    this.options = {
      port: checked.port ?? d.port,
      group: checked.group ?? d.group,
      ttl: checked.ttl ?? d.ttl,
      interface: checked.interface,
      broadcastOnly: checked.broadcastOnly ?? false,
      broadcastAddress: checked.broadcastAddress ?? d.broadcastAddress,
      interval: checked.interval ?? d.interval,
      secret: checked.secret,
      replayWindow: checked.replayWindow ?? d.replayWindow,
    };
  }

  /** A copy of the counters (sent, received, accepted and dropped by reason). */
  stats(): GossipStats {
    return { ...this.counters };
  }

  /** Where heartbeats go: `group:port` or `broadcastAddress:port`. */
  get destination(): string {
    return `${this.options.broadcastOnly ? this.options.broadcastAddress : this.options.group}:${this.options.port}`;
  }

  /**
   * Binds the UDP socket, joins the group, sends a first heartbeat and then
   * one every `interval`. Rejects with an explanation when the socket cannot
   * be set up (port taken without reuse, no multicast route, bad interface).
   */
  async start(context: DiscoveryContext): Promise<void> {
    if (this.socket !== undefined) throw new Error('gossip discovery is already started');
    this.context = context;
    // The keys come from the cluster key: scrypt, off the event loop, once per process.
    this.codec = await GossipCodec.forCookie(context.cookie, context.cluster, this.options.secret);
    const { port, group, ttl, broadcastOnly } = this.options;
    const iface = this.options.interface;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    // Multicast: bind to the group, so only its datagrams arrive. Broadcast: any address.
    const bindAddress = broadcastOnly || process.platform === 'win32' ? '0.0.0.0' : group;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, bindAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (broadcastOnly) {
        socket.setBroadcast(true);
      } else {
        socket.setMulticastTTL(ttl);
        socket.setMulticastLoopback(true);
        if (iface !== undefined && iface !== '0.0.0.0') socket.setMulticastInterface(iface);
        socket.addMembership(group, iface);
      }
    } catch (error) {
      socket.close();
      throw new Error(this.explainSetupError(error as NodeJS.ErrnoException, bindAddress));
    }
    socket.on('message', (packet, rinfo) => this.receive(packet, rinfo));
    socket.on('error', (error) => context.logger.warn(`gossip discovery: socket error on ${this.destination}: ${error.message}`));
    socket.unref();
    this.socket = socket;
    context.logger.log(
      `gossip discovery: ${broadcastOnly ? 'broadcast' : 'multicast'} heartbeats to ${this.destination}` +
        (broadcastOnly ? '' : ` (ttl ${ttl})`) +
        ` on ${iface ?? 'the default interface'}, every ${this.options.interval} ms, ${this.options.secret ? 'encrypted (AES-256-GCM)' : 'signed (HMAC-SHA256)'}`,
    );
    this.beat();
  }

  /** Stops the heartbeats and closes the socket. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private explainSetupError(error: NodeJS.ErrnoException, bindAddress: string): string {
    const { port, group, broadcastOnly } = this.options;
    const iface = this.options.interface;
    const where = broadcastOnly ? `UDP port ${port}` : `multicast group ${group} port ${port}`;
    const hint =
      error.code === 'ENODEV' || error.code === 'EADDRNOTAVAIL' || error.code === 'ENETUNREACH' || error.code === 'EINVAL'
        ? iface === undefined
          ? '; set the gossip `interface` option to this host\'s IPv4 address (e.g. "127.0.0.1" on loopback): without it the system picks the interface of the default route, and there may be none'
          : `; is ${iface} an address of this host with multicast enabled?`
        : error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? `; another program holds ${bindAddress}:${port} without sharing it: pick another gossip \`port\``
          : '';
    return `gossip discovery cannot use ${where}${iface ? ` on ${iface}` : ''}: ${error.message}${hint}`;
  }

  private beat(): void {
    if (this.socket === undefined) return;
    this.send();
    const jitter = 0.8 + Math.random() * 0.4;
    this.timer = setTimeout(() => this.beat(), Math.max(1, Math.round(this.options.interval * jitter)));
    this.timer.unref();
  }

  private send(): void {
    const socket = this.socket;
    const context = this.context!;
    if (socket === undefined) return;
    this.sequence = (this.sequence + 1) >>> 0;
    const self = context.self;
    const packet = this.codec!.encode({
      cluster: context.cluster,
      node: self.name,
      host: self.host,
      port: self.port,
      incarnation: self.incarnation,
      timestamp: Date.now(),
      sequence: this.sequence,
    });
    const [address, port] = this.options.broadcastOnly ? [this.options.broadcastAddress, this.options.port] : [this.options.group, this.options.port];
    socket.send(packet, port, address, (error) => {
      if (error === null || error === undefined) {
        this.counters.sent++;
        if (this.lastSendError !== undefined) context.logger.log(`gossip discovery: heartbeats to ${this.destination} are sent again`);
        this.lastSendError = undefined;
        return;
      }
      this.counters.sendErrors++;
      const code = (error as NodeJS.ErrnoException).code ?? error.message;
      if (code !== this.lastSendError && this.socket !== undefined) {
        context.logger.warn(`gossip discovery: cannot send heartbeats to ${this.destination}: ${error.message}; retrying every ${this.options.interval} ms`);
      }
      this.lastSendError = code;
    });
  }

  private receive(packet: Buffer, rinfo: RemoteInfo): void {
    this.counters.received++;
    try {
      const result = this.codec!.decode(packet);
      if (!result.ok) return this.drop(result.reason, rinfo, result.detail);
      this.accept(result.heartbeat, rinfo);
    } catch (error) {
      this.drop('malformed', rinfo, `failed to process (${logSafe(error)})`);
    }
  }

  private accept(heartbeat: Heartbeat, rinfo: RemoteInfo): void {
    const context = this.context!;
    const self = context.self;
    if (heartbeat.node === self.name && heartbeat.incarnation === self.incarnation) {
      this.counters.own++;
      return;
    }
    const now = Date.now();
    const window = this.options.replayWindow;
    if (Math.abs(now - heartbeat.timestamp) > window) {
      return this.drop('replayed', rinfo, `timestamp ${new Date(heartbeat.timestamp).toISOString()} is outside the ${window} ms window (replayed, or clocks apart)`);
    }
    const sender = `${heartbeat.node}#${heartbeat.incarnation}`;
    const last = this.senders.get(sender);
    if (last !== undefined && heartbeat.sequence <= last.sequence) {
      return this.drop('replayed', rinfo, `sequence ${heartbeat.sequence} of ${logSafe(heartbeat.node)} already seen (last ${last.sequence})`);
    }
    this.senders.delete(sender); // re-inserted last: the map stays ordered by when each sender was heard
    this.senders.set(sender, { sequence: heartbeat.sequence, seenAt: now });
    this.prune(now);
    this.counters.accepted++;
    const host = heartbeat.host === '0.0.0.0' || heartbeat.host === '::' ? rinfo.address : heartbeat.host;
    context.found([formatAddress(host, heartbeat.port)]);
  }

  /** Forgets senders not heard for longer than any replay could still pass the timestamp check. */
  private prune(now: number): void {
    const horizon = 2 * this.options.replayWindow + 1_000;
    if (now - this.lastPrune < this.options.replayWindow && this.senders.size <= MAX_SENDERS) return;
    this.lastPrune = now;
    for (const [sender, { seenAt }] of this.senders) if (now - seenAt > horizon) this.senders.delete(sender);
    // Only authentic senders are remembered; past the cap, forget the least recently heard.
    while (this.senders.size > MAX_SENDERS) this.senders.delete(this.senders.keys().next().value!);
  }

  private drop(reason: GossipDropReason | 'replayed', rinfo: RemoteInfo, detail: string): void {
    this.counters[reason]++;
    this.context?.logger.debug(`gossip discovery: dropped a ${reason} packet from ${rinfo.address}:${rinfo.port}: ${detail}`);
  }
}
