import type { DiscoveryOptions } from './discovery-options';
import type { DiscoveryStrategy } from './discovery-strategy.interface';
import { DnsDiscovery } from './dns.discovery';
import { GossipDiscovery } from './gossip.discovery';
import { HostsFileDiscovery } from './hosts-file.discovery';
import { StaticDiscovery } from './static.discovery';

/** Makes the strategies named in the (validated) `discovery` option. */
export function createDiscovery(options: readonly DiscoveryOptions[]): DiscoveryStrategy[] {
  return options.map((entry): DiscoveryStrategy => {
    switch (entry.strategy) {
      case 'static':
        return new StaticDiscovery(entry);
      case 'gossip':
        return new GossipDiscovery(withoutStrategy(entry));
      case 'hosts-file':
        return new HostsFileDiscovery(withoutStrategy(entry));
      case 'dns':
        return new DnsDiscovery(withoutStrategy(entry));
      case 'custom':
        return entry.use;
      default:
        throw new Error(`unknown discovery strategy ${JSON.stringify((entry as { strategy?: unknown }).strategy)}`);
    }
  });
}

function withoutStrategy<T extends { strategy: string }>(entry: T): Omit<T, 'strategy'> {
  const { strategy: _strategy, ...rest } = entry;
  return rest;
}
