import type { Logger } from '@nestjs/common';
import { CacheEngine } from '../../engine/cache-engine';
import { systemClock } from '../../store/clock';
import { Store } from '../../store/store';
import { InMemoryNetwork, InMemoryTransport } from '../../transport/in-memory.transport';
import { createNodeInfo, NodeInfo } from '../../transport/node-info';
import { ClusterNode } from '../cluster-node';

/** A logger that says nothing (protocol specs assert on events, not logs). */
export const quiet = { log() {}, warn() {}, error() {}, debug() {} };

/** Options of a protocol-level node. */
export interface ProtocolNodeOptions {
  autoInitialize?: 'merge' | 'reset-younger';
  startedAt?: number;
  /** When local writes resolve (default `'sync'`). */
  writes?: 'sync' | 'async';
  /** The Unsplit strategy the node announces (default `'off'`). */
  unsplit?: 'merge' | 'oldest-wins' | 'off';
  /** Linked peers needed before the node becomes ready (default 0). */
  minPeers?: number;
  /** How long `start()` waits to be ready (default 3000 ms). */
  joinTimeout?: number;
}

/**
 * A cluster node on an in-memory network (no sockets), with a replicated
 * `sessions` table: the common base of the replication specs.
 */
export function protocolNode(network: InMemoryNetwork, name: string, seeds: string[] = [], options: ProtocolNodeOptions = {}) {
  const store = new Store(name, systemClock);
  const table = store.addTable('sessions', 'replicated');
  const engine = new CacheEngine(store, { writes: options.writes ?? 'sync', sweepInterval: 1000, logger: quiet });
  const info: NodeInfo = createNodeInfo(name, name.split('@')[1], 0);
  if (options.startedAt !== undefined) info.startedAt = options.startedAt;
  const transport = new InMemoryTransport(info, network, quiet);
  const node = new ClusterNode(
    transport,
    engine,
    { joinTimeout: options.joinTimeout ?? 3000, minPeers: options.minPeers, autoInitialize: options.autoInitialize ?? 'merge', ackTimeout: 1000, seeds: async () => seeds, reconnectInterval: 50, discovery: [], discoveryGrace: 0, cookie: 'unused-in-memory', cluster: 'test', keepLocalOnJoin: false, unsplit: options.unsplit ?? 'off' },
    quiet as unknown as Logger,
  );
  return { name, store, table, engine, info, transport, node, address: () => `${info.host}:${info.port}` };
}

/**
 * Call inside a `describe`: returns a `start` that starts a node and
 * remembers it, and stops every started node after each test.
 */
export function startedPerTest<N extends { node: ClusterNode }>(): (n: N) => Promise<N> {
  const started: N[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.node.stop()));
  });
  return async (n) => {
    started.push(n);
    await n.node.start();
    return n;
  };
}
