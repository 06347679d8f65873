import type { LoggerService } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ClusterCache, ClusterCacheModule, ClusterService } from '@app/cluster-cache';
import type { ClusterCacheOptions } from '@app/cluster-cache';
import { waitFor } from '../utils/wait-for';

/** The cookie of the discovery e2e clusters. */
export const COOKIE = 'discovery-e2e-cookie-0123';

/** A log line of {@link logs}. */
export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
}

/** Keeps every Nest log line of the in-process nodes (Nest's logger is global to the process). */
class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];
  log = (message: unknown) => this.push('log', message);
  error = (message: unknown) => this.push('error', message);
  warn = (message: unknown) => this.push('warn', message);
  debug = (message: unknown) => this.push('debug', message);
  verbose = (message: unknown) => this.push('verbose', message);
  fatal = (message: unknown) => this.push('fatal', message);

  has(level: LogLine['level'], pattern: RegExp): boolean {
    return this.lines.some((l) => l.level === level && pattern.test(l.message));
  }

  private push(level: LogLine['level'], message: unknown): void {
    this.lines.push({ level, message: String(message) });
  }
}

/** What the in-process nodes logged. */
export const logs = new CapturingLogger();

/** A node of the cluster: a Nest application context with ClusterCacheModule, in this process. */
export interface TestNode {
  readonly name: string;
  readonly moduleRef: TestingModule;
  readonly cluster: ClusterService;
  readonly cache: ClusterCache;
  /** Names of the linked peers, sorted. */
  peers(): string[];
  /** This node's cluster address, `host:port`. */
  address(): string;
  close(): Promise<void>;
}

const running = new Set<TestNode>();

/** Starts a node (`ClusterCacheModule.forRoot(options)` + init) with the e2e cookie unless given. */
export async function startNode(options: ClusterCacheOptions): Promise<TestNode> {
  const moduleRef = await Test.createTestingModule({ imports: [ClusterCacheModule.forRoot({ cookie: COOKIE, ...options })] }).compile();
  moduleRef.useLogger(logs);
  await moduleRef.init();
  const cluster = moduleRef.get(ClusterService);
  let closed = false;
  const node: TestNode = {
    name: cluster.self().name,
    moduleRef,
    cluster,
    cache: moduleRef.get(ClusterCache),
    peers: () => cluster.nodes().map((n) => n.name).sort(),
    address: () => `${cluster.self().host}:${cluster.self().port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      running.delete(node);
      await moduleRef.close();
    },
  };
  running.add(node);
  return node;
}

/** Closes every node still running (for afterEach/afterAll). */
export async function closeAll(): Promise<void> {
  await Promise.all([...running].map((n) => n.close()));
}

/** Waits until every node is linked to every other one. */
export async function waitForMesh(nodes: TestNode[], timeout = 15_000): Promise<void> {
  const expected = (n: TestNode) => nodes.filter((o) => o !== n).map((o) => o.name).sort().join();
  await waitFor(
    () => {
      if (nodes.every((n) => n.peers().join() === expected(n))) return true;
      // Thrown, so a timeout message shows the last state.
      throw new Error(`links: ${nodes.map((n) => `${n.name} → [${n.peers().join(', ')}]`).join('; ')}`);
    },
    timeout,
    `a full mesh of ${nodes.map((n) => n.name).join(', ')}`,
  );
}

/** Writes on `from` and checks the value can be read on every node of `to` (sync writes: applied everywhere on resolve). */
export async function expectReplicated(from: TestNode, to: TestNode[], key: string): Promise<void> {
  const value = { from: from.name, key };
  await from.cache.put(['discovery-e2e', key], value, { ttl: 60_000 });
  for (const node of to) await waitFor(() => node.cache.get(['discovery-e2e', key]) !== undefined, 5_000, `${key} on ${node.name}`);
  for (const node of to) expect(node.cache.get(['discovery-e2e', key])).toEqual(value);
}
