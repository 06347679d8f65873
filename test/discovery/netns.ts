import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { NetnsHosts } from '../utils/netns';

export { ip, requireNetns } from '../utils/netns';

/**
 * The discovery specs' hosts: namespaces `nccdisc-N` with addresses
 * 10.77.0.N/24 on one bridge (see NetnsHosts).
 */
export const hosts = new NetnsHosts({ prefix: 'nccdisc', subnet: '10.77.0', count: 3 });

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixtures', 'discovery-node.ts');

/** A JSON line printed by the fixture. */
export type NodeEvent = { event: string } & Record<string, unknown>;

/**
 * A `fixtures/discovery-node.ts` process inside a namespace. Its stdout JSON
 * lines are kept in `events`; `next()` waits for one (event-driven, no polling).
 */
export class NsNode {
  readonly events: NodeEvent[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiters: { match: (e: NodeEvent) => boolean; resolve: (e: NodeEvent) => void }[] = [];

  constructor(
    readonly ns: string,
    env: { NODE_NAME: string; NODE_PORT: number; COOKIE: string; DISCOVERY: object[] },
  ) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-r', '@swc-node/register', FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), NODE_NAME: env.NODE_NAME, NODE_PORT: String(env.NODE_PORT), COOKIE: env.COOKIE, DISCOVERY: JSON.stringify(env.DISCOVERY) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => this.onLine(line));
    const stdoutClosed = new Promise((resolve) => lines.once('close', resolve));
    this.exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code))).then(async (code) => {
      await stdoutClosed;
      return code;
    });
  }

  /** Resolves with the first event (already printed or to come) that matches; rejects if the process ends first or after `timeout`. */
  next(match: (e: NodeEvent) => boolean, timeout = 20_000, what = 'an event'): Promise<NodeEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`timed out after ${timeout} ms`), timeout);
      const waiter = { match, resolve: (e: NodeEvent) => (clearTimeout(timer), resolve(e)) };
      this.waiters.push(waiter);
      const fail = (why: string) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.ns}: ${why} waiting for ${what}\nstdout: ${this.events.map((e) => JSON.stringify(e)).join('\n')}\nstderr: ${this.stderr}`));
      };
      void this.exited.then((code) => fail(`process exited (${code})`));
    });
  }

  /** Sends a command and resolves with the answer (the next event named `answer`). */
  async ask(command: object, answer: string): Promise<NodeEvent> {
    const before = this.events.length;
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.next((e) => e.event === answer && this.events.indexOf(e) >= before, 10_000, `the answer to ${JSON.stringify(command)}`);
  }

  /** Closes stdin (the node leaves and exits) and waits; SIGKILL if it takes over 10 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    let event: NodeEvent;
    try {
      event = JSON.parse(line) as NodeEvent;
    } catch {
      this.stderr += `(stdout, not JSON) ${line}\n`;
      return;
    }
    this.events.push(event);
    for (const waiter of this.waiters.filter((w) => w.match(event))) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    }
  }
}
