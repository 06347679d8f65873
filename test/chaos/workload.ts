import type { ChaosCluster } from './cluster';
import type { NodeProcess } from './node-process';
import type { Random } from './random';

export type OperationName = 'create' | 'touch' | 'delete' | 'revokeAll' | 'get' | 'list';

/** One call the workload made, and what came of it. */
export interface Operation {
  seq: number;
  worker: number;
  name: OperationName;
  /** The node it was sent to, and that run of it. */
  node: string;
  process: NodeProcess;
  user?: string;
  token?: string;
  sentAt: number;
  /** When the answer came; undefined if it never came (the node was killed, or it was still waiting at the end). */
  answeredAt?: number;
  /** Whether the call succeeded (false: it threw, `error` says why). */
  ok?: boolean;
  result?: unknown;
  error?: string;
}

/** A write succeeded and the client heard so. */
export function acknowledged(op: Operation): boolean {
  return op.ok === true;
}

/** A write whose effect is unknown: no answer, or an error (it may have been applied before it failed). */
export function uncertain(op: Operation): boolean {
  return op.ok !== true;
}

export interface WorkloadOptions {
  /** Concurrent workers. */
  workers: number;
  /** Users u1 … uN. */
  users: number;
  /** Users u1 … uN of those sign out everywhere (revokeAll) now and then; the others' sessions only end by a delete. */
  revokingUsers: number;
  /** Pause between two calls of one worker, in ms (keeps the 2-core machine and the final reads light). */
  pauseMs: number;
  /** A worker waits this long for an answer, then moves on (the answer is still recorded if it comes). */
  answerTimeoutMs: number;
}

const DEFAULTS: WorkloadOptions = { workers: 4, users: 40, revokingUsers: 8, pauseMs: 40, answerTimeoutMs: 10_000 };

/** How often each call is made, out of 100. */
const MIX: Array<[OperationName, number]> = [
  ['create', 30],
  ['touch', 18],
  ['delete', 10],
  ['revokeAll', 3],
  ['get', 25],
  ['list', 14],
];

/**
 * Sessions used the way an app uses them, against random running nodes —
 * on whatever side of a partition they are: workers that create, renew
 * (touch), sign out (delete), sign out everywhere (revokeAll) and read, and
 * record every call with when it was sent and answered.
 */
export class Workload {
  readonly ops: Operation[] = [];
  /** Tokens of acknowledged creates, in order. */
  readonly tokens: string[] = [];
  /** Tokens a delete was sent for (the workload picks others to delete). */
  private readonly deleted = new Set<string>();
  private readonly options: WorkloadOptions;
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly random: Random,
    options: Partial<WorkloadOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    this.running = Array.from({ length: this.options.workers }, (_, w) => this.worker(w));
  }

  /** Stops making calls; resolves once every worker's last call was answered or timed out. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async worker(w: number): Promise<void> {
    while (!this.stopping) {
      const up = this.cluster.up();
      if (up.length > 0) {
        const answer = this.call(w, this.cluster.node(this.random.pick(up)));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([answer, new Promise((resolve) => (timer = setTimeout(resolve, this.options.answerTimeoutMs)))]);
        clearTimeout(timer);
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }

  /** Makes one call on `node`; resolves when its answer (or the process's end) is recorded. */
  private call(worker: number, node: NodeProcess): Promise<void> {
    const name = this.chooseOperation();
    const op: Omit<Operation, 'sentAt'> = { seq: this.ops.length + 1, worker, name, node: node.name, process: node };
    switch (name) {
      case 'create':
      case 'list':
        op.user = `u${this.random.between(1, this.options.users)}`;
        break;
      case 'revokeAll':
        op.user = `u${this.random.between(1, this.options.revokingUsers)}`;
        break;
      case 'delete':
        op.token = this.chooseToken(true);
        this.deleted.add(op.token);
        break;
      default:
        op.token = this.chooseToken(false);
    }
    const { sentAt, answer } = node.send({ cmd: name, user: op.user, token: op.token });
    const recorded: Operation = { ...op, sentAt };
    this.ops.push(recorded);
    return answer.then((a) => {
      if (a === undefined) return;
      Object.assign(recorded, { answeredAt: a.at, ok: a.ok, result: a.result, error: a.error });
      if (name === 'create' && a.ok) this.tokens.push((a.result as { token: string }).token);
    });
  }

  /** A call by MIX; a create while there is no token yet. */
  private chooseOperation(): OperationName {
    if (this.tokens.length === 0) return 'create';
    let roll = this.random.int(100);
    for (const [name, weight] of MIX) {
      if (roll < weight) return name;
      roll -= weight;
    }
    return 'get';
  }

  /** Mostly a recent token (likely live); for a delete, preferably one not deleted yet. */
  private chooseToken(forDelete: boolean): string {
    const recent = this.tokens.slice(-200);
    for (let attempt = 0; attempt < 4; attempt++) {
      const pool = this.random.int(4) === 0 ? this.tokens : recent;
      const token = this.random.pick(pool);
      if (!forDelete || !this.deleted.has(token)) return token;
    }
    return this.random.pick(recent);
  }
}
