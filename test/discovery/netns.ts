import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Separate hosts on one machine: network namespaces joined by a bridge.
 *
 * The bridge lives in its own namespace (`nccdisc-hub`), so nothing is added
 * to the machine's own network; each host namespace `nccdisc-N` has one veth
 * `eth0` with the address 10.77.0.N/24 (the only addresses used) and a route
 * for multicast. Names are fixed so a run can delete what a failed run left.
 */
export const HUB = 'nccdisc-hub';
const BRIDGE = 'nccdisc-br';

/** The namespace of host `n` (1-based) and its address. */
export function host(n: number): { ns: string; address: string } {
  return { ns: `nccdisc-${n}`, address: `10.77.0.${n}` };
}

/** Runs `ip` with arguments; throws with its stderr on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Fails with a clear message unless namespaces can be made here (root, iproute2). */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the network-namespace discovery specs need root (ip netns add): run as root, as CI does');
  }
  try {
    ip('netns', 'list');
  } catch (error) {
    throw new Error(`the network-namespace discovery specs need "ip netns" (iproute2): ${(error as Error).message}`);
  }
}

/** Deletes the namespaces of this spec (and with them their veths and the bridge), if they exist. */
export function removeHosts(count: number): void {
  const existing = new Set(ip('netns', 'list').split('\n').map((line) => line.split(' ')[0]));
  for (const ns of [HUB, ...Array.from({ length: count }, (_, i) => host(i + 1).ns)]) {
    if (existing.has(ns)) ip('netns', 'del', ns);
  }
}

/** Makes `count` hosts on one bridge, each with a multicast route. */
export function createHosts(count: number): void {
  ip('netns', 'add', HUB);
  ip('-n', HUB, 'link', 'add', BRIDGE, 'type', 'bridge');
  // No IGMP querier on this segment: flood multicast instead of snooping.
  ip('-n', HUB, 'link', 'set', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0');
  ip('-n', HUB, 'link', 'set', BRIDGE, 'up');
  for (let n = 1; n <= count; n++) {
    const { ns, address } = host(n);
    ip('netns', 'add', ns);
    ip('link', 'add', `nccdisc-v${n}`, 'netns', HUB, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', HUB, 'link', 'set', `nccdisc-v${n}`, 'master', BRIDGE, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'brd', '+', 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
  }
}

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
