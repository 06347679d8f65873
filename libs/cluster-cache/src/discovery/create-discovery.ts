import type { DiscoveryOptions } from '../options/cluster-cache-options.interface';
import type { DiscoveryStrategy } from './discovery-strategy.interface';
import { StaticDiscovery } from './static.discovery';

/** Makes the strategies named in the `discovery` option. */
export function createDiscovery(options: readonly DiscoveryOptions[]): DiscoveryStrategy[] {
  return options.map((entry) => {
    switch (entry.strategy) {
      case 'static':
        return new StaticDiscovery(entry);
      case 'custom':
        return entry.use as DiscoveryStrategy;
      default:
        throw new Error(`discovery strategy "${entry.strategy}" is not available yet`);
    }
  });
}
