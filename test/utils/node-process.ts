import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClusterEvent } from '@app/cluster-cache';
import { waitFor } from './wait-for';

const MAIN = join(__dirname, '..', 'fixtures', 'session-app', 'main.ts');

/** A node of the session app running as a real child process. */
export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Cluster events it printed. */
  readonly events: ClusterEvent[];
  /** Everything it printed (stdout and stderr), line by line. */
  readonly output: string[];
  /** Its HTTP base URL once it listens. */
  url: string;
  /** Resolves with the exit code / signal. */
  readonly exited: Promise<number | string>;
}

/** Starts the session app with `env` and resolves once it serves HTTP. */
export async function spawnNode(name: string, env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, NODE_NAME: name, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node: NodeProcess = {
    name,
    child,
    events: [],
    output: [],
    url: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))),
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      node.output.push(line);
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line);
      if (parsed.event) node.events.push(parsed.event);
      if (parsed.listening) node.url = `http://127.0.0.1:${parsed.listening}`;
    });
  }
  let exitedEarly: number | string | undefined;
  void node.exited.then((code) => (exitedEarly = code));
  await waitFor(() => {
    if (exitedEarly !== undefined) throw new Error(`${name} exited with ${exitedEarly}:\n${node.output.join('\n')}`);
    return node.url;
  }, 30_000, `${name} to serve`);
  return node;
}

/** Sends `signal` and waits for the process to be gone. */
export async function stopNode(node: NodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
  await node.exited;
}
