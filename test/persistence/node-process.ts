import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Exit } from './child-process';

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

/** A failed command's error, as the child reports it. */
export interface ChildError {
  name: string;
  code?: string;
  message: string;
}

/**
 * A whole node (fixtures/node-child.ts) in a child process, driven by JSON
 * lines: a native crash fails the spec with the child's stderr instead of
 * ending Jest.
 */
export class NodeChild {
  readonly logs: { level: string; message: string }[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly process: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private exit: Exit | undefined;
  private readonly started: Promise<void>;

  constructor(env: Record<string, string>) {
    this.process = spawn(process.execPath, ['-r', path.join(FIXTURES, 'register.js'), path.join(FIXTURES, 'node-child.ts')], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let started!: () => void;
    this.started = new Promise((resolve) => (started = resolve));
    const stdout = createInterface({ input: this.process.stdout! });
    stdout.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as { kind: string; id?: number; ok?: boolean; result?: unknown; error?: ChildError; level?: string; message?: string };
      if (message.kind === 'started') started();
      if (message.kind === 'log') this.logs.push({ level: message.level!, message: message.message! });
      if (message.kind === 'answer') {
        const waiter = this.pending.get(message.id!);
        this.pending.delete(message.id!);
        if (message.ok) waiter?.resolve(message.result);
        else waiter?.reject(message.error);
      }
    });
    const closed = new Promise((resolve) => stdout.once('close', resolve));
    this.exited = new Promise<Exit>((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal }))).then(async (exit) => {
      await closed;
      this.exit = exit;
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.describeExit()));
      this.pending.clear();
      return exit;
    });
  }

  /** Resolves once the node's application context is up (it joined or started the cluster). */
  async ready(): Promise<this> {
    await Promise.race([
      this.started,
      this.exited.then(() => {
        throw new Error(this.describeExit());
      }),
    ]);
    return this;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Sends a command; resolves with its result, rejects with the child's error (a `ChildError`). */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exit !== undefined) return Promise.reject(new Error(this.describeExit()));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
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

  kill(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.process.kill(signal);
  }

  /** Closes the node gracefully (the end of its stdin) and waits for its exit. */
  async stop(): Promise<Exit> {
    this.process.stdin!.end();
    return this.exited;
  }

  private describeExit(): string {
    const logs = this.logs.slice(-20).map((l) => `${l.level} ${l.message}`).join('\n');
    return `the node exited (${JSON.stringify(this.exit)}); stderr: ${this.stderr}\nlast logs:\n${logs}`;
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
