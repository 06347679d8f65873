import { waitFor } from '../utils/wait-for';
import type { ChaosCluster } from './cluster';
import type { Random } from './random';
import { short, Timeline } from './timeline';

export type PartitionShape = '3-2' | '2-2-1' | '4-1';

/** One fault. Nodes are indices into the cluster. */
export type Fault =
  /** Islands (each group on a bridge of its own), held `holdMs`; `during` runs on the way (on nodes of the largest island). */
  | { kind: 'partition'; shape: PartitionShape; groups: number[][]; holdMs: number; during?: Fault[] }
  /** kill -9, `downMs` down, then a restart with the same data directory. */
  | { kind: 'kill'; node: number; downMs: number }
  /** SIGTERM (a graceful shutdown), `downMs` down, then a restart. */
  | { kind: 'stop'; node: number; downMs: number }
  /** Two nodes killed at once, then both restarted. */
  | { kind: 'kill-two'; nodes: [number, number]; downMs: number }
  /**
   * The node whose name sorts last is killed and restarted, once per entry of
   * `downMs`, while the others keep probing its address: its own dials and
   * theirs race (a known bug leaves a false netsplit unhealed).
   */
  | { kind: 'dial-race'; node: number; downMs: number[] };

const SHAPES: Record<PartitionShape, number[]> = { '3-2': [3, 2], '2-2-1': [2, 2, 1], '4-1': [4, 1] };
/** How long a dial race waits for the mesh before its next round. */
const RELINK_TIMEOUT = 3_000;

/** Random islands of `shape` over nodes 0 … size-1 (size 5). */
export function islands(random: Random, shape: PartitionShape, size: number): number[][] {
  const order = random.shuffle([...Array(size).keys()]);
  const groups: number[][] = [];
  for (const n of SHAPES[shape]) groups.push(order.splice(0, n).sort((a, b) => a - b));
  return groups;
}

/** The index of the node whose name sorts last (the one a dial race hits). */
export function lastSorting(names: readonly string[]): number {
  return names.indexOf([...names].sort().at(-1)!);
}

/**
 * Every kind of fault, in about two minutes: a 3-2 and a 2-2-1 partition
 * (6–20 s each), a kill -9, two nodes killed at once, a 4-1 partition held
 * over 60 s during which one node of the majority is stopped (SIGTERM) and
 * restarted, and last three dial races (last, so that a false netsplit they
 * leave is not healed by chance by a later partition).
 */
export function boundedPlan(random: Random, names: readonly string[]): Fault[] {
  const size = names.length;
  const long = islands(random, '4-1', size);
  const [a, b] = random.shuffle([...Array(size).keys()]);
  return [
    { kind: 'partition', shape: '3-2', groups: islands(random, '3-2', size), holdMs: random.between(6_000, 20_000) },
    { kind: 'kill', node: random.int(size), downMs: random.between(500, 3_000) },
    { kind: 'partition', shape: '2-2-1', groups: islands(random, '2-2-1', size), holdMs: random.between(6_000, 20_000) },
    { kind: 'kill-two', nodes: [a, b], downMs: random.between(500, 2_000) },
    // Only one restart inside: a restarted node dials afresh, which would hide a slow reconnect after the heal.
    { kind: 'partition', shape: '4-1', groups: long, holdMs: random.between(60_000, 63_000), during: [{ kind: 'stop', node: random.pick(long[0]), downMs: random.between(500, 2_000) }] },
    { kind: 'dial-race', node: lastSorting(names), downMs: [random.between(1_000, 4_000), random.between(1_000, 4_000), random.between(1_000, 4_000)] },
  ];
}

/** One more random fault, for long runs after the bounded plan. */
export function randomFault(random: Random, names: readonly string[]): Fault {
  const size = names.length;
  const roll = random.int(100);
  if (roll < 40) {
    const shape = random.pick<PartitionShape>(['3-2', '2-2-1', '4-1']);
    return { kind: 'partition', shape, groups: islands(random, shape, size), holdMs: random.between(6_000, 20_000) };
  }
  if (roll < 48) {
    // A long one, with a restart on the majority side meanwhile.
    const shape = random.pick<PartitionShape>(['3-2', '4-1']);
    const groups = islands(random, shape, size);
    const during: Fault[] = [{ kind: random.pick(['kill', 'stop'] as const), node: random.pick(groups[0]), downMs: random.between(500, 3_000) }];
    return { kind: 'partition', shape, groups, holdMs: random.between(60_000, 90_000), during };
  }
  if (roll < 63) return { kind: 'kill', node: random.int(size), downMs: random.between(500, 5_000) };
  if (roll < 78) return { kind: 'stop', node: random.int(size), downMs: random.between(500, 5_000) };
  if (roll < 88) {
    const [a, b] = random.shuffle([...Array(size).keys()]);
    return { kind: 'kill-two', nodes: [a, b], downMs: random.between(500, 3_000) };
  }
  return { kind: 'dial-race', node: lastSorting(names), downMs: Array.from({ length: random.between(2, 4) }, () => random.between(500, 4_000)) };
}

/** A fault in words, for the timeline. */
export function describeFault(fault: Fault, names: readonly string[]): string {
  const n = (i: number) => short(names[i]);
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.shape} (${fault.groups.map((g) => g.map(n).join(' ')).join(' | ')}) for ${(fault.holdMs / 1000).toFixed(1)} s`;
    case 'kill':
      return `kill -9 ${n(fault.node)}, restart after ${fault.downMs} ms`;
    case 'stop':
      return `SIGTERM ${n(fault.node)}, restart after ${fault.downMs} ms`;
    case 'kill-two':
      return `kill -9 ${n(fault.nodes[0])} and ${n(fault.nodes[1])} at once, restart after ${fault.downMs} ms`;
    case 'dial-race':
      return `dial race: restart ${n(fault.node)} ${fault.downMs.length} times while the others probe it (down ${fault.downMs.join(', ')} ms)`;
  }
}

/** How the cluster came back after a fault. */
export interface Recovery {
  fault: string;
  /** When the fault ended (the heal, or the restarted node up). */
  endedAt: number;
  /** When every node was up, linked to all others and had nothing unhealed; undefined if not within the settle time. */
  settledAt: number | undefined;
  /** What was still wrong when the settle time ran out. */
  left: string[];
}

/**
 * Injects faults into the cluster, one after the other. After each (but the
 * last, which the final checks measure) it gives the cluster a settle time
 * to re-link and heal, and records how that went.
 */
export class Nemesis {
  /** When the last fault ended. */
  lastFaultEndedAt = Date.now();
  readonly done: Fault[] = [];
  readonly recoveries: Recovery[] = [];

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly random: Random,
    private readonly timeline: Timeline,
    /** How long the cluster gets to re-link and heal after a fault before the next one (it goes on either way), in ms. */
    private readonly settleMs: number,
  ) {}

  /** Runs one fault to its end, then (with `settle`) waits for the cluster to re-form. */
  async run(fault: Fault, { settle = true } = {}): Promise<void> {
    await this.inject(fault);
    this.done.push(fault);
    if (settle) await this.settle(describeFault(fault, this.cluster.names));
  }

  private async settle(fault: string): Promise<void> {
    const endedAt = this.lastFaultEndedAt;
    let left: string[] = [];
    await waitFor(
      async () => (left = this.cluster.problems(await this.cluster.states())).length === 0,
      this.settleMs,
      'a healed cluster',
    ).catch(() => undefined);
    const settledAt = left.length === 0 ? Date.now() : undefined;
    this.recoveries.push({ fault, endedAt, settledAt, left });
    if (settledAt === undefined) this.timeline.note(`not re-formed ${((Date.now() - endedAt) / 1000).toFixed(1)} s after the fault: ${left.join('; ')}`);
  }

  private async inject(fault: Fault): Promise<void> {
    this.timeline.note(describeFault(fault, this.cluster.names), 'fault');
    switch (fault.kind) {
      case 'partition':
        return this.partition(fault.groups, fault.holdMs, fault.during ?? []);
      case 'kill':
        await this.cluster.kill(fault.node);
        return this.restartAfter(fault.downMs, [fault.node]);
      case 'stop':
        await this.cluster.stop(fault.node);
        return this.restartAfter(fault.downMs, [fault.node]);
      case 'kill-two':
        await Promise.all(fault.nodes.map((i) => this.cluster.kill(i)));
        return this.restartAfter(fault.downMs, fault.nodes);
      case 'dial-race':
        for (const downMs of fault.downMs) {
          await this.cluster.kill(fault.node);
          await this.restartAfter(downMs, [fault.node]);
          // Let it link (or not) before the next round: the race is at the restart.
          await this.cluster.waitForMesh(RELINK_TIMEOUT);
        }
    }
  }

  /** Cuts the network, runs `during` spread over the hold, and heals after `holdMs`. */
  private async partition(groups: number[][], holdMs: number, during: Fault[]): Promise<void> {
    const cutAt = Date.now();
    this.cluster.isolate(groups);
    for (const fault of during) {
      // Faults inside a partition start a random while after the previous one, leaving room to the end of the hold.
      await hold(this.random.between(5_000, 15_000));
      if (Date.now() - cutAt > holdMs - 10_000) break;
      await this.inject(fault);
    }
    await hold(holdMs - (Date.now() - cutAt));
    this.cluster.rejoin();
    this.lastFaultEndedAt = Date.now();
    this.timeline.note(`partition healed after ${((Date.now() - cutAt) / 1000).toFixed(1)} s`);
  }

  /** Waits `downMs` (the fault's duration) and starts the nodes again. */
  private async restartAfter(downMs: number, nodes: number[]): Promise<void> {
    await hold(downMs);
    await Promise.all(
      nodes.map((i) =>
        this.cluster.startNode(i).catch((error: unknown) => this.timeline.note(`restarting ${short(this.cluster.names[i])} failed: ${String(error).split('\n')[0]}`)),
      ),
    );
    this.lastFaultEndedAt = Date.now();
  }
}

/** How long a fault lasts: a sleep by design, not a wait for a condition. */
function hold(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
