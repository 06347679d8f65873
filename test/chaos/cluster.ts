import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsHosts, requireNetns } from '../utils/netns';
import { waitFor } from '../utils/wait-for';
import { describeExit, errorSummary, NodeProcess, NodeState } from './node-process';
import { short, Timeline } from './timeline';

/** Every node listens on this port, each on its own host. */
const PORT = 14000;
const COOKIE = 'chaos-cluster-cookie-0123456789';
/** How long a start may take: a node that finds nobody waits joinTimeout (15 s by default) before it starts alone. */
const START_TIMEOUT = 45_000;
/** How long a graceful shutdown may take before the node is killed (and the checker is told). */
const STOP_TIMEOUT = 15_000;
/** A node that crashed is started again (as a supervisor would) this many times at most. */
const MAX_CRASH_RESTARTS = 5;

/** The chaos run's hosts: `ncchaos-N` namespaces, 10.78.0.N/24 (apart from the discovery specs' 10.77.0.N). */
export function chaosHosts(size: number): NetnsHosts {
  return new NetnsHosts({ prefix: 'ncchaos', subnet: '10.78.0', count: size });
}

/**
 * The chaos cluster: one host (network namespace `ncchaos-N`, address
 * 10.78.0.N/24) per node, each running the node fixture, with every run of
 * every node kept for the checker. Hosts can be cut into islands.
 *
 * A node that exits without the nemesis having signalled it is a failure
 * (the checker reports it); it is started again after a second, so the rest
 * of the run still means something.
 */
export class ChaosCluster {
  readonly hosts: NetnsHosts;
  /** Node names, `nN@10.78.0.N`, in index order. */
  readonly names: string[];
  /** Every run of each node, oldest first. */
  readonly runs: NodeProcess[][];
  private dir = '';
  private closing = false;
  private readonly crashRestarts: number[];

  constructor(
    readonly size: number,
    private readonly timeline: Timeline,
  ) {
    this.hosts = chaosHosts(size);
    this.names = Array.from({ length: size }, (_, i) => `n${i + 1}@${this.hosts.host(i + 1).address}`);
    this.runs = this.names.map(() => []);
    this.crashRestarts = this.names.map(() => 0);
  }

  /** Makes the hosts (after removing what a failed run left) and starts every node. */
  async start(): Promise<void> {
    requireNetns();
    this.hosts.remove();
    this.hosts.create();
    this.dir = mkdtempSync(join(tmpdir(), 'ncc-chaos-'));
    await Promise.all(this.names.map((_, i) => this.startNode(i)));
  }

  /** The current (latest) run of node `i`. */
  node(i: number): NodeProcess {
    return this.runs[i].at(-1)!;
  }

  /** Indices of the nodes that run and take commands. */
  up(): number[] {
    return this.names.map((_, i) => i).filter((i) => this.runs[i].at(-1)?.up);
  }

  /** Starts a new run of node `i` (same data directory) and waits until it takes commands. */
  async startNode(i: number): Promise<void> {
    const previous = this.runs[i].at(-1);
    if (previous?.alive) throw new Error(`${this.names[i]} is still running`);
    const { ns, address } = this.hosts.host(i + 1);
    const node = new NodeProcess({
      ns,
      name: this.names[i],
      port: PORT,
      cookie: COOKIE,
      seeds: this.names.map((_, j) => `${this.hosts.host(j + 1).address}:${PORT}`).filter((a) => !a.startsWith(`${address}:`)),
      dataDir: join(this.dir, `n${i + 1}`),
      run: this.runs[i].length + 1,
    });
    this.runs[i].push(node);
    void node.exited.then((exit) => {
      if (node.signalledAt !== undefined || this.closing) return;
      this.timeline.note(`${short(node.name)} (run ${node.run}) EXITED ${describeExit(exit)} without a fault: ${errorSummary(node.stderr)}`);
      if (this.node(i) === node && ++this.crashRestarts[i] <= MAX_CRASH_RESTARTS) {
        setTimeout(() => {
          if (!this.closing && this.node(i) === node) this.startNode(i).catch((error) => this.timeline.note(`restarting ${short(node.name)} failed: ${String(error).split('\n')[0]}`));
        }, 1_000);
      }
    });
    await node.started(START_TIMEOUT);
    this.timeline.note(`${short(node.name)} run ${node.run} started (${node.readyAt! - node.startedAt} ms${node.events.some((e) => e.event.type === 'joined') ? '' : ', not joined yet'})`);
  }

  /** kill -9. */
  async kill(i: number): Promise<void> {
    const node = this.node(i);
    node.signal('SIGKILL');
    await node.exited;
  }

  /** SIGTERM, and a wait for the graceful shutdown (killed after STOP_TIMEOUT; the checker sees the signal). */
  async stop(i: number): Promise<void> {
    const node = this.node(i);
    node.signal('SIGTERM');
    const timer = setTimeout(() => {
      this.timeline.note(`${short(node.name)} did not shut down within ${STOP_TIMEOUT} ms of SIGTERM: killed`);
      process.kill(node.pid!, 'SIGKILL');
    }, STOP_TIMEOUT);
    await node.exited;
    clearTimeout(timer);
  }

  /** Cuts the network into islands of node indices. */
  isolate(groups: number[][]): void {
    this.hosts.isolate(groups.map((group) => group.map((i) => i + 1)));
    this.timeline.layout(groups.map((group) => group.map((i) => this.names[i])));
  }

  /** Makes the network whole again. */
  rejoin(): void {
    this.hosts.rejoin();
    this.timeline.layout(undefined);
  }

  /** Each node's state (`undefined` for a node that is down or does not answer within 3 s). */
  states(): Promise<Array<NodeState | undefined>> {
    return Promise.all(this.names.map((_, i) => (this.node(i).up ? this.node(i).ask<NodeState>({ cmd: 'state' }, 3_000).catch(() => undefined) : undefined)));
  }

  /** Whether every node runs and is linked to every other. */
  async meshed(): Promise<boolean> {
    const states = await this.states();
    return states.every((s) => s !== undefined && s.ready && s.peers.length === this.size - 1);
  }

  /** What keeps these states from a healed cluster (every node up and ready, linked to all, nothing unhealed); empty if nothing. */
  problems(states: Array<NodeState | undefined>): string[] {
    return states.flatMap((state, i) => {
      const name = short(this.names[i]);
      if (state === undefined) return [`${name} does not answer`];
      const missing = this.names.filter((other) => other !== this.names[i] && !state.peers.includes(other));
      return [
        ...(state.ready ? [] : [`${name} is not ready`]),
        ...(missing.length > 0 ? [`${name} is not linked to ${missing.map(short).join(' ')}`] : []),
        ...(state.unhealed.length > 0 ? [`${name} has unhealed ${state.unhealed.map(short).join(' ')}`] : []),
      ];
    });
  }

  /** Waits up to `timeout` ms for a full mesh; false if it did not form. */
  waitForMesh(timeout: number): Promise<boolean> {
    return waitFor(() => this.meshed(), timeout, 'a full mesh').catch(() => false);
  }

  /** Ends every node and removes the hosts and data. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.runs.map((runs) => runs.at(-1)?.shutdown()));
    this.hosts.remove();
    if (this.dir !== '') rmSync(this.dir, { recursive: true, force: true });
  }
}
