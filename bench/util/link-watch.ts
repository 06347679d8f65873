/**
 * Failure-detection watch for benchmark nodes: every `nodedown` this node
 * emits, every link close with its reason, and the longest event-loop stall,
 * so that each bench run reports whether a busy peer was taken for a dead one
 * (issue 13: "no false nodedown while a peer is merely busy").
 *
 * Benchmark-only instrumentation on this process's instances: it subscribes to
 * `ClusterService.events$` and to the transport's links (`onLink` / `onClose`,
 * both public on the transport); nothing in the library is changed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ClusterEvent } from '@app/cluster-cache';
import type { Observable } from 'rxjs';
import type { ClusterCacheRuntime } from '../../libs/cluster-cache/src/cluster-cache.runtime';
import type { PeerLink } from '../../libs/cluster-cache/src/transport/peer-link.interface';
import type { Transport } from '../../libs/cluster-cache/src/transport/transport.interface';

/** What a node saw since the watch was (re)started. */
export interface LinkWatchReport {
  seconds: number;
  /** `nodedown` events: the peer, the reason, and when (ms after the watch started). */
  nodedowns: Array<{ node: string; reason: string; atMs: number }>;
  /** Link closes by reason, greeted links or not (a duplicate of a dial race closes as 'duplicate'). */
  closes: Record<string, number>;
  /** Longest event-loop delay (ms, `monitorEventLoopDelay`, 10 ms resolution): the longest stall of this process. */
  loopMaxMs: number;
  loopP99Ms: number;
}

export class LinkWatch {
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private started = Date.now();
  private nodedowns: LinkWatchReport['nodedowns'] = [];
  private closes: Record<string, number> = {};

  /** Call before the module's init, so that the links of the join are watched too. */
  constructor(runtime: ClusterCacheRuntime, events$: Observable<ClusterEvent>) {
    events$.subscribe((event) => {
      if (event.type === 'nodedown') this.nodedowns.push({ node: event.node, reason: event.reason, atMs: Date.now() - this.started });
    });
    const transport = (runtime.node as unknown as { transport: Transport } | undefined)?.transport;
    const watch = (link: PeerLink): void => void link.onClose((reason) => (this.closes[reason] = (this.closes[reason] ?? 0) + 1));
    transport?.links().forEach(watch);
    transport?.onLink(watch);
    this.loop.enable();
  }

  /** What was seen since the last reset; `reset` starts a new window. */
  report(reset = true): LinkWatchReport {
    const report: LinkWatchReport = {
      seconds: (Date.now() - this.started) / 1000,
      nodedowns: this.nodedowns,
      closes: this.closes,
      loopMaxMs: this.loop.max / 1e6,
      loopP99Ms: this.loop.percentile(99) / 1e6,
    };
    if (reset) {
      this.started = Date.now();
      this.nodedowns = [];
      this.closes = {};
      this.loop.reset();
    }
    return report;
  }
}

/** "0 nodedown" or "2 nodedown (b: heartbeat-timeout at 1.2 s, …)"; then link closes by reason and the longest stall, per node. */
export function fmtWatch(reports: ReadonlyArray<readonly [string, LinkWatchReport]>): string {
  const downs = reports.flatMap(([name, r]) => r.nodedowns.map((d) => `${name} saw ${d.node} down: ${d.reason} at ${(d.atMs / 1000).toFixed(1)} s`));
  const closes = reports.map(([name, r]) => `${name} ${Object.entries(r.closes).map(([reason, n]) => `${n} ${reason}`).join(', ') || 'none'}`);
  const stalls = reports.map(([name, r]) => `${name} ${r.loopMaxMs.toFixed(0)} ms (p99 ${r.loopP99Ms.toFixed(0)} ms)`);
  return `${downs.length} nodedown${downs.length > 0 ? ` (${downs.join('; ')})` : ''}; link closes: ${closes.join('; ')}; longest event-loop stall: ${stalls.join(', ')}`;
}

/** Nodedowns in `reports` whose reason is not in `expected` (e.g. 'leave' when a joiner exits on purpose). */
export function unexpectedDowns(reports: ReadonlyArray<readonly [string, LinkWatchReport]>, expected: readonly string[] = []): number {
  return reports.reduce((n, [, r]) => n + r.nodedowns.filter((d) => !expected.includes(d.reason)).length, 0);
}
