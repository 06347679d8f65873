import type { DiscoveryStrategy } from './discovery-strategy.interface';

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
