/**
 * Discovery strategies: how nodes find each other. Re-exported by the
 * library's public entry point.
 */
export type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
export { StaticDiscovery } from './static.discovery';
export type { StaticDiscoveryOptions } from './static.discovery';
export { GossipDiscovery } from './gossip.discovery';
export type { GossipDiscoveryOptions, GossipStats } from './gossip.discovery';
export { HostsFileDiscovery, parseHostsFile } from './hosts-file.discovery';
export type { HostsFileDiscoveryOptions, HostsFileEntry, HostsFileProblem, ParsedHostsFile } from './hosts-file.discovery';
export { DnsDiscovery } from './dns.discovery';
export type { DnsDiscoveryOptions } from './dns.discovery';
export type { CustomDiscoveryOptions } from './custom.discovery';
export { DISCOVERY_DEFAULTS } from './validate-discovery';
