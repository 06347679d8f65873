import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { demoLayout, DemoLayout, DemoNode, ensureBuilt, ROOT, startNode } from '../../scripts/demo-nodes';
import { waitFor } from '../utils/wait-for';
import { httpRequest } from '../utils/http-request';

/** A line `scripts/demo.js --json` prints about what it did. */
export interface DemoRecord {
  demo: 'lb' | 'node' | 'ready' | 'exit' | 'ports-in-use';
  id?: string;
  pid?: number;
  [key: string]: unknown;
}

/** Builds the demo unless dist/ already holds a build newer than every source file. */
export function buildDemoOnce(): void {
  ensureBuilt({ stdio: 'pipe' });
}

/**
 * Environment for a demo run on free ports and a fresh temp data directory,
 * so a test does not clash with a running `npm run demo` or another test.
 */
export async function testEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv & { DEMO_DATA_DIR: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 21000 + 30 * Math.floor(Math.random() * 250);
    const ports = [base, base + 2, base + 10, base + 12, base + 20];
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) {
      return {
        ...process.env,
        DEMO_BASE_PORT: String(base),
        DEMO_CLUSTER_BASE_PORT: String(base + 10),
        DEMO_LB_PORT: String(base + 20),
        DEMO_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'demo-e2e-')),
        NO_COLOR: '1',
        ...extra,
      };
    }
  }
  throw new Error('no free ports for the demo');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `node scripts/demo.js --no-build --json` as a child: its records, its
 * output (kept for failure messages), and every pid it started.
 */
export class DemoRun {
  readonly layout: DemoLayout;
  readonly records: DemoRecord[] = [];
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Nodes the test started itself (restarts). */
  private readonly extra: ChildProcess[] = [];
  private readonly script: ChildProcess;

  constructor(readonly env: NodeJS.ProcessEnv) {
    this.layout = demoLayout(env);
    this.script = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.js'), '--no-build', '--json'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.collect(this.script, '');
    this.exited = new Promise((resolve) => this.script.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when the script says both nodes answer. */
  async ready(timeout = 60_000): Promise<void> {
    await waitFor(() => this.records.some((r) => r.demo === 'ready') || this.script.exitCode !== null, timeout, 'the demo to be ready');
    if (!this.records.some((r) => r.demo === 'ready')) throw new Error(`the demo script ended before it was ready:\n${this.log()}`);
  }

  node(id: string): DemoNode {
    return this.layout.nodes.find((n) => n.id === id)!;
  }

  /** Pid of the node the script started. */
  pidOf(id: string): number {
    const record = this.records.find((r) => r.demo === 'node' && r.id === id);
    if (record?.pid === undefined) throw new Error(`no pid for node ${id}`);
    return record.pid;
  }

  /** Starts a node again with the environment the script gives it. */
  restart(id: string): ChildProcess {
    const child = startNode(this.node(id), this.layout, { env: this.env });
    this.collect(child, `[${id}*] `);
    this.extra.push(child);
    return child;
  }

  /** SIGTERM to the script (as Ctrl-C would), resolving with how it ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.script.exitCode === null && this.script.signalCode === null) this.script.kill('SIGTERM');
    return this.exited;
  }

  /** Kills everything still running: the script, its nodes, and restarted nodes. */
  killAll(): void {
    const pids = [
      this.script.pid,
      ...this.records.filter((r) => r.demo === 'node').map((r) => r.pid),
      ...this.extra.map((c) => c.pid),
    ];
    for (const pid of pids) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  removeData(): void {
    fs.rmSync(this.layout.dataDir, { recursive: true, force: true });
  }

  log(): string {
    return this.output.slice(-200).join('\n');
  }

  private collect(child: ChildProcess, prefix: string): void {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.output.push(prefix + line);
      if (prefix === '' && line.startsWith('{"demo":')) this.records.push(JSON.parse(line) as DemoRecord);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.output.push(`${prefix}(stderr) ${line}`));
  }
}

export type { HttpAnswer as Answer } from '../utils/http-request';

/** An HTTP request on a fresh connection (no keep-alive left behind). */
export const request = httpRequest;

/** The `name=value` part of the session cookie in a Set-Cookie list. */
export function sessionCookie(setCookie: string[]): string | undefined {
  return setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('demo_session=') && c !== 'demo_session=');
}
