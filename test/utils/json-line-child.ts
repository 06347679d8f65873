import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A failed command's error, as the child reports it. */
export interface ChildError {
  name: string;
  code?: string;
  file?: string;
  message: string;
}

/** One JSON line of the child: `started`, `log`, `answer`, or a kind of the fixture's own. */
export interface ChildMessage {
  kind: string;
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: ChildError;
  level?: string;
  message?: string;
  [field: string]: unknown;
}

/**
 * A fixture process driven by JSON lines: commands `{ id, cmd, ...args }` on
 * its stdin, `{ kind: 'answer', id, ok, result | error }` on its stdout, with
 * `started` once it is up and `log` lines of its logger. If it crashes, aborts
 * or exits, every pending and later command fails with its exit and the end of
 * its stderr (a native crash fails the spec instead of ending Jest).
 */
export class JsonLineChild {
  readonly logs: { level: string; message: string }[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  protected readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  private nextId = 1;
  private exit: Exit | undefined;
  private readonly started: Promise<void>;

  constructor(
    readonly label: string,
    args: string[],
    options: { cwd?: string; env: Record<string, string> },
  ) {
    this.child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-20_000)));
    let started!: () => void;
    this.started = new Promise((resolve) => (started = resolve));
    const stdout = createInterface({ input: this.child.stdout! });
    stdout.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as ChildMessage;
      switch (message.kind) {
        case 'started':
          this.onStarted(message);
          return started();
        case 'log':
          if (this.logs.length < 5_000) this.logs.push({ level: message.level!, message: message.message! });
          return;
        case 'answer': {
          const waiter = this.pending.get(message.id!);
          this.pending.delete(message.id!);
          if (message.ok) waiter?.resolve(message.result);
          else waiter?.reject(Object.assign(new Error(message.error!.message), message.error));
          return;
        }
        default:
          this.onMessage(message);
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

  /** Resolves once the child said `started`; rejects with its stderr if it ends first. */
  async ready(): Promise<this> {
    await Promise.race([
      this.started,
      this.exited.then(() => {
        throw new Error(this.describeExit());
      }),
    ]);
    return this;
  }

  /** Sends a command; resolves with its result, rejects with the child's error (an Error carrying the `ChildError` fields) or its exit. */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exit !== undefined) return Promise.reject(new Error(this.describeExit()));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** Closes the child gracefully (the end of its stdin) and waits for its exit. */
  stop(): Promise<Exit> {
    if (this.exit === undefined) this.child.stdin!.end();
    return this.exited;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  /** How it ended, with the end of its stderr and its last log lines, for failure messages. */
  describeExit(): string {
    const logs = this.logs.slice(-10).map((l) => `${l.level} ${l.message}`).join('\n');
    return `${this.label} (pid ${this.child.pid}) exited ${JSON.stringify(this.exit)}; stderr:\n${this.stderr.slice(-4_000)}\nlast logs:\n${logs}`;
  }

  /** The `started` line, for fixtures that say more in it (an address). */
  protected onStarted(_message: ChildMessage): void {}

  /** A line of a kind of the fixture's own. */
  protected onMessage(_message: ChildMessage): void {}
}
