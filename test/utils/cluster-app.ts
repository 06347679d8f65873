import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterCache, ClusterCacheModule, ClusterCacheOptions, ClusterEvent, ClusterService, SessionCache } from '@app/cluster-cache';

/**
 * Every log line of this process, as `level [context] message`. Nest's logger
 * is process-wide, so all in-process nodes share one; a node's lines are those
 * whose context names it (the library logs as `ClusterCache <node name>`).
 */
export class CapturingLogger implements LoggerService {
  static readonly shared = new CapturingLogger();
  readonly lines: string[] = [];
  log(message: unknown, context?: string) { this.push('log', message, context); }
  warn(message: unknown, context?: string) { this.push('warn', message, context); }
  error(message: unknown, context?: string) { this.push('error', message, context); }
  debug(message: unknown, context?: string) { this.push('debug', message, context); }
  verbose(message: unknown, context?: string) { this.push('verbose', message, context); }

  /** The lines logged by node `name`. */
  of(name: string): string[] {
    return this.lines.filter((line) => line.includes(`[ClusterCache ${name}]`));
  }

  private push(level: string, message: unknown, context?: string) {
    this.lines.push(`${level} [${context ?? ''}] ${String(message)}`);
  }
}

/** A cluster node booted in this process as a Nest application context. */
export interface TestNode {
  readonly app: INestApplicationContext;
  readonly cache: ClusterCache;
  readonly sessions: SessionCache;
  readonly cluster: ClusterService;
  /** What this node logged so far. */
  logs(): string[];
  readonly events: ClusterEvent[];
  /** `host:port` of its cluster listener. */
  readonly address: string;
  close(): Promise<void>;
}

export const TEST_COOKIE = 'test-cookie-0123456789abcdef';

/** Boots a node with ClusterCacheModule.forRoot and returns its injectables. */
export async function startNode(options: ClusterCacheOptions): Promise<TestNode> {
  const logger = CapturingLogger.shared;
  const events: ClusterEvent[] = [];
  const moduleRef = await Test.createTestingModule({
    imports: [ClusterCacheModule.forRoot({ cookie: TEST_COOKIE, ttl: 600_000, joinTimeout: 10_000, ...options })],
  })
    .setLogger(logger)
    .compile();
  const cluster = moduleRef.get(ClusterService);
  cluster.events$.subscribe((event) => events.push(event));
  await moduleRef.init();
  const self = cluster.self();
  return {
    app: moduleRef,
    cache: moduleRef.get(ClusterCache),
    sessions: moduleRef.get(SessionCache),
    cluster,
    logs: () => logger.of(self.name),
    events,
    address: `${self.host}:${self.port}`,
    close: () => moduleRef.close(),
  };
}
