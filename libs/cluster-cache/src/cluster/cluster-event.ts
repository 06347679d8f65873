/** Why a peer went away. @publicApi */
export type NodeDownReason = 'leave' | 'heartbeat-timeout' | 'ack-timeout' | 'connection-lost' | 'disconnected' | 'replaced' | 'shutdown';

/**
 * What `ClusterService.events$` emits. `node` is always the other node's name,
 * except in `joined`, which is about this node. The mesh emits the node and
 * heal events; the Redis backend emits `backend_up` and `backend_down`.
 * @publicApi
 */
export type ClusterEvent =
  | { type: 'nodeup'; node: string; address: string }
  | { type: 'nodedown'; node: string; reason: NodeDownReason }
  /** This node holds the cluster's data: copied from `from`, or initiated the cluster (`from` undefined). */
  | { type: 'joined'; node: string; from: string | undefined; entries: number }
  /** Two clusters that had never met found each other and merged (or one was reset). */
  | { type: 'clusters_merged'; node: string; mode: 'merge' | 'reset-younger' }
  /**
   * A peer that stayed up while disconnected is seen again: data may have
   * diverged during the split (Mnesia's `inconsistent_database`).
   */
  | { type: 'inconsistent_database'; context: 'running_partitioned_network' | 'starting_partitioned_network'; node: string }
  | { type: 'healed'; node: string; strategy: 'merge' | 'oldest-wins'; entries: number }
  | { type: 'heal_failed'; node: string; reason: string }
  /** The Redis backend is reachable and ready (at start, and again after an outage). */
  | { type: 'backend_up'; backend: 'redis'; address: string }
  /** The Redis backend was lost: calls fail with `BackendUnavailableError` until `backend_up`. */
  | { type: 'backend_down'; backend: 'redis'; address: string; reason: string };

/** The `type` of a cluster event. @publicApi */
export type ClusterEventType = ClusterEvent['type'];
