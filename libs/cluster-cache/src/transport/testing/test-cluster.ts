import { createNodeInfo } from '../node-info';
import { TcpTransport } from '../tcp.transport';
import type { TransportOptions } from '../transport-options.interface';
import { CaptureLogger } from './capture-logger';

/** Shared credentials of the nodes a spec starts. */
export const TEST_CREDENTIALS = { cluster: 'test', cookie: 'correct horse battery staple' };

/** Options of a spec node: transport options, and a node name (default `node@<host>`). */
export type TestNodeOptions = Partial<Omit<TransportOptions, 'logger'>> & { name?: string };

/** A started node of a spec, with its captured log. */
export interface TestNode {
  transport: TcpTransport;
  logger: CaptureLogger;
}

/**
 * Starts listening transports for a spec and closes them all in `afterEach`. Each node
 * listens on its own loopback address and port 0.
 */
export class TestCluster {
  private readonly transports: TcpTransport[] = [];

  /** Starts a listening node named `name@host`; options override the test credentials. */
  async start(host: string, options: TestNodeOptions = {}): Promise<TestNode> {
    const node = this.create(host, options);
    await node.transport.listen();
    return node;
  }

  /** Creates a node without listening. */
  create(host: string, { name, ...options }: TestNodeOptions = {}): TestNode {
    const logger = new CaptureLogger();
    const transport = new TcpTransport(createNodeInfo(name ?? `node@${host}`, host), {
      ...TEST_CREDENTIALS,
      logger,
      ...options,
    });
    this.transports.push(transport);
    return { transport, logger };
  }

  /** Closes every node started so far. */
  async closeAll(): Promise<void> {
    await Promise.all(this.transports.splice(0).map((transport) => transport.close()));
  }
}
