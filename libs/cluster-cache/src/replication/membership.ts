import type { NodeDownReason } from '../cluster/cluster-event';
import type { NodeInfo } from '../transport/node-info';
import type { LinkCloseReason } from '../transport/peer-link.interface';
import type { MemberAddress } from './messages';
import type { PeerSession } from './peer-session';

/** A peer's latest run this node was linked to, and whether contact with it was lost since. */
export interface PeerRun {
  run: string;
  /** A link that failed, not one replaced by a duplicate. */
  lost: boolean;
}

/**
 * Who this node is linked to: one session per peer, each peer's latest run
 * (to tell a partition from a restart, and a partition from a dial race), the
 * peers refused for settings that differ, and the peers seen again after a
 * split and not healed yet (not part of this node's island).
 */
export class Membership {
  /** The newest link to each peer, by name (a closed one may wait for its successor; see `ClusterNode.detach`). */
  readonly sessions = new Map<string, PeerSession>();
  readonly runs = new Map<string, PeerRun>();
  /** Why peers were refused (incompatible settings), by name, until one of them links. */
  readonly refusals = new Map<string, string>();
  /** Peers seen again after a partition, not healed yet. */
  readonly partitioned = new Set<string>();

  /** The sessions whose peer is linked and greeted. */
  greeted(): PeerSession[] {
    return [...this.sessions.values()].filter(greeted);
  }

  /** The peers linked right now. */
  peers(): NodeInfo[] {
    return this.greeted().map((s) => s.info);
  }

  /** The linked and greeted session of `name`, if any. */
  linked(name: string): PeerSession | undefined {
    const session = this.sessions.get(name);
    return session !== undefined && greeted(session) ? session : undefined;
  }

  /** The cluster addresses (`host:port`) of every session, greeted or not. */
  linkedAddresses(): Set<string> {
    return new Set([...this.sessions.values()].map((s) => `${s.info.host}:${s.info.port}`));
  }

  /** Every session's peer, as other nodes reach it (told to peers so the mesh closes itself). */
  addresses(): MemberAddress[] {
    return [...this.sessions.values()].map((s) => ({ name: s.info.name, host: s.info.host, port: s.info.port }));
  }

  /** `self` and the linked peers it has not been partitioned from. */
  island(self: string): string[] {
    return [self, ...this.peers().map((p) => p.name).filter((name) => !this.partitioned.has(name))];
  }

  /**
   * Whether a ready peer of this cluster got its data from a node this one is
   * linked to (or is), or from this node's own source (`ownRun`, `joinedFrom`).
   */
  sameComponent(session: PeerSession, ownRun: string, joinedFrom: string | undefined): boolean {
    const linked = (run: string | undefined) => run !== undefined && (run === ownRun || [...this.sessions.values()].some((s) => s.runId === run));
    if (linked(session.joinedFrom) || linked(joinedFrom)) return true;
    // Or we share a linked member who vouches for both of us (it is linked to both right now).
    const theirs = new Set(session.hello?.members.map((m) => m.name));
    return [...this.sessions.values()].some((s) => s !== session && s.hello !== undefined && theirs.has(s.name));
  }
}

/** Whether a session is open and its peer greeted (a closed one may wait for its successor; see `ClusterNode.detach`). */
export function greeted(session: PeerSession): boolean {
  return session.open && session.hello !== undefined;
}

/** What a `nodedown` event says of a link that closed for `reason`. */
export function downReason(reason: LinkCloseReason): NodeDownReason {
  switch (reason) {
    case 'leave':
    case 'heartbeat-timeout':
    case 'ack-timeout':
    case 'replaced':
    case 'shutdown':
      return reason;
    default:
      return 'connection-lost';
  }
}
