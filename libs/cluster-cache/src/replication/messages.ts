import type { FlatStates } from './flat-states';
import type { ClusterShape } from './peer-compatibility';

/** A node as other nodes reach it. */
export interface MemberAddress {
  name: string;
  host: string;
  port: number;
}

/** Replication messages exchanged over an authenticated link. */
export type ReplicationMessage =
  | HelloMessage
  | { t: 'ready'; joinedFrom: string | undefined }
  | { t: 'members'; members: MemberAddress[] }
  | WriteMessage
  | CopyRequestMessage
  | CopyChunkMessage
  | { t: 'copy-end'; id: number }
  | { t: 'call'; id: number; kind: string; body: unknown }
  | { t: 'reply-part'; id: number; body: unknown }
  | { t: 'reply'; id: number; body?: unknown; error?: string };

/**
 * A peer acknowledges at once each time it has applied this many states, so
 * the writer can go on while the peer applies the rest of a burst (the two
 * sides overlap instead of taking turns); the writer sends a burst as messages
 * of about this many states, so the peer has places to acknowledge at.
 */
export const STATES_PER_ACK = 32;

/** A request for a copy of `tables`, answered with `copy-chunk`s and a `copy-end` of the same `id`. */
export interface CopyRequestMessage {
  t: 'copy-request';
  id: number;
  tables: string[];
  /** Only the keys with these hashes (Float64 bytes, see wire-arrays.ts). */
  keys?: Uint8Array;
  /** Only states of this version or newer. */
  since?: number;
}

/** Part of a copy (`copy-request`): states of one table, flat (see flat-states.ts). */
export interface CopyChunkMessage {
  t: 'copy-chunk';
  id: number;
  table: string;
  states: FlatStates;
}

/** Local writes, applied in order, then acknowledged with `id` (acks are cumulative). */
export interface WriteMessage {
  t: 'write';
  id: number;
  batches: WriteBatch[];
  /**
   * 1 on every part but the last of a write message too large for one frame
   * (see message-split.ts): applied at once, acknowledged with the last part.
   */
  more?: 1;
}

/** The states of one or more writes to one table: `[table, states]`, the states flat (see flat-states.ts). */
export type WriteBatch = [string, FlatStates];

/** What a node tells a peer first on every new link. */
export interface HelloMessage {
  t: 'hello';
  /** Identity of the cluster this node belongs to (made by the node that started it). */
  clusterId: string;
  /** Whether the node holds the cluster's data (false while it is still joining). */
  ready: boolean;
  /** `name#incarnation` of the node it copied its data from when it joined, if it did. */
  joinedFrom: string | undefined;
  /** The nodes it is linked to, so the mesh closes itself. */
  members: MemberAddress[];
  /** Its tables with their modes, and its Unsplit strategy: peers that differ refuse each other. */
  shape: ClusterShape;
}
