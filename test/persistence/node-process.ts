import { createServer } from 'node:net';
import * as path from 'node:path';
import { JsonLineChild } from '../utils/json-line-child';

export type { ChildError } from '../utils/json-line-child';

const FIXTURES = path.join(__dirname, 'fixtures');

/** What `state` answers (see fixtures/node-child.ts). */
export interface NodeState {
  ready: boolean;
  peers: string[];
  entries: Record<string, number>;
  disk: {
    file: string;
    writing: boolean;
    failure?: string;
    behind: string[];
    failedWrites: number;
    damaged: number;
    unrepaired: number;
  } | null;
  health: string;
  healthMessage: string | null;
  digest: Record<string, string>;
}

/**
 * A whole node (fixtures/node-child.ts) in a child process, driven by JSON
 * lines: a native crash fails the spec with the child's stderr instead of
 * ending Jest.
 */
export class NodeChild extends JsonLineChild {
  constructor(env: Record<string, string>) {
    super(env.NODE_NAME ?? 'node', ['-r', path.join(FIXTURES, 'register.js'), path.join(FIXTURES, 'node-child.ts')], { env });
  }

  state(): Promise<NodeState> {
    return this.call<NodeState>('state');
  }

  /** Polls `state()` until `check` holds, or fails after `timeout` ms with the last state. */
  async waitFor(check: (state: NodeState) => boolean, timeout = 20_000): Promise<NodeState> {
    const deadline = Date.now() + timeout;
    let last: NodeState | undefined;
    while (Date.now() < deadline) {
      last = await this.state();
      if (check(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out; last state: ${JSON.stringify(last)}`);
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
