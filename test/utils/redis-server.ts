import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runInThisContext } from 'node:vm';
import { Redis } from 'ioredis';
import { freeTcpPort, tcpPortIsFree } from '@app/cluster-cache/discovery/testing/free-port';
import { waitFor } from './wait-for';

/** A `host:port` address. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** A real `redis-server` child process, started by {@link startRedisServer}. */
export interface RedisServer extends RedisAddress {
  /** `redis://host:port`. */
  readonly url: string;
  /** Everything it printed (stdout and stderr) since its last start, line by line. */
  readonly output: readonly string[];
  /** Starts it again on the same port and dir (after `stop` or `kill`); resolves once it accepts commands. */
  start(): Promise<void>;
  /** SIGTERM, then waits for it to exit. Does nothing if it is not running. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), then waits for it to exit. Does nothing if it is not running. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the process hangs with its sockets open (connections are
   * accepted by the kernel, nothing is answered), like a server stuck in a
   * long command or a VM paused. `resume` (SIGCONT) continues it; `stop` and
   * `kill` continue it too, so it can exit.
   */
  pause(): void;
  resume(): void;
  /** FLUSHALL. */
  flushAll(): Promise<void>;
  /** Runs one command on a connection of its own (e.g. `CONFIG SET …`, `PTTL key`), returns the reply. */
  command(name: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** The servers of a Redis Cluster started by {@link startRedisCluster}. */
export interface RedisClusterServers {
  /** The masters' addresses, e.g. the startup nodes of an ioredis `Cluster`. */
  readonly nodes: RedisAddress[];
  readonly servers: RedisServer[];
  /** The slots each server (same index) is master of, `[from, to]`. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
  /** The index of the server that is master of `slot`. */
  masterOf(slot: number): number;
  /** Stops every server. */
  stop(): Promise<void>;
  /** FLUSHALL on every master. */
  flushAll(): Promise<void>;
}

const READY = 'Ready to accept connections';
const CLEAN_UPS = Symbol.for('nest-cluster-cache.test.redis-server-clean-ups');
const START_TIMEOUT = 10_000;
const SLOTS = 16_384;

/**
 * Starts `redis-server` (from PATH) on `host` (127.0.0.1) and `port` (a free
 * one), without persistence, in a fresh temp dir; resolves once it accepts
 * commands, rejects with its output if it exits or is not up within 10 s.
 * The process is killed and the dir removed when this process exits, even if
 * the spec forgets to stop it.
 *
 * @param options.args more `redis-server` options, e.g. `['--requirepass', 'secret']`.
 */
export async function startRedisServer(options: { host?: string; port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  const server = new RedisServerProcess(host, port, mkdtempSync(join(tmpdir(), 'redis-server-')), options.args ?? []);
  await server.start();
  return server;
}

/**
 * Starts a Redis Cluster of `masters` (3) masters and no replicas on
 * 127.0.0.1: one `redis-server` each (see {@link startRedisServer}), then
 * slots split evenly and the nodes introduced to each other; resolves once
 * every node reports `cluster_state:ok` with all 16384 slots assigned.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisClusterServers> {
  const host = '127.0.0.1';
  const masters = options.masters ?? 3;
  const servers: RedisServer[] = [];
  const share = Math.ceil(SLOTS / masters);
  const stop = async (): Promise<void> => void (await Promise.all(servers.map((server) => server.stop())));
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(host, taken);
      const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
      // nodes.conf keeps the node's identity and slots across restarts.
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000'];
      const server = new RedisServerProcess(host, port, dir, args);
      servers.push(server);
      await server.start();
    }
    await createCluster(servers);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: servers.map(({ host, port }) => ({ host, port })),
    servers,
    slots: servers.map((_, i) => [i * share, Math.min(SLOTS, (i + 1) * share) - 1] as const),
    masterOf: (slot) => Math.floor(slot / share),
    stop,
    flushAll: async () => void (await Promise.all(servers.map((server) => server.flushAll()))),
  };
}

class RedisServerProcess implements RedisServer {
  readonly url: string;
  output: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly args: readonly string[],
  ) {
    this.url = `redis://${host}:${port}`;
    track(() => {
      this.child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
  }

  async start(): Promise<void> {
    if (this.child) return;
    const args = ['--bind', this.host, '--port', String(this.port), '--dir', this.dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    const child = spawn('redis-server', [...args, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = (this.output = []);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    // A server a spec forgot to stop must not keep Jest alive: the exit hook kills it.
    child.unref();
    for (const stream of [child.stdout as Socket, child.stderr as Socket]) stream.unref();

    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not up within ${START_TIMEOUT} ms`)), START_TIMEOUT);
        const done = (error?: Error): void => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        for (const stream of [child.stdout!, child.stderr!]) {
          createInterface({ input: stream }).on('line', (line) => {
            output.push(line);
            if (line.includes(READY)) done();
          });
        }
        child.once('error', (error) => done(error)); // e.g. redis-server is not installed
        // 'close' comes after the output is fully read, for the error message.
        child.once('close', (code, signal) => done(new Error(`exited with ${code ?? signal}`)));
      });
    } catch (error) {
      // A child that never spawned (no pid) never emits 'exit' either.
      if (child.pid === undefined) this.child = undefined;
      else await this.kill();
      throw new Error(`redis-server on ${this.host}:${this.port}: ${(error as Error).message}\n${output.join('\n')}`);
    }
  }

  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  pause(): void {
    if (!this.child) throw new Error(`redis-server on ${this.host}:${this.port} is not running`);
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async flushAll(): Promise<void> {
    await this.command('FLUSHALL');
  }

  async command(name: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const client = connect(this);
    try {
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    // Waiting for it to exit must keep a plain script alive (it was unref'ed).
    child.ref();
    child.kill(signal);
    // A paused server handles no signal but SIGKILL until it is continued.
    child.kill('SIGCONT');
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(escalate);
  }
}

/** Splits the slots between `servers` and introduces them to each other. */
async function createCluster(servers: RedisServer[]): Promise<void> {
  const clients = servers.map(connect);
  try {
    const share = Math.ceil(SLOTS / servers.length);
    await Promise.all(
      clients.map(async (client, i) => {
        const slots = Array.from({ length: Math.min(share, SLOTS - i * share) }, (_, k) => i * share + k);
        await client.cluster('ADDSLOTS', slots);
        // Distinct epochs up front, as redis-cli does, rather than waiting for the collision resolution.
        await client.cluster('SET-CONFIG-EPOCH', i + 1);
      }),
    );
    for (const { host, port } of servers.slice(1)) await clients[0].cluster('MEET', host, port);
    await waitFor(
      async () => {
        const infos = await Promise.all(clients.map((client) => client.cluster('INFO')));
        return infos.every(
          (info) =>
            info.includes('cluster_state:ok') &&
            info.includes(`cluster_slots_assigned:${SLOTS}`) &&
            info.includes(`cluster_known_nodes:${servers.length}\r`),
        );
      },
      20_000,
      'the Redis cluster to be ok',
    );
  } finally {
    for (const client of clients) client.disconnect();
  }
}

/** A free port whose cluster bus port (port + 10000) is free as well, none of them in `taken`. */
async function freeClusterPort(host: string, taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freeTcpPort(host);
    const bus = port + 10_000;
    if (bus > 65_535 || taken.has(port) || taken.has(bus) || !(await tcpPortIsFree(host, bus))) continue;
    taken.add(port).add(bus);
    return port;
  }
  throw new Error(`no free port with a free cluster bus port found on ${host}`);
}

/** A raw client that fails fast instead of retrying. */
function connect({ host, port }: RedisAddress): Redis {
  const client = new Redis({ host, port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // errors reach the commands' promises
  return client;
}

/**
 * Runs `cleanUp` when this process exits. One 'exit' hook and one list for the
 * whole process, kept on the real `process`: inside Jest the global `process`
 * is a per-file copy whose 'exit' listeners never run.
 */
function track(cleanUp: () => void): void {
  const realProcess = runInThisContext('process') as NodeJS.Process & { [CLEAN_UPS]?: Set<() => void> };
  let cleanUps = realProcess[CLEAN_UPS];
  if (!cleanUps) {
    const all = (cleanUps = realProcess[CLEAN_UPS] = new Set());
    realProcess.once('exit', () => {
      for (const run of all) {
        try {
          run();
        } catch {
          // the others still run
        }
      }
    });
  }
  cleanUps.add(cleanUp);
}
