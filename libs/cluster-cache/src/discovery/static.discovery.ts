import type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
import type { StaticDiscoveryOptions } from './discovery-options';

/**
 * A fixed list of node addresses (libcluster's `Epmd` strategy). The list is
 * reported again every `interval`, so a node that comes back is relinked; the
 * cluster backs off from addresses that keep failing.
 */
export class StaticDiscovery implements DiscoveryStrategy {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StaticDiscoveryOptions) {}

  start(context: DiscoveryContext): void {
    const report = () => context.found(this.options.nodes);
    report();
    this.timer = setInterval(report, this.options.interval ?? 2000).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
