import type { DiscoveryStrategy } from './discovery-strategy.interface';

/**
 * One discovery strategy (see docs/discovery.md): `static` (a list of
 * addresses), `gossip` (UDP multicast/broadcast heartbeats), `hosts-file`
 * (Erlang's `.hosts.erlang` + a port range), `dns` (A/AAAA/SRV polling) or
 * `custom` (your own `DiscoveryStrategy`). Several may run at once.
 * @publicApi
 */
export type DiscoveryOptions =
  | StaticDiscoveryOptions
  | GossipDiscoveryOptions
  | HostsFileDiscoveryOptions
  | DnsDiscoveryOptions
  | CustomDiscoveryOptions;

/** Options of the `static` strategy. @publicApi */
export interface StaticDiscoveryOptions {
  strategy: 'static';
  /** Cluster addresses (`host:port`) of the nodes. */
  nodes: string[];
  /** How often the list is reported again (nodes that come back are relinked), in ms. Default 2000. */
  interval?: number;
}

/**
 * Options of the `gossip` strategy: UDP multicast (or broadcast) heartbeats,
 * with libcluster's defaults. @publicApi
 */
export interface GossipDiscoveryOptions {
  strategy: 'gossip';
  /** UDP port of the heartbeats; every node of the cluster uses the same. Default 45892. */
  port?: number;
  /** IPv4 multicast group. Default `233.252.1.32`. */
  group?: string;
  /** Multicast TTL: 1 (default) keeps heartbeats on the local segment. */
  ttl?: number;
  /**
   * IPv4 address of the local interface to send and receive on, e.g.
   * `127.0.0.1` on loopback or the address of `eth0`. Default: the system's
   * choice, which fails on hosts or namespaces without a default route.
   */
  interface?: string;
  /** Send to `broadcastAddress` instead of the multicast group (networks without multicast). Default false. */
  broadcastOnly?: boolean;
  /** Where broadcast heartbeats go, e.g. `10.0.0.255`. Default `255.255.255.255`. Only with `broadcastOnly`. */
  broadcastAddress?: string;
  /** Time between two heartbeats, in ms (±20% jitter). Default 1500. */
  interval?: number;
  /**
   * Encrypts heartbeats (AES-256-GCM, key derived with HKDF from this secret,
   * the cookie and the cluster name). Without it they are signed with a key
   * derived from the cookie (scrypt, then HKDF). At least 16 characters.
   */
  secret?: string;
  /** Heartbeats older (or further in the future) than this, by their timestamp, are dropped as replays, in ms. Default 30000. */
  replayWindow?: number;
}

/** Options of the `hosts-file` strategy (Erlang's `.hosts.erlang` + epmd). @publicApi */
export interface HostsFileDiscoveryOptions {
  strategy: 'hosts-file';
  /** The hosts file. Default `.hosts.erlang` in the working directory. */
  path?: string;
  /** Cluster ports probed on every host, `[from, to]` inclusive. Default [14000, 14010]. */
  ports?: [number, number];
  /** How often the file is read again and new hosts/ports are probed, in ms. Default 5000. */
  interval?: number;
  /** How long a probe waits for a TCP connection, in ms. Default 500. */
  connectTimeout?: number;
  /** How many probes run at once. Default 16. */
  concurrency?: number;
}

/**
 * Options of the `dns` strategy: libcluster's `DNSPoll` / `Kubernetes.DNS`
 * (A/AAAA records and a port) and `Kubernetes.DNSSRV` (SRV records). @publicApi
 */
export interface DnsDiscoveryOptions {
  strategy: 'dns';
  /** The name to resolve, e.g. a Kubernetes headless service `my-app.default.svc.cluster.local`. */
  name: string;
  /** Record type. `A` (default) and `AAAA` need `port`; `SRV` records carry host and port. */
  type?: 'A' | 'AAAA' | 'SRV';
  /** Cluster port of the nodes behind an A/AAAA name (required for A/AAAA, not allowed for SRV). */
  port?: number;
  /** How often the name is resolved, in ms. Default 5000. */
  interval?: number;
  /** DNS servers (`ip` or `ip:port`, IPv6 as `[ip]:port`). Default: the system's. */
  servers?: string[];
  /** How long one query waits for an answer, in ms (tried twice). Default 2000. */
  timeout?: number;
}

/**
 * A discovery strategy of your own: any object implementing
 * {@link DiscoveryStrategy} (a cloud API, a service registry, a database
 * table…). It is started with the cluster node, may report addresses with
 * `context.found()` whenever it likes, and is stopped on shutdown.
 *
 * The built-in strategies can be passed this way as well, to keep a handle on
 * them (e.g. `use: new GossipDiscovery({ interface: '10.0.0.5' })` and read its
 * `stats()`).
 *
 * @example
 * class ConsulDiscovery implements DiscoveryStrategy {
 *   private timer?: NodeJS.Timeout;
 *   start(context: DiscoveryContext) {
 *     const poll = async () => context.found(await consulHealthyNodes('my-app'));
 *     void poll();
 *     this.timer = setInterval(poll, 5_000);
 *   }
 *   stop() {
 *     clearInterval(this.timer);
 *   }
 * }
 * ClusterCacheModule.forRoot({ cookie, discovery: [{ strategy: 'custom', use: new ConsulDiscovery() }] });
 * @publicApi
 */
export interface CustomDiscoveryOptions {
  strategy: 'custom';
  /** The strategy instance (checked at start: it must have `start` and `stop` methods). */
  use: DiscoveryStrategy;
}
