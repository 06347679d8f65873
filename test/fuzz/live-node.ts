import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { ClusterStats } from '@app/cluster-cache';
import type { GossipStats } from '@app/cluster-cache/discovery';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'fuzz-node.ts');
const REGISTER = path.join(ROOT, 'test', 'persistence', 'fixtures', 'register.js');

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

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

/** A failed command's error, as the child reports it. */
export interface ChildError {
  name: string;
  code?: string;
  file?: string;
  message: string;
}

/**
 * A node of fixtures/fuzz-node.ts in a child process run with
 * `--unhandled-rejections=strict`, driven by JSON lines: if it crashes,
 * aborts or exits, every pending and later command fails with its exit and
 * the end of its stderr, and {@link alive} turns false.
 */
export class LiveNode {
  readonly events: NodeEvent[] = [];
  readonly logs: { level: string; message: string }[] = [];
  stderr = '';
  /** Its cluster address, `host:port` (serve mode). */
  address = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  private nextId = 1;
  private exit: Exit | undefined;
  private readonly started: Promise<void>;

  constructor(
    readonly label: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['--unhandled-rejections=strict', '-r', REGISTER, FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-20_000)));
    let started!: () => void;
    this.started = new Promise((resolve) => (started = resolve));
    const stdout = createInterface({ input: this.child.stdout! });
    stdout.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as {
        kind: string;
        id?: number;
        ok?: boolean;
        result?: unknown;
        error?: ChildError;
        address?: string;
        level?: string;
        message?: string;
        type?: NodeEvent['type'];
        node?: string;
        reason?: string;
      };
      switch (message.kind) {
        case 'started':
          this.address = message.address ?? '';
          return started();
        case 'event':
          return void this.events.push({ type: message.type!, node: message.node!, reason: message.reason, at: Date.now() });
        case 'log':
          if (this.logs.length < 5_000) this.logs.push({ level: message.level!, message: message.message! });
          return;
        case 'answer': {
          const waiter = this.pending.get(message.id!);
          this.pending.delete(message.id!);
          if (message.ok) waiter?.resolve(message.result);
          else waiter?.reject(Object.assign(new Error(message.error!.message), message.error));
        }
      }
    });
    const closed = new Promise((resolve) => stdout.once('close', resolve));
    this.exited = new Promise<Exit>((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal }))).then(async (exit) => {
      await closed;
      this.exit = exit;
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.describeExit()));
      this.pending.clear();
      return exit;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** False once the process has ended. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once the node is up; rejects with its stderr if it ends first. */
  async ready(): Promise<this> {
    await Promise.race([
      this.started,
      this.exited.then(() => {
        throw new Error(this.describeExit());
      }),
    ]);
    return this;
  }

  /** Sends a command; resolves with its result, rejects with the child's error or its exit. */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exit !== undefined) return Promise.reject(new Error(this.describeExit()));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  stats(): Promise<NodeStats> {
    return this.call<NodeStats>('stats');
  }

  /** Closes the node gracefully (the end of its stdin) and waits for its exit. */
  stop(): Promise<Exit> {
    if (this.exit === undefined) this.child.stdin!.end();
    return this.exited;
  }

  kill(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }

  /** How it ended, with the end of its stderr and its last warnings, for failure messages. */
  describeExit(): string {
    const logs = this.logs.slice(-10).map((l) => `${l.level} ${l.message}`).join('\n');
    return `${this.label} (pid ${this.child.pid}) exited ${JSON.stringify(this.exit)}; stderr:\n${this.stderr.slice(-4_000)}\nlast logs:\n${logs}`;
  }
}
