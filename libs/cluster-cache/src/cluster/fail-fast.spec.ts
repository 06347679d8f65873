import { INestApplicationContext, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClusterCacheModule } from '../cluster-cache.module';
import { freeTcpPort } from '../discovery/testing/free-port';
import { ClusterCacheHealthIndicator } from '../health/cluster-cache.health';
import type { ClusterCacheOptions } from '../options/cluster-cache-options.interface';
import { waitFor } from '../transport/testing/wait-for';
import { ClusterService } from './cluster.service';

const COOKIE = 'fail-fast-spec-cookie-0123';
const HOST = '127.0.0.1';

/** Every line a node logs, with its level. */
class LinesLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log = (message: unknown) => this.lines.push({ level: 'log', message: String(message) });
  warn = (message: unknown) => this.lines.push({ level: 'warn', message: String(message) });
  error = (message: unknown) => this.lines.push({ level: 'error', message: String(message) });
  debug = (message: unknown) => this.lines.push({ level: 'debug', message: String(message) });
  verbose = (message: unknown) => this.lines.push({ level: 'verbose', message: String(message) });

  has(level: string, pattern: RegExp): boolean {
    return this.lines.some((line) => line.level === level && pattern.test(line.message));
  }
}

/** What the terminus indicator reports for a node. */
function health(app: INestApplicationContext) {
  const report = new ClusterCacheHealthIndicator(new HealthIndicatorService(), app.get(ClusterService)).isHealthy()['cluster-cache'];
  return report as { status: string; message?: string; lone?: boolean; peers: string[] };
}

/**
 * Fail fast, say why (issue 16): a node that cannot be part of the cluster it
 * was configured for says so — in its readiness, its health and its log —
 * instead of running alone as if all were well.
 */
describe('a node that is alone against its configuration', () => {
  const apps: INestApplicationContext[] = [];
  /** The log of every node of a test (Nest's logger is one per process; each line names its node). */
  let log: LinesLogger;
  beforeEach(() => {
    log = new LinesLogger();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function node(name: string, options: ClusterCacheOptions): Promise<INestApplicationContext> {
    @Module({ imports: [ClusterCacheModule.forRoot({ cookie: COOKIE, ...options, node: { name, port: 0, ...options.node } })] })
    class NodeModule {}
    const app = await NestFactory.createApplicationContext(NodeModule, { logger: log, abortOnError: false });
    apps.push(app);
    return app;
  }

  const address = (app: INestApplicationContext) => `${HOST}:${app.get(ClusterService).self().port}`;

  it('with minPeers, does not become ready alone (health down, saying why), and becomes ready once a peer links', async () => {
    const bPort = await freeTcpPort(HOST);
    const a = await node(`a@${HOST}`, { minPeers: 1, joinTimeout: 300, extraNodes: `${HOST}:${bPort}` });
    const cluster = a.get(ClusterService);
    expect(cluster.ready).toBe(false);
    expect(cluster.stats().expectedPeers).toEqual({ minPeers: 1, configured: true });
    expect(health(a)).toMatchObject({ status: 'down', message: 'not ready: waiting for at least 1 peer(s) (minPeers), 0 linked' });
    expect(log.has('log', new RegExp(`^a@127\\.0\\.0\\.1 waits for 1 peer\\(s\\) before it becomes ready \\(minPeers\\); no node answered at 127\\.0\\.0\\.1:${bPort}$`))).toBe(true);
    expect(log.has('warn', /^a@127\.0\.0\.1 is not ready after 300 ms: it waits for at least 1 peer\(s\) \(minPeers\) and has 0 linked; still trying$/)).toBe(true);
    expect(log.lines.some((l) => /initiated the cluster/.test(l.message))).toBe(false);

    const b = await node(`b@${HOST}`, { minPeers: 1, extraNodes: [address(a)], node: { port: bPort } });
    await waitFor(() => cluster.ready && b.get(ClusterService).ready, 10_000, 'both ready');
    expect(health(a)).toMatchObject({ status: 'up', peers: [`b@${HOST}`] });
    expect(health(b)).toMatchObject({ status: 'up', peers: [`a@${HOST}`] });
    // a is the older: it started the cluster with b, which copied from it.
    expect(log.has('log', /^a@127\.0\.0\.1 initiated the cluster with b@127\.0\.0\.1, which were starting too$/)).toBe(true);
  });

  it('without minPeers, starts alone when no one answers, and health shows a lone node until a peer links', async () => {
    const bPort = await freeTcpPort(HOST);
    const a = await node(`a@${HOST}`, { extraNodes: [`${HOST}:${bPort}`] });
    expect(a.get(ClusterService).ready).toBe(true);
    expect(health(a)).toMatchObject({ status: 'degraded', lone: true, message: expect.stringMatching(/^lone node: no peer linked, though the options name other nodes/) });

    await node(`b@${HOST}`, { extraNodes: [address(a)], node: { port: bPort } });
    await waitFor(() => a.get(ClusterService).nodes().length === 1, 10_000, 'the link');
    expect(health(a).status).toBe('up');
    expect(health(a).lone).toBeUndefined();
  });

  it('refused by the nodes it was given (a cookie that differs): warns that it runs alone and why, not "initiated the cluster"', async () => {
    const a = await node(`a@${HOST}`, {});
    const b = await node(`b@${HOST}`, { cookie: 'another-cookie-of-16-chars', extraNodes: [address(a)] });
    const warning = log.lines.find((l) => l.level === 'warn' && l.message.startsWith('b@127.0.0.1 found no node it may join'));
    expect(warning?.message).toMatch(
      new RegExp(
        `^b@127\\.0\\.0\\.1 found no node it may join: ${address(a).replace(/\./g, '\\.')} refused it \\(a@127\\.0\\.0\\.1 could not prove it holds the cluster cookie: the cookies differ; ` +
          'every node of a cluster needs the same cookie\\)\\. It runs alone, as a cluster of its own: sessions made here are unknown to those nodes and theirs here, until they link; it keeps trying them$',
      ),
    );
    expect(log.lines.some((l) => /b@127\.0\.0\.1 initiated the cluster/.test(l.message))).toBe(false);
    expect(health(b)).toMatchObject({ status: 'degraded', lone: true });
  });
});
