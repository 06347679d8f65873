import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { waitFor } from '../utils/wait-for';
import { check, CheckLimits, CheckResult, DEFAULT_LIMITS, DumpedState, formatResults, Observations } from './checker';
import { ChaosCluster } from './cluster';
import { boundedPlan, describeFault, Nemesis, randomFault } from './nemesis';
import type { NodeState } from './node-process';
import { Random } from './random';
import { short, Timeline } from './timeline';
import { acknowledged, Workload } from './workload';

export interface ChaosOptions {
  seed: number;
  /** Total length of the fault schedule in minutes; undefined: the bounded plan only (about two minutes). */
  minutes?: number;
  /** Where progress lines go as they happen. */
  print?: (line: string) => void;
  limits?: CheckLimits;
}

export interface ChaosResult {
  seed: number;
  results: CheckResult[];
  failed: CheckResult[];
  /** The whole run as text: settings, the timeline, the workload's counts and every check. */
  report: string;
}

const SIZE = 5;
/** How long to watch the cluster after the last fault for identical data and heals (the limit is checked separately). */
const FINAL_WAIT = 10_000;

/**
 * One chaos run: five nodes on five hosts, a session workload, a seeded
 * nemesis (the bounded plan, then random faults until `minutes` are over),
 * then the final observations and the checks.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const print = options.print ?? (() => undefined);
  const timeline = new Timeline(print);
  const random = new Random(options.seed);
  const cluster = new ChaosCluster(SIZE, timeline);
  // The nodes run the library's sources as they are on disk when each starts: say which.
  const library = librarySource();
  try {
    timeline.note(`chaos run, seed ${options.seed}, ${options.minutes === undefined ? 'bounded' : `${options.minutes} min`}, ${SIZE} nodes`);
    await cluster.start();
    if (!(await cluster.waitForMesh(30_000))) throw new Error(`the ${SIZE} nodes did not form a full mesh within 30 s`);
    timeline.note('full mesh: workload and nemesis start');

    const limits = options.limits ?? DEFAULT_LIMITS;
    const workload = new Workload(cluster, random.fork('workload'));
    const nemesis = new Nemesis(cluster, random.fork('holds'), timeline, limits.recoveryMs);
    workload.start();
    const plan = boundedPlan(random.fork('plan'), cluster.names);
    const more = random.fork('more');
    const deadline = timeline.t0 + (options.minutes ?? 0) * 60_000;
    for (let i = 0; ; i++) {
      const fault = i < plan.length ? plan[i] : randomFault(more, cluster.names);
      const last = i >= plan.length - 1 && Date.now() + estimate(fault) >= deadline;
      // The last fault is not followed by a settle time: convergence is measured from its end.
      await nemesis.run(fault, { settle: !last });
      if (last) break;
    }

    // Stop the writes first, so that identical digests mean converged, not "between two writes".
    const workloadStopped = workload.stop();
    const from = nemesis.lastFaultEndedAt;
    let identicalAt: number | undefined;
    let finalStates: Array<NodeState | undefined> = [];
    let dumps: Observations['dumps'];
    let seen = '';
    await waitFor(
      async () => {
        finalStates = await cluster.states();
        const digests = finalStates.map((s) => s?.digest);
        const identical = digests.every((d) => d !== undefined && d === digests[0]);
        if (identical) identicalAt ??= Date.now();
        // Each change in what is still wrong goes on the timeline: how the cluster converged, or did not.
        const wrong = [...(identical ? [] : [`digests ${digestGroups(cluster.names, digests)}`]), ...cluster.problems(finalStates)].join('; ');
        if (wrong !== seen && wrong !== '') timeline.note(`${Date.now() - from} ms after the last fault: ${wrong}`);
        seen = wrong;
        // Still different at the limit: keep what each node stores then, to show how they differ.
        if (!identical && identicalAt === undefined && dumps === undefined && Date.now() - from > limits.convergenceMs) dumps = await dumpAll(cluster);
        return identical && cluster.problems(finalStates).length === 0 && finalStates.every((s) => s!.health === 'up');
      },
      FINAL_WAIT,
      'identical, healed nodes',
    ).catch(() => undefined);
    const waitedMs = Date.now() - from;
    timeline.note(identicalAt === undefined ? `digests still differ ${(waitedMs / 1000).toFixed(1)} s after the last fault` : `identical digests ${identicalAt - from} ms after the last fault`);
    await workloadStopped;

    const readAt = Date.now();
    const tokens = [...workload.tokens];
    const reads = await Promise.all(cluster.names.map((_, i) => readAll(cluster, i, tokens)));
    const digests = finalStates.map((s) => s?.digest);
    if (!digests.every((d) => d !== undefined && d === digests[0])) dumps = await dumpAll(cluster);

    const observations: Observations = {
      names: cluster.names,
      runs: cluster.runs,
      timeline,
      ops: workload.ops,
      recoveries: nemesis.recoveries,
      lastFaultEndedAt: from,
      identicalAt,
      waitedMs,
      finalStates,
      tokens,
      reads,
      readAt,
      dumps,
    };
    const results = check(observations, limits);
    const report = [
      `chaos run: seed ${options.seed}, ${((Date.now() - timeline.t0) / 1000).toFixed(0)} s, ${nemesis.done.length} faults, ${cluster.runs.flat().length} node runs`,
      `library: ${library}`,
      `faults: ${nemesis.done.map((f) => describeFault(f, cluster.names)).join('; ')}`,
      `workload: ${workloadCounts(workload)}`,
      '',
      'timeline:',
      ...timeline.entries.map((e) => `  ${timeline.since(e.at)} ${e.text}`),
      '',
      formatResults(results),
    ].join('\n');
    return { seed: options.seed, results, failed: results.filter((r) => !r.ok), report };
  } finally {
    await cluster.close();
  }
}

/** "commit 1a2b3c4" or "commit 1a2b3c4 + uncommitted changes in libs/" (or why git could not tell). */
function librarySource(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `commit ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'libs') === '' ? '' : ' + uncommitted changes in libs/'}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** Nodes grouped by digest: "n1 n2 n3 n4 | n5". */
function digestGroups(names: string[], digests: Array<string | undefined>): string {
  const groups = new Map<string, string[]>();
  digests.forEach((digest, i) => groups.set(digest ?? '?', [...(groups.get(digest ?? '?') ?? []), short(names[i])]));
  return [...groups.values()].map((group) => group.join(' ')).join(' | ');
}

/** Roughly how long a fault takes, to end the schedule near the deadline. */
function estimate(fault: ReturnType<typeof randomFault>): number {
  if (fault.kind === 'partition') return fault.holdMs + 5_000;
  if (fault.kind === 'dial-race') return fault.downMs.reduce((a, b) => a + b + 3_000, 0);
  return fault.downMs + 4_000;
}

/** What `get` reads on node `i` for every token (expiresAt or null); undefined if the node cannot be read. */
async function readAll(cluster: ChaosCluster, i: number, tokens: string[]): Promise<Array<number | null> | undefined> {
  const node = cluster.node(i);
  if (!node.up) return undefined;
  try {
    const reads: Array<number | null> = [];
    for (let start = 0; start < tokens.length; start += 2_000) {
      reads.push(...(await node.ask<Array<number | null>>({ cmd: 'getMany', tokens: tokens.slice(start, start + 2_000) }, 10_000)));
    }
    return reads;
  } catch {
    return undefined;
  }
}

/** What every node stores, with when it was asked. */
async function dumpAll(cluster: ChaosCluster): Promise<NonNullable<Observations['dumps']>> {
  const at = Date.now();
  const states = await Promise.all(cluster.names.map((_, i) => cluster.node(i).ask<DumpedState[]>({ cmd: 'dump' }, 10_000).catch(() => undefined)));
  return { at, states };
}

/** "create 812 (790 acknowledged), touch …". */
function workloadCounts(workload: Workload): string {
  const counts = new Map<string, { sent: number; acked: number }>();
  for (const op of workload.ops) {
    const count = counts.get(op.name) ?? { sent: 0, acked: 0 };
    count.sent++;
    if (acknowledged(op)) count.acked++;
    counts.set(op.name, count);
  }
  return [...counts].map(([name, c]) => `${name} ${c.sent} (${c.acked} acknowledged)`).join(', ');
}
