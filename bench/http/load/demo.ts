/** The demo under load: started on free ports with a temp data dir, its pids, and stopped (by pid) whatever happens. */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../../scripts/demo-nodes';
import { log, portFree, sleep } from '../../replication/common';
import { PROF_DIR } from './setup';

// ---------- processes ----------

interface DemoRecord {
  demo: 'lb' | 'node' | 'ready' | 'exit';
  id?: string;
  pid?: number;
  [key: string]: unknown;
}

export let script: ChildProcess | undefined;
export const records: DemoRecord[] = [];
const output: string[] = [];
export let dataDir: string | undefined;

export function nodePid(id: string): number {
  const pid = records.find((r) => r.demo === 'node' && r.id === id)?.pid;
  if (pid === undefined) throw new Error(`no pid for node ${id}`);
  return pid;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL, by pid, to everything this run started that still runs. */
function killEverything(): void {
  const pids = [script?.pid, ...records.filter((r) => r.demo === 'node').map((r) => r.pid)];
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stops the demo as Ctrl-C would (the nodes leave the cluster), then kills what is left; removes the temp dir. */
export async function stopDemo(): Promise<void> {
  if (script !== undefined && script.exitCode === null && script.signalCode === null) {
    const exited = new Promise<void>((res) => script!.once('exit', () => res()));
    script.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
  }
  killEverything();
  const nodes = records.filter((r) => r.demo === 'node').map((r) => r.pid);
  for (let i = 0; i < 50 && nodes.some(alive); i++) await sleep(100);
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    killEverything();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** Free ports for the demo: HTTP a, b; cluster a, b; load balancer. */
export async function freeEnv(): Promise<NodeJS.ProcessEnv> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 24000 + 30 * Math.floor(Math.random() * 250);
    const ports = [base, base + 2, base + 10, base + 12, base + 20];
    if ((await Promise.all(ports.map((p) => portFree('127.0.0.1', p)))).every(Boolean)) {
      dataDir = mkdtempSync(join(tmpdir(), 'bench-http-'));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DEMO_BASE_PORT: String(base),
        DEMO_CLUSTER_BASE_PORT: String(base + 10),
        DEMO_LB_PORT: String(base + 20),
        DEMO_DATA_DIR: dataDir,
        NO_COLOR: '1',
      };
      const preloads: string[] = [];
      if (PROF_DIR !== undefined) {
        mkdirSync(PROF_DIR, { recursive: true });
        preloads.push(join(__dirname, '..', 'prof-preload.js'));
        env.BENCH_PROF_DIR = PROF_DIR;
      }
      if (preloads.length > 0) env.NODE_OPTIONS = [process.env.NODE_OPTIONS ?? '', ...preloads.map((p) => `--require ${p}`)].join(' ').trim();
      return env;
    }
  }
  throw new Error('no free ports for the demo');
}

export function startDemo(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.js'), '--no-build', '--json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    output.push(line);
    if (line.startsWith('{"demo":')) records.push(JSON.parse(line) as DemoRecord);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [demo] ${line}\n`);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output.push(`(stderr) ${line}`);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`  [demo!] ${line}\n`);
  });
  script = child;
  return child;
}

export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await ok()) return;
    if (script !== undefined && script.exitCode !== null) throw new Error(`the demo script ended while waiting for ${what}:\n${output.slice(-40).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output.slice(-40).join('\n')}`);
    await sleep(200);
  }
}
