import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ClusterCacheRuntime } from '../cluster-cache.runtime';
import { DEFAULT_TABLE } from '../cluster-cache.constants';
import type { ClusterNode } from '../replication/cluster-node';
import type { Table } from '../store/table';
import { HEAL_STEP_TIMEOUT } from '../replication/anti-entropy';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import { OldestWinsHeal, UnflushableTablesError } from './oldest-wins-heal';

/** What a heal did. @publicApi */
export interface HealResult {
  /** The peer the split was with. */
  node: string;
  strategy: 'merge' | 'oldest-wins';
  /** States that changed (merge) or were reloaded (oldest-wins). */
  entries: number;
}

/** How long to wait before trying again when another heal holds the cluster-wide lock, in ms. */
const RETRY_MS = 150;
/** How often splits still unhealed are looked at, in ms. */
const RECHECK_MS = 250;
/** First wait before a failed heal (or a failed request for one) is tried again, in ms; it doubles each time. */
const FIRST_RETRY_MS = 1_000;
/** Longest wait between two tries of a heal that keeps failing, in ms. */
const MAX_RETRY_MS = 30_000;

/**
 * Heals netsplits (Pow's `MnesiaCache.Unsplit`). It listens for
 * `inconsistent_database` and heals each split, one heal at a time across the
 * cluster, emitting `healed` or `heal_failed` on `ClusterService.events$`.
 *
 * - `merge` (default): per key, the newer write wins and a delete wins over
 *   any write that had not seen it; nothing acknowledged is lost. Only the
 *   states of keys that differ are sent, and only the winner's when the
 *   nodes can tell it beforehand (see `AntiEntropy`).
 * - `oldest-wins`: the island holding the longest-running node keeps its data;
 *   the other island flushes and reloads (`flushTables` says which replicated
 *   tables besides the cache's own may be flushed; any other blocks the heal).
 *
 * Active when the `unsplit` option is set; `heal(node)` also works on demand.
 * @publicApi
 */
@Injectable()
export class UnsplitService implements OnModuleDestroy {
  private readonly logger: Logger;
  private readonly node: ClusterNode | undefined;
  private readonly oldestWins: OldestWinsHeal | undefined;
  private subscription: Subscription | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Peers with a heal queued or running. */
  private readonly pending = new Set<string>();
  /** Peers whose split with this node was seen and not healed yet. */
  private readonly apart = new Set<string>();
  /** Peers whose heal is blocked by configuration (unflushable tables): not retried until the split is seen again. */
  private readonly blocked = new Set<string>();
  /** Splits whose heal failed, and when to try again. */
  private readonly retries = new Map<string, { due: number; delay: number }>();
  private recheck: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly runtime: ClusterCacheRuntime) {
    this.logger = new Logger(`ClusterCache ${runtime.self.name}`);
    this.node = runtime.node;
    const node = this.node;
    if (node === undefined) return;
    // Handlers are served whatever the local strategy, so a peer can heal with this node.
    this.oldestWins = new OldestWinsHeal(node, runtime.engine, flushPolicy(runtime.options.unsplit?.flushTables ?? false));
    node.handle('unsplit.healed', (from, body) => {
      this.apart.delete(from);
      const { strategy, entries } = body as { strategy: 'merge' | 'oldest-wins'; entries: number };
      node.markHealed(from);
      this.retries.delete(from);
      node.report({ type: 'healed', node: from, strategy, entries });
      return true;
    });
    if (runtime.options.unsplit === undefined) return;
    // A peer that saw a split this node did not see (only one side of a link may notice) asks this node to heal it.
    node.handle('unsplit.request', (from) => {
      node.markPartitioned(from);
      this.apart.add(from);
      this.retries.delete(from);
      this.settle(from);
      return true;
    });
    this.subscription = node.events$.subscribe((event) => {
      if (event.type === 'nodedown') {
        if (this.apart.delete(event.node)) this.syncWithOthers(event.node);
        return;
      }
      if (event.type !== 'inconsistent_database') return;
      this.apart.add(event.node);
      this.blocked.delete(event.node);
      this.retries.delete(event.node);
      this.settle(event.node);
    });
    // A heal can fail half-way (a link drops, a peer restarts): splits still unhealed are tried again, with backoff.
    this.recheck = setInterval(() => this.retryUnhealed(), RECHECK_MS).unref();
    const syncInterval = runtime.options.unsplit.syncInterval;
    if (this.strategy === 'merge' && syncInterval > 0) this.syncTimer = setInterval(() => this.syncWithSomeone(), syncInterval).unref();
  }

  /** The strategy in use. */
  get strategy(): 'merge' | 'oldest-wins' {
    return this.runtime.options.unsplit?.strategy ?? 'merge';
  }

  /**
   * Heals the split with `node` now (queued behind heals already running on
   * this node, and serialised across the cluster by a lock).
   */
  heal(node: string): Promise<HealResult> {
    const run = this.queue.then(() => this.healWithLock(node));
    this.queue = run.catch(() => undefined);
    return run;
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.recheck);
    clearInterval(this.syncTimer);
    this.subscription?.unsubscribe();
  }

  /**
   * Background anti-entropy (merge only): compares digests with one random
   * peer, queued behind heals; nothing moves when the data is equal.
   */
  private syncWithSomeone(): void {
    const node = this.node!;
    // A split not healed yet is the heal's to merge; syncing with that peer meanwhile would only move the same states twice.
    const unhealed = new Set(node.unhealed());
    const peers = node.peers().map((p) => p.name).filter((name) => !this.pending.has(name) && !unhealed.has(name));
    if (peers.length === 0) return;
    this.syncWith(peers[Math.floor(Math.random() * peers.length)], 'background sync with');
  }

  /**
   * A peer left before its split with this node was healed, and that heal
   * will never run. What it wrote while apart, or after the split closed but
   * before the heal (writes that did not wait for this node, not linked to
   * it yet), may be on the peers that healed with it: this node syncs with
   * each peer it is not apart from now, instead of at the next background
   * sync (merge only: `oldest-wins` reloads whole islands).
   */
  private syncWithOthers(lost: string): void {
    if (this.stopped || this.strategy !== 'merge') return;
    const node = this.node!;
    const unhealed = new Set(node.unhealed());
    for (const { name } of node.peers()) {
      if (!this.pending.has(name) && !unhealed.has(name)) this.syncWith(name, `${lost} left before its netsplit with this node was healed; sync with`);
    }
  }

  /** Compares tables with `peer`, queued behind heals; `what` names it in the log. */
  private syncWith(peer: string, what: string): void {
    const node = this.node!;
    this.pending.add(peer);
    const run = this.queue.then(() => node.antiEntropy.sync(peer));
    this.queue = run.catch(() => undefined);
    run
      .then(
        (entries) => {
          if (entries > 0) this.logger.warn(`${what} ${peer} exchanged ${entries} entries that a heal had missed`);
        },
        (error: unknown) => this.logger.debug?.(`${what} ${peer} failed: ${String(error)}`),
      )
      .finally(() => this.pending.delete(peer));
  }

  private retryUnhealed(): void {
    const now = Date.now();
    for (const peer of this.node!.unhealed()) {
      const retry = this.retries.get(peer);
      if (retry === undefined || retry.due <= now) this.settle(peer);
    }
  }

  /**
   * Gets the split with `peer` healed. One side runs each heal: the node whose
   * name sorts first; the other asks it to. A failure is tried again later,
   * waiting twice as long each time (1 s up to 30 s), until the split is
   * healed or the peer is gone.
   */
  private settle(peer: string): void {
    if (this.stopped || this.pending.has(peer) || this.blocked.has(peer) || !this.node?.isLinked(peer)) return;
    const node = this.node;
    this.pending.add(peer);
    const leading = this.runtime.self.name < peer;
    const attempt = leading ? this.heal(peer).then(() => true) : node.call<boolean>(peer, 'unsplit.request', {});
    attempt
      .then(
        (accepted) => {
          if (!accepted) throw new ClusterCacheError(`${peer} does not heal netsplits (no unsplit option)`);
          // Asked: if the peer's heal fails without a word, this node asks again later.
          if (!leading) this.schedule(peer);
        },
        (error: unknown) => {
          if (error instanceof UnflushableTablesError) return void this.blocked.add(peer);
          throw error;
        },
      )
      .catch((error: unknown) => this.retryLater(peer, leading ? 'healing' : 'asking for the heal of', error))
      .finally(() => this.pending.delete(peer));
  }

  private retryLater(peer: string, what: string, error: unknown): void {
    if (this.stopped || !this.node!.unhealed().includes(peer)) return;
    const delay = this.schedule(peer);
    this.logger.warn(`${what} the netsplit with ${peer} failed (${error instanceof Error ? error.message : String(error)}); trying again in ${delay} ms`);
  }

  /** Sets when the split with `peer` is looked at again, twice as late as last time; returns the wait. */
  private schedule(peer: string): number {
    const delay = Math.min(MAX_RETRY_MS, (this.retries.get(peer)?.delay ?? FIRST_RETRY_MS / 2) * 2);
    this.retries.set(peer, { due: Date.now() + delay, delay });
    return delay;
  }

  private async healWithLock(peer: string): Promise<HealResult> {
    const node = this.node;
    if (node === undefined) throw new ClusterCacheError(messages.noCluster());
    for (;;) {
      if (this.stopped || !node.isLinked(peer)) throw this.failed(peer, new ClusterCacheError(`${peer} is no longer linked`));
      const attempt = await node.lock.tryWith('unsplit', () => this.run(peer), HEAL_STEP_TIMEOUT * 2);
      if (attempt.acquired) return attempt.result;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS + Math.random() * RETRY_MS));
    }
  }

  private async run(peer: string): Promise<HealResult> {
    const node = this.node!;
    const strategy = this.strategy;
    this.logger.warn(`healing the netsplit between ${node.self.name} and ${peer} (strategy: ${strategy})`);
    try {
      let entries: number;
      if (strategy === 'merge') {
        entries = await node.antiEntropy.sync(peer);
        this.logger.log(`the netsplit between ${node.self.name} and ${peer} is healed: ${entries} entries merged`);
      } else {
        const outcome = await this.oldestWins!.heal(peer);
        entries = outcome.reloaded;
        this.logger.log(
          outcome.losers.length === 0
            ? `the node ${peer} has already been healed and joined the cluster of ${node.self.name}`
            : `the netsplit with ${peer} is healed: ${outcome.losers.join(', ')} reloaded ${entries} entries from the island of ${outcome.winner}`,
        );
      }
      node.markHealed(peer);
      this.apart.delete(peer);
      this.retries.delete(peer);
      // Reported here before the peer is told, so this side's event never comes after the peer's.
      node.report({ type: 'healed', node: peer, strategy, entries });
      // If the peer does not hear of it, its own unhealed entry makes it ask for another (cheap) heal.
      await node.call(peer, 'unsplit.healed', { strategy, entries }).catch(() => undefined);
      return { node: peer, strategy, entries };
    } catch (error) {
      throw this.failed(peer, error instanceof Error ? error : new ClusterCacheError(String(error)));
    }
  }

  /** Logs and reports a failed heal; returns the error to reject with. */
  private failed(peer: string, error: Error): Error {
    this.logger.error(`could not heal the netsplit with ${peer}: ${error.message}`);
    this.node?.report({ type: 'heal_failed', node: peer, reason: error.message });
    return error;
  }
}

/** Which replicated tables a heal may flush: the cache's own, plus `flushTables`. */
function flushPolicy(flushTables: false | string[] | 'all'): (table: Table) => boolean {
  if (flushTables === 'all') return () => true;
  const allowed = new Set([DEFAULT_TABLE, ...(flushTables || [])]);
  return (table) => allowed.has(table.name);
}
