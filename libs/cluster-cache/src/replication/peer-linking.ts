import type { LoggerService } from '@nestjs/common';
import type { ClusterEvent } from '../cluster/cluster-event';
import type { NodeInfo } from '../transport/node-info';
import type { LinkCloseReason } from '../transport/peer-link.interface';
import type { ClusterJoin } from './cluster-join';
import type { ClusterLock } from './cluster-lock';
import { downReason, Membership } from './membership';
import type { HelloMessage, MemberAddress } from './messages';
import type { PeerCalls } from './peer-calls';
import { ClusterShape, incompatibility } from './peer-compatibility';
import type { PeerReunion } from './peer-reunion';
import type { PeerSession } from './peer-session';
import type { Reconnector } from './reconnector';
import type { WritePath } from './write-path';

/**
 * How long a link closed as a duplicate waits for the connection the peer kept
 * to be announced here, in ms; after that the peer counts as lost.
 */
const DUPLICATE_GRACE = 1_000;
/** How long a peer refused as incompatible is not dialled again, in ms (it may still dial this node). */
const REFUSED_HOLD = 30_000;

/** What linking needs of its node. */
export interface LinkingHost {
  readonly self: NodeInfo;
  /** This node's tables and Unsplit strategy, as its hello says them. */
  shape(): ClusterShape;
  report(event: ClusterEvent): void;
}

/** The node's parts that links coming and going update. */
export interface LinkingParts {
  membership: Membership;
  writes: WritePath;
  joining: ClusterJoin;
  reunion: PeerReunion;
  reconnector: Reconnector;
  lock: ClusterLock;
  calls: PeerCalls;
}

/**
 * How peers come and go: a peer's hello admits it (writes go to it, the
 * members it names are reached, the join or a reunion goes on) or refuses
 * it (settings that differ); a closed link loses it (its writes are released,
 * and a dial race's loser waits for its successor); `nodeup` and `nodedown`
 * are reported.
 */
export class PeerLinking {
  constructor(
    private readonly host: LinkingHost,
    private readonly parts: LinkingParts,
    private readonly logger: LoggerService,
  ) {}

  /** The peer of `session` said hello. */
  greeted(session: PeerSession, hello: HelloMessage): void {
    const { membership, writes, joining, reconnector } = this.parts;
    const refusal = incompatibility(this.host.self.name, this.host.shape(), session.name, hello.shape);
    if (refusal !== undefined) return this.refuse(session, refusal);
    membership.refusals.delete(session.name);
    session.hello = hello;
    session.ready = hello.ready;
    session.joinedFrom = hello.joinedFrom;
    const previous = membership.runs.get(session.name);
    const relinked = previous?.run === session.runId;
    membership.runs.set(session.name, { run: session.runId, lost: false });
    writes.add(session);
    const address = `${session.info.host}:${session.info.port}`;
    reconnector.linked(session.name, address);
    // A dial race swapped the link: the peer was never down.
    if (!relinked || previous.lost) this.host.report({ type: 'nodeup', node: session.name, address });
    this.reach(hello.members);
    for (const other of membership.sessions.values()) {
      if (other !== session && other.hello !== undefined) other.send({ t: 'members', members: [{ name: session.name, host: session.info.host, port: session.info.port }] });
    }
    if (joining.phase === 'joining') return joining.decide();
    if (joining.phase !== 'ready' || !hello.ready) return;
    this.parts.reunion.meet(session, hello, previous);
  }

  /** The link of `session` closed. */
  closed(session: PeerSession, reason: LinkCloseReason): void {
    const { membership, lock, calls } = this.parts;
    session.open = false;
    calls.dropLink(session.link.id);
    if (membership.sessions.get(session.name) !== session) {
      // Superseded by a newer link to the same node: the peer is still there, unless it restarted.
      if (reason === 'replaced') {
        lock.peerDown(session.name);
        if (session.hello !== undefined) this.host.report({ type: 'nodedown', node: session.name, reason: 'replaced' });
      }
      return;
    }
    if (reason === 'duplicate' && session.hello !== undefined) {
      // The peer kept the other connection of a dial race, not announced here yet: no contact was lost.
      // Writes in flight wait for it and are sent again on it; if it never comes, the peer is lost after all.
      setTimeout(() => {
        if (membership.sessions.get(session.name) === session) this.lose(session, 'closed');
      }, DUPLICATE_GRACE).unref();
      return;
    }
    this.lose(session, reason);
  }

  /** Links to the members a peer named, and keeps probing them while they are absent. */
  reach(members: readonly MemberAddress[]): void {
    const addresses: string[] = [];
    for (const member of members) {
      if (member.name === this.host.self.name || this.parts.membership.sessions.has(member.name)) continue;
      const address = `${member.host.includes(':') ? `[${member.host}]` : member.host}:${member.port}`;
      this.parts.reconnector.remember(member.name, address);
      addresses.push(address);
    }
    this.parts.reconnector.reach(addresses);
  }

  /** Contact with a peer is lost: its writes are released, and if it comes back the data may have diverged. */
  private lose(session: PeerSession, reason: LinkCloseReason): void {
    const { membership, writes, lock, reconnector } = this.parts;
    membership.sessions.delete(session.name);
    writes.remove(session.name);
    lock.peerDown(session.name);
    // Apart now: a split seen again is reported again when the peer is back.
    membership.partitioned.delete(session.name);
    if (session.hello === undefined) return;
    if (reason === 'leave') reconnector.forget(session.name);
    else membership.runs.set(session.name, { run: session.runId, lost: true });
    this.host.report({ type: 'nodedown', node: session.name, reason: session.closedHere ? 'disconnected' : downReason(reason) });
  }

  /** Refuses a peer whose settings differ (both sides do, each from the other's hello). */
  private refuse(session: PeerSession, reason: string): void {
    const { membership, reconnector } = this.parts;
    if (membership.refusals.get(session.name) !== reason) this.logger.error(reason);
    membership.refusals.set(session.name, reason);
    reconnector.hold(`${session.info.host}:${session.info.port}`, REFUSED_HOLD);
    session.closedHere = true;
    session.link.close('closed');
  }
}
