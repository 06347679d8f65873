import * as path from 'node:path';
import type { ClusterStats } from '@app/cluster-cache';
import type { GossipStats } from '@app/cluster-cache/discovery';
import { type ChildMessage, JsonLineChild } from '../utils/json-line-child';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'fuzz-node.ts');
const REGISTER = path.join(ROOT, 'test', 'persistence', 'fixtures', 'register.js');

/** What `stats` answers (see fixtures/fuzz-node.ts). */
export interface NodeStats {
  cluster: ClusterStats;
  gossip: GossipStats | null;
  /** Names of the peers the transport holds a link to. */
  links: string[];
  /** Socket descriptors of the process (/proc/self/fd): listeners, connections, stdio pipes. */
  sockets: number;
  /** All its descriptors. */
  descriptors: number;
  /** `process.getActiveResourcesInfo()`, counted by kind (TCPSocketWrap, TCPServerWrap, Timeout …). */
  resources: Record<string, number>;
}

/** A cluster event the node printed. */
export interface NodeEvent {
  type: 'nodeup' | 'nodedown';
  node: string;
  reason?: string;
  /** When the parent read it (ms since the epoch). */
  at: number;
}

/**
 * A node of fixtures/fuzz-node.ts in a child process run with
 * `--unhandled-rejections=strict`, driven by JSON lines (see
 * {@link JsonLineChild}); it also reports its cluster events.
 */
export class LiveNode extends JsonLineChild {
  readonly events: NodeEvent[] = [];
  /** Its cluster address, `host:port` (serve mode). */
  address = '';

  constructor(label: string, env: Record<string, string>) {
    super(label, ['--unhandled-rejections=strict', '-r', REGISTER, FIXTURE], { cwd: ROOT, env: { NODE_OPTIONS: '', ...env } });
  }

  stats(): Promise<NodeStats> {
    return this.call<NodeStats>('stats');
  }

  protected override onStarted(message: ChildMessage): void {
    this.address = (message.address as string | undefined) ?? '';
  }

  protected override onMessage(message: ChildMessage): void {
    if (message.kind === 'event') this.events.push({ type: message.type as NodeEvent['type'], node: message.node as string, reason: message.reason as string | undefined, at: Date.now() });
  }
}
