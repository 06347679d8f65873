import type { DiscoveryStrategy } from '../discovery/discovery-strategy.interface';
import type { ClusterShape } from './peer-compatibility';

/** How a cluster node behaves. */
export interface ClusterNodeOptions {
  /** How long `start()` waits to hold the cluster's data, in ms. */
  joinTimeout: number;
  /** What two clusters that never met do: merge their data, or reset the younger (Pow). */
  autoInitialize: 'merge' | 'reset-younger';
  /** A peer that does not acknowledge a write for this long is disconnected. */
  ackTimeout: number;
  /** Addresses (`host:port`) to reach at start and keep reaching (extraNodes, static discovery). */
  seeds: () => Promise<string[]>;
  /** How often the seeds are reached again, and the first wait before retrying one that did not answer, in ms. */
  reconnectInterval: number;
  /** Discovery strategies to run (they report addresses; this node links to them). */
  discovery: DiscoveryStrategy[];
  /** How long start waits for discovery to report nodes before deciding to join or start a cluster, in ms. */
  discoveryGrace: number;
  /** The cluster secret, handed to discovery strategies that authenticate their packets. */
  cookie: string;
  /** The cluster name. */
  cluster: string;
  /**
   * On a restart into a running cluster, keep this node's disk copy and merge
   * it both ways (nothing acknowledged is lost), instead of Pow's "the cluster
   * wins" (the disk copy is replaced by the cluster's data).
   */
  keepLocalOnJoin: boolean;
  /** The Unsplit strategy (`'off'` without Unsplit): peers must have the same. */
  unsplit: ClusterShape['unsplit'];
  /**
   * Linked peers needed before this node becomes ready: with fewer it neither
   * joins nor starts a cluster (`minPeers`). Default 0.
   */
  minPeers?: number;
}
