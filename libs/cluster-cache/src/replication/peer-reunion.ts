import type { LoggerService } from '@nestjs/common';
import type { ClusterEvent } from '../cluster/cluster-event';
import type { CacheEngine } from '../engine/cache-engine';
import type { AntiEntropy } from './anti-entropy';
import type { ClusterJoin, JoinHost } from './cluster-join';
import type { Membership, PeerRun } from './membership';
import type { HelloMessage } from './messages';
import type { ChunkHandler } from './peer-calls';
import type { PeerSession } from './peer-session';
import type { WritePath } from './write-path';

/** What a reunion needs of its node, besides what the join does. */
export interface ReunionHost extends JoinHost {
  readonly antiEntropy: AntiEntropy;
  report(event: ClusterEvent): void;
}

/**
 * What a ready node does when a ready peer greets it — the wiring of the
 * heals: a peer that missed writes resyncs; a peer of another cluster is
 * merged with, or one of the two resets (`autoInitialize`); a peer that was
 * apart (a split, or a restart on the other side of one) is reported as
 * `inconsistent_database` for the Unsplit service to heal; otherwise the
 * writes each side made before the link are exchanged (a catch-up).
 */
export class PeerReunion {
  constructor(
    private readonly host: ReunionHost,
    private readonly engine: CacheEngine,
    private readonly membership: Membership,
    private readonly join: ClusterJoin,
    private readonly writes: WritePath,
    private readonly autoInitialize: 'merge' | 'reset-younger',
    private readonly logger: LoggerService,
  ) {}

  /**
   * A ready peer greeted this ready node.
   * @param previous the peer's run this node was linked to before this link, if any.
   */
  meet(session: PeerSession, hello: HelloMessage, previous: PeerRun | undefined): void {
    const self = this.host.self;
    if (this.writes.takeResync(session.name)) this.resync(session.name);
    if (hello.clusterId !== this.join.clusterId) return this.meetCluster(session, hello);
    if (previous?.run === session.runId) return previous.lost ? this.inconsistent(session, 'running_partitioned_network') : undefined;
    if (!this.membership.sameComponent(session, `${self.name}#${self.incarnation}`, this.join.joinedFrom)) return this.inconsistent(session, 'starting_partitioned_network');
    // A new run of the peer that took its data from this node's side: whatever diverged before is gone.
    this.membership.partitioned.delete(session.name);
    // But each side wrote without the other since the younger of the two started: take the other's writes of that time.
    this.join.catchUp(session, Math.max(self.startedAt, session.info.startedAt));
  }

  /** Brings a peer that missed writes up to date (both ways), whatever the Unsplit setting. */
  private resync(peer: string): void {
    this.host.antiEntropy.sync(peer).then(
      (entries) => this.logger.log(`${peer} resynced with ${this.host.self.name}: ${entries} entries exchanged`),
      (error: unknown) => {
        this.writes.resyncLater(peer);
        this.logger.warn?.(`resyncing ${peer} failed (${String(error)}); it will be tried again when it relinks`);
      },
    );
  }

  private inconsistent(session: PeerSession, context: 'running_partitioned_network' | 'starting_partitioned_network'): void {
    this.membership.partitioned.add(session.name);
    this.logger.warn?.(`netsplit detected: ${session.name} was apart from ${this.host.self.name} (${context}); data may have diverged`);
    this.host.report({ type: 'inconsistent_database', context, node: session.name });
  }

  /** Two clusters that never met: merge both ways, or reset the smaller/younger one (Pow). */
  private meetCluster(session: PeerSession, hello: HelloMessage): void {
    const mode = this.autoInitialize;
    const name = this.host.self.name;
    const tables = this.host.replicatedTables().map((t) => t.name);
    const merge: ChunkHandler = (table, states) => this.host.spread(table, this.engine.merge(table, states), session.name);
    const failed = (error: unknown) => this.logger.warn?.(`copying the data of ${session.name} failed: ${String(error)}`);
    if (mode === 'merge') {
      this.logger.log(`${name} met ${session.name} of another cluster: merging their data`);
      this.host.pull(session.name, tables, merge).catch(failed);
      this.join.clusterId = this.join.clusterId < hello.clusterId ? this.join.clusterId : hello.clusterId;
    } else if (this.isYoungerThan(session, hello)) {
      this.logger.warn?.(`resetting ${name} to take the data of ${session.name} (autoInitialize: reset-younger)`);
      for (const table of this.host.replicatedTables()) table.clear();
      this.host
        .pull(session.name, tables, merge)
        .then(() => this.join.saveAll())
        .catch(failed);
      this.join.clusterId = hello.clusterId;
    } else {
      this.logger.log(`${name} met ${session.name} of another cluster: keeping its data, ${session.name} resets`);
    }
    this.host.report({ type: 'clusters_merged', node: session.name, mode });
  }

  /** Pow's rule: a lone node resets for a cluster; between equals the younger resets. */
  private isYoungerThan(session: PeerSession, hello: HelloMessage): boolean {
    const self = this.host.self;
    const mine = this.membership.sessions.size - 1;
    const theirs = hello.members.filter((m) => m.name !== self.name).length;
    if (mine !== theirs) return mine < theirs;
    if (self.startedAt !== session.info.startedAt) return self.startedAt > session.info.startedAt;
    return self.name > session.name;
  }
}
