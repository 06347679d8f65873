import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { ClusterEvent } from '@app/cluster-cache';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixtures', 'chaos-node.ts');

/** What a node answered to a command: a result, or the error the call threw. */
export interface Answer {
  ok: boolean;
  result?: unknown;
  error?: string;
  /** When the runner received it (ms since the epoch). */
  at: number;
}

/** A log line of the node (Nest's logger), with its time. */
export interface LogLine {
  at: number;
  level: string;
  context?: string;
  message: string;
}

/** How a run ended. */
export interface Exit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What the node reports about itself (the `state` command). */
export interface NodeState {
  ready: boolean;
  peers: string[];
  unhealed: string[];
  digest: string;
  health: string;
  healthMessage?: string;
}

export interface NodeProcessOptions {
  /** The network namespace of its host. */
  ns: string;
  name: string;
  port: number;
  cookie: string;
  /** The other nodes' cluster addresses (`extraNodes`). */
  seeds: string[];
  dataDir: string;
  /** Which run of this node this is (1 for the first start). */
  run: number;
}

/**
 * One run of `fixtures/chaos-node.ts` inside its host's namespace: sends it
 * commands as JSON lines and keeps everything it prints (answers, events,
 * logs, stderr) and how it ended.
 */
export class NodeProcess {
  readonly name: string;
  readonly run: number;
  readonly startedAt = Date.now();
  /** When it printed `started` (its application context is up, the node joined or gave up waiting). */
  readyAt: number | undefined;
  readonly events: Array<{ at: number; event: ClusterEvent }> = [];
  readonly logs: LogLine[] = [];
  stderr = '';
  exit: Exit | undefined;
  /** Resolves when the process ended and its output was read. */
  readonly exited: Promise<Exit>;
  /** Set by the nemesis before it signals the process: an exit after that is expected. */
  signalledAt: { at: number; signal: NodeJS.Signals } | undefined;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (answer: Answer | undefined) => void>();
  private startedWaiters: Array<() => void> = [];

  constructor(options: NodeProcessOptions) {
    this.name = options.name;
    this.run = options.run;
    // `ip netns exec` execs the command: the child's pid is the node's, so signals reach it directly.
    this.child = spawn(
      'ip',
      ['netns', 'exec', options.ns, process.execPath, '--unhandled-rejections=strict', '-r', '@swc-node/register', FIXTURE],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
          NODE_NAME: options.name,
          NODE_PORT: String(options.port),
          COOKIE: options.cookie,
          SEEDS: options.seeds.join(','),
          DATA_DIR: options.dataDir,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    // Writing to a process that just died must not throw in the runner.
    this.child.stdin!.on('error', () => undefined);
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => this.onLine(line));
    const stdoutClosed = new Promise((resolve) => lines.once('close', resolve));
    this.exited = new Promise<Exit>((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { at: Date.now(), code, signal };
        resolve(this.exit);
      }),
    ).then(async (exit) => {
      await stdoutClosed;
      for (const answer of this.pending.values()) answer(undefined);
      this.pending.clear();
      for (const waiter of this.startedWaiters) waiter();
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Whether it runs and has started (it takes commands). */
  get up(): boolean {
    return this.alive && this.readyAt !== undefined;
  }

  /**
   * Sends a command. `answer` resolves with the node's answer, whenever it
   * comes, or `undefined` if the process ends first.
   */
  send(command: Record<string, unknown>): { sentAt: number; answer: Promise<Answer | undefined> } {
    const id = this.nextId++;
    const answer = new Promise<Answer | undefined>((resolve) => {
      if (!this.alive) return resolve(undefined);
      this.pending.set(id, resolve);
    });
    const sentAt = Date.now();
    if (this.alive) this.child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    return { sentAt, answer };
  }

  /** Sends a command and resolves with its result; rejects on an error, the process's end or after `timeout` ms. */
  async ask<T>(command: Record<string, unknown>, timeout = 10_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      this.send(command).answer,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout))),
    ]).finally(() => clearTimeout(timer));
    if (answer === 'timeout') throw new Error(`${this.name}: no answer to ${command.cmd} within ${timeout} ms`);
    if (answer === undefined) throw new Error(`${this.name}: the process ended before it answered ${command.cmd}`);
    if (!answer.ok) throw new Error(`${this.name}: ${command.cmd} failed: ${answer.error}`);
    return answer.result as T;
  }

  /** Resolves once it has started; rejects if it ends first or after `timeout` ms. */
  async started(timeout: number): Promise<void> {
    if (this.readyAt === undefined && this.alive) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.startedWaiters.push(resolve);
        timer = setTimeout(resolve, timeout);
      }).finally(() => clearTimeout(timer));
    }
    if (this.readyAt !== undefined && this.alive) return;
    throw new Error(`${this.name} (run ${this.run}) did not start: ${this.alive ? `no "started" within ${timeout} ms` : `exited ${describeExit(this.exit!)}`}\n${this.stderr}`);
  }

  /** Sends a signal on the nemesis's behalf (so the exit counts as expected). */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    this.signalledAt ??= { at: Date.now(), signal };
    this.child.kill(signal);
  }

  /** Ends the process without it counting as a fault (the end of a run). */
  async shutdown(): Promise<void> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    let parsed: { kind?: string; at?: number } & Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.stderr += `(stdout, not JSON) ${line}\n`;
      return;
    }
    const at = parsed.at ?? Date.now();
    switch (parsed.kind) {
      case 'answer': {
        const resolve = this.pending.get(parsed.id as number);
        this.pending.delete(parsed.id as number);
        resolve?.({ ok: parsed.ok as boolean, result: parsed.result, error: parsed.error as string | undefined, at: Date.now() });
        return;
      }
      case 'event':
        this.events.push({ at, event: parsed.event as ClusterEvent });
        return;
      case 'log':
        this.logs.push({ at, level: parsed.level as string, context: parsed.context as string | undefined, message: parsed.message as string });
        return;
      case 'started':
        this.readyAt = at;
        for (const waiter of this.startedWaiters) waiter();
        this.startedWaiters = [];
        return;
      default:
        this.stderr += `(stdout, unknown line) ${line}\n`;
    }
  }
}

/** "with code 1" / "on SIGKILL". */
export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `on ${exit.signal}` : `with code ${exit.code}`;
}

/**
 * The line of a crash's stderr that says what went wrong: Node prints the
 * source line and a caret first, then `SomeError: message`.
 */
export function errorSummary(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /^(\w*Error|\[?\w*Exception|Uncaught|the node failed|graceful shutdown failed)\b/.test(line)) ?? lines[0] ?? '(nothing on stderr)';
}
