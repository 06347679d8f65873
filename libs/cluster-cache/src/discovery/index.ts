/**
 * Discovery strategies: how nodes find each other. Re-exported by the
 * library's public entry point.
 */
export type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
export { StaticDiscovery } from './static.discovery';
export { GossipDiscovery } from './gossip.discovery';
export type { GossipStats } from './gossip.discovery';
export { HostsFileDiscovery } from './hosts-file.discovery';
export { parseHostsFile } from './hosts-file-parser';
export type { HostsFileEntry, HostsFileProblem, ParsedHostsFile } from './hosts-file-parser';
export { DnsDiscovery } from './dns.discovery';
export type {
  DiscoveryOptions,
  StaticDiscoveryOptions,
  GossipDiscoveryOptions,
  HostsFileDiscoveryOptions,
  DnsDiscoveryOptions,
  CustomDiscoveryOptions,
} from './discovery-options';
export { DISCOVERY_DEFAULTS } from './validate-discovery';
