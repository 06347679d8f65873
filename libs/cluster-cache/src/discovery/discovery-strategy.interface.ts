import type { NodeInfo } from '../transport/node-info';
import type { TransportLogger } from '../transport/transport-logger.interface';

/**
 * What a discovery strategy gets when it starts: who this node is, the
 * cluster's secret (to authenticate its own packets, e.g. gossip), a logger,
 * and where to report the nodes it finds.
 * @publicApi
 */
export interface DiscoveryContext {
  /** This node (its `port` is the bound cluster port). */
  readonly self: NodeInfo;
  /** The cluster name. */
  readonly cluster: string;
  /** The cluster cookie, for strategies that authenticate their own traffic. */
  readonly cookie: string;
  readonly logger: TransportLogger;
  /**
   * Reports cluster addresses (`host:port`) the strategy sees. The cluster
   * links to those it is not linked to yet; reporting one again is cheap.
   * Nodes a strategy stops reporting are never dropped while still linked.
   */
  found(addresses: readonly string[]): void;
}

/**
 * A way for nodes to find each other (libcluster's strategies). It yields
 * addresses and nothing else: linking, authentication and data are the
 * cluster's job. Implement it to plug in your own (e.g. a cloud API).
 *
 * @example
 * class ConsulDiscovery implements DiscoveryStrategy {
 *   private timer?: NodeJS.Timeout;
 *   start(ctx: DiscoveryContext) {
 *     this.timer = setInterval(async () => ctx.found(await lookUpNodes()), 5_000);
 *   }
 *   stop() { clearInterval(this.timer); }
 * }
 * // ClusterCacheModule.forRoot({ discovery: [{ strategy: 'custom', use: new ConsulDiscovery() }], ... })
 * @publicApi
 */
export interface DiscoveryStrategy {
  /** Starts looking; may report addresses at once or later, as often as it likes. */
  start(context: DiscoveryContext): void | Promise<void>;
  /** Stops looking and releases every socket and timer. */
  stop(): void | Promise<void>;
}
