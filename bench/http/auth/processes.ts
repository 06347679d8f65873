/** The processes of the auth-kit bench (app nodes, balancers, redis-server): started, waited for, killed by pid at exit. */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { portFree, sleep } from '../../replication/common';
import { ROOT } from './setup';

// ---------- processes ----------

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
}

export const procs: Proc[] = [];

export function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, output: [] as string[] };
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => proc.output.push(line));
  procs.push(proc);
  return proc;
}

export function killEverything(): void {
  for (const { child } of procs) {
    if (child.pid === undefined || child.exitCode !== null) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEverything();
    process.exit(130);
  });
}

export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await ok()) return;
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead !== undefined) throw new Error(`${dead.name} ended while waiting for ${what}:\n${dead.output.slice(-30).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 26000 + 20 * Math.floor(Math.random() * 400);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map((p) => portFree('127.0.0.1', p)))).every(Boolean)) return ports;
  }
  throw new Error('no free ports');
}
