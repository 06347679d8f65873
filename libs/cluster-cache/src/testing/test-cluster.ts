import { DynamicModule, INestApplicationContext, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClusterCache } from '../cache/cluster-cache';
import { ClusterService } from '../cluster/cluster.service';
import { ClusterCacheModule } from '../cluster-cache.module';
import type { ClusterCacheOptions } from '../options/cluster-cache-options.interface';
import type { ClusterEvent } from '../cluster/cluster-event';
import { SessionCache } from '../sessions/session-cache';
import { UnsplitService } from '../unsplit/unsplit.service';
import { NftablesPartition } from './nftables-partition';

/** A node of a `TestCluster`. @publicApi */
export interface TestClusterNode {
  readonly name: string;
  /** Its loopback address, e.g. 127.0.7.1. */
  readonly host: string;
  readonly app: INestApplicationContext;
  readonly cache: ClusterCache;
  readonly sessions: SessionCache;
  readonly cluster: ClusterService;
  readonly unsplit: UnsplitService;
  /** Every cluster event it emitted after start (its own `joined` came before). */
  readonly events: ClusterEvent[];
}

/** How to build a `TestCluster`. @publicApi */
export interface TestClusterOptions {
  /** Number of nodes. */
  size: number;
  /** First three parts of the nodes' loopback addresses; node i gets `<subnet>.<i + 1>`. Default `127.0.77`. */
  subnet?: string;
  /** Shared options of every node (cookie, unsplit, timing …); `node` and `extraNodes` are set by the harness. */
  options?: ClusterCacheOptions;
  /** Extra imports per node, e.g. `ClusterCacheModule.forFeature(...)`. */
  imports?: DynamicModule[];
  /** Nest logger for the nodes. Default: errors only. */
  logger?: LoggerService | false;
}

const DEFAULT_COOKIE = 'test-cluster-cookie-0123456789';

/**
 * N cluster nodes in this process, each on its own loopback address, joined
 * into one cluster, with real partitions between them (`split`, `heal`) made
 * by the kernel (nftables; needs root). For specs of how an application
 * behaves across nodes and netsplits.
 *
 * @example
 * const cluster = await TestCluster.start({ size: 3, options: { unsplit: { strategy: 'merge' } } });
 * cluster.split([0], [1, 2]);                  // node 0 cannot reach 1 and 2
 * await cluster.waitForSplit([[0], [1, 2]]);
 * cluster.heal();                              // links come back, Unsplit heals
 * await cluster.waitFor(() => new Set(cluster.digests()).size === 1, 20_000, 'identical data');
 * await cluster.close();
 * @publicApi
 */
export class TestCluster {
  private constructor(
    readonly nodes: TestClusterNode[],
    private readonly partition: NftablesPartition,
  ) {}

  /** Starts the nodes one after the other, each joining through the first. */
  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const subnet = options.subnet ?? '127.0.77';
    // One nftables table per subnet, so clusters on other subnets keep their cuts.
    const partition = new NftablesPartition(`nest_cluster_cache_${subnet.replace(/\./g, '_')}`);
    partition.heal(); // a failed earlier run may have left cuts
    const nodes: TestClusterNode[] = [];
    let seed: string | undefined;
    for (let i = 0; i < options.size; i++) {
      const host = `${subnet}.${i + 1}`;
      const node = await startNode(`n${i + 1}@${host}`, {
        cookie: DEFAULT_COOKIE,
        ttl: 600_000,
        ...options.options,
        node: { name: `n${i + 1}@${host}`, port: 0 },
        extraNodes: seed === undefined ? [] : [seed],
      }, options);
      const self = node.cluster.self();
      seed ??= `${self.host}:${self.port}`;
      nodes.push(node);
    }
    const cluster = new TestCluster(nodes, partition);
    await cluster.waitFor(() => nodes.every((n) => n.cluster.nodes().length === nodes.length - 1), 15_000, 'a full mesh');
    return cluster;
  }

  /** Splits the nodes (by index) into islands that cannot reach each other. */
  split(...islands: number[][]): void {
    this.partition.split(...islands.map((island) => island.map((i) => this.nodes[i].host)));
  }

  /** Removes every cut; links come back by themselves. */
  heal(): void {
    this.partition.heal();
  }

  /** Resolves once every node sees every other one again. */
  waitForMesh(timeout = 20_000): Promise<void> {
    return this.waitFor(() => this.nodes.every((n) => n.cluster.nodes().length === this.nodes.length - 1), timeout, 'a full mesh');
  }

  /** Resolves once `islands` (by index) are apart: nobody sees anyone outside its island. */
  waitForSplit(islands: number[][], timeout = 20_000): Promise<void> {
    return this.waitFor(
      () =>
        islands.every((island) =>
          island.every((i) => this.nodes[i].cluster.nodes().every((peer) => island.some((j) => this.nodes[j].name === peer.name))),
        ),
      timeout,
      'the split to be seen',
    );
  }

  /** The digests of every node's replicated tables (equal strings: equal data). */
  digests(): string[] {
    return this.nodes.map((n) => JSON.stringify(n.cluster.digest()));
  }

  /** Polls `condition` every 20 ms until it holds. */
  async waitFor(condition: () => boolean, timeout: number, what: string): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`TestCluster: timed out after ${timeout} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Heals every cut and closes every node. */
  async close(): Promise<void> {
    this.partition.heal();
    await Promise.all(this.nodes.map((n) => n.app.close()));
  }
}

async function startNode(name: string, options: ClusterCacheOptions, harness: TestClusterOptions): Promise<TestClusterNode> {
  @Module({ imports: [ClusterCacheModule.forRoot(options), ...(harness.imports ?? [])] })
  class TestNodeModule {}
  const app = await NestFactory.createApplicationContext(TestNodeModule, { logger: harness.logger ?? ['error'], abortOnError: false });
  const cluster = app.get(ClusterService);
  const events: ClusterEvent[] = [];
  cluster.events$.subscribe((event) => events.push(event));
  return {
    name,
    host: name.split('@')[1],
    app,
    cache: app.get(ClusterCache),
    sessions: app.get(SessionCache),
    cluster,
    unsplit: app.get(UnsplitService),
    events,
  };
}
