import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import type { ClusterEvent } from '../cluster/cluster-event';
import { BackendUnavailableError, ClusterCacheError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { ResolvedRedisOptions } from '../options/resolve-options';
import type { Clock } from '../store/clock';
import { Deadlines } from './deadlines';
import { ProbedServer } from './probed-server';
import { IoRedis, loadIoredis, openClients } from './redis-clients';
import type { RedisBackendStats } from './redis-health';
import { RedisHealthProbe } from './redis-health-probe';

/** What a script call sends: its keys (all in one hash slot) and arguments. */
export type ScriptCall = (keys: ReadonlyArray<string | Buffer>, args: ReadonlyArray<string | Buffer | number>) => Promise<unknown>;

/** Replies that mean "the cluster cannot answer right now", not "the call is wrong". */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|MOVED|ASK)/;

type Client = Redis | Cluster;

/**
 * The Redis backend's connection, to one server or a Redis Cluster, shared by
 * every cache and session store of the app.
 *
 * - **Every call fails within `commandTimeout` of its start** (a deadline of
 *   its own, whatever the client queued ahead of it), with
 *   `BackendUnavailableError`. There is no offline queue, and in-flight calls
 *   are not replayed after a reconnect (a replayed delete could undo a later
 *   write).
 * - **A health probe** (`RedisHealthProbe`) asks every server for `TIME` once a second, and at once
 *   after a call failed for want of Redis; on a Cluster also for
 *   `CLUSTER INFO` and `CLUSTER SLOTS`, over connections of its own. A server
 *   that does not answer within `commandTimeout` (stopped, hung, unreachable)
 *   or a Cluster in `cluster_state:fail` does not serve. From that, the
 *   backend is `up`, `degraded` (some Cluster slots not served) or `down`;
 *   `ready` is "not down", `events$` emits `backend_down` / `backend_up` as
 *   `ready` changes, and calls Redis cannot serve fail at once, without being
 *   sent (to a slot whose master is gone: at once, not after a redirection loop).
 * - **The clock skew** between the app and each server comes from the same
 *   `TIME` answers; expiry never uses it (Redis counts TTLs by its own clock).
 * - **Auto-pipelining only under load**: a call made while no other is in
 *   flight (and none were lately) is written at once (no wait for the next
 *   event-loop turn); calls made under concurrent traffic are batched into one
 *   write per server.
 */
export class RedisConnection {
  /** The Redis address, without credentials, for messages and events. */
  readonly address: string;
  private readonly client: Client;
  private readonly isCluster: boolean;
  private readonly ReplyError: IoRedis['ReplyError'];
  private readonly scripts = new Map<string, ScriptCall>();
  private readonly deadlines: Deadlines;
  private readonly timeoutReason: string;
  /** Calls sent and not answered yet (answered or failed by the client, not by their deadline). */
  private inFlight = 0;
  /**
   * How many calls were in flight when a call was made, smoothed over the
   * last calls or so: above 1/2 means concurrent traffic. Under load the
   * count drops to 0 between batches (every answer of a batch is handled
   * before any caller goes on); this keeps those first calls batched too.
   */
  private concurrency = 0;
  private readonly onClose: Array<() => void> = [];
  private closed = false;

  /** The backend's health, from the client's state and the probe's answers. */
  private readonly health: RedisHealthProbe;

  constructor(
    private readonly options: ResolvedRedisOptions,
    private readonly logger: Logger,
    clock: Clock,
  ) {
    const ioredis = loadIoredis();
    this.ReplyError = ioredis.ReplyError;
    this.timeoutReason = `no answer within ${options.commandTimeout} ms (redis.commandTimeout)`;
    this.deadlines = new Deadlines(options.commandTimeout, (reject) => {
      reject(new BackendUnavailableError(this.address, this.timeoutReason));
      this.health.probeSoon();
    });
    const clients = openClients(ioredis, options);
    this.client = clients.client;
    this.isCluster = clients.isCluster;
    this.address = clients.address;
    this.health = new RedisHealthProbe(this.address, this.isCluster, options.commandTimeout, clock, logger, clients.makeProbeClient);
    const health = this.health;
    if (clients.server !== undefined) health.servers.set(clients.server, new ProbedServer(clients.server, clients.client as Redis, undefined));
    for (const address of clients.startupNodes) health.ensureProbe(address);
    this.client.on('ready', () => {
      health.clientReady = true;
      health.probeSoon(true);
    });
    this.client.on('error', (error: Error) => (health.lastError = error.message));
    for (const event of ['close', 'end']) {
      this.client.on(event, () => {
        health.clientReady = false;
        health.evaluate();
        health.probeSoon();
      });
    }
  }

  /** `backend_up` / `backend_down` as `ready` changes. Completes on close. */
  get events$(): Observable<ClusterEvent> {
    return this.health.events.asObservable();
  }

  /** Whether Redis serves calls now (on a Cluster: at least some slots; see `stats()`). */
  get ready(): boolean {
    return this.health.ready;
  }

  /** The backend's state as the health probe last saw it. */
  stats(): RedisBackendStats {
    return this.health.stats();
  }

  /**
   * Waits until Redis is ready, for at most `timeout` ms. An app whose Redis
   * is down still starts: it answers with `BackendUnavailableError` (and
   * health `down`) until Redis is there.
   */
  async start(timeout: number): Promise<void> {
    this.health.start();
    const deadline = performance.now() + timeout;
    while (!this.ready && performance.now() < deadline && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, deadline - performance.now()))));
    }
    if (!this.ready) this.logger.warn(`Redis at ${this.address} is not reachable yet (${this.health.reason}); calls fail until it is`);
  }

  /**
   * Runs one command on the connection. It fails with `BackendUnavailableError`
   * at once if Redis cannot serve `key` now, and at its deadline if no answer
   * came; other failures come out as this library's errors.
   * @param key the (first) key the command touches: on a Cluster, its slot decides whether it can be served.
   * @param retry given the error of `send`, another attempt within the same deadline, or undefined for none.
   */
  call<T>(key: string | Buffer, send: (client: Client) => Promise<T>, retry?: (client: Client, error: unknown) => Promise<T> | undefined): Promise<T> {
    if (this.health.state !== 'up') {
      const refusal = this.health.refusal(key);
      if (refusal !== undefined) return Promise.reject(new BackendUnavailableError(this.address, refusal));
    }
    const client = this.client;
    // Auto-pipelining only under concurrent traffic: a lone call is written at once, without waiting
    // for the next event-loop turn (ioredis reads this option per call).
    client.options.enableAutoPipelining = this.inFlight > 0 || this.concurrency > 0.5;
    this.concurrency += (this.inFlight - this.concurrency) / 16;
    this.inFlight++;
    let sent: Promise<T>;
    try {
      sent = send(client);
    } catch (error) {
      this.inFlight--;
      return Promise.reject(this.translate(error));
    }
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.add(reject);
      const answered = (value: T) => {
        this.inFlight--;
        if (this.deadlines.settle(deadline)) resolve(value);
      };
      const failed = (error: unknown) => {
        this.inFlight--;
        const translated = this.translate(error);
        if (translated instanceof BackendUnavailableError) this.health.probeSoon();
        if (this.deadlines.settle(deadline)) reject(translated);
      };
      if (retry === undefined) {
        sent.then(answered, failed);
        return;
      }
      sent.then(answered, (error: unknown) => {
        const again = deadline.settled ? undefined : retry(client, error);
        if (again === undefined) failed(error);
        else again.then(answered, failed);
      });
    });
  }

  /**
   * A Lua script's caller: `EVALSHA` (falling back to `EVAL` once after
   * `NOSCRIPT`, e.g. after a Redis restart), so the script is an ordinary
   * command with its keys known to the client: routed by its first key's slot
   * and auto-pipelined with other commands of that slot. `binary` replies come
   * back as Buffers instead of strings.
   */
  script(name: string, lua: string, binary = false): ScriptCall {
    const known = this.scripts.get(name);
    if (known !== undefined) return known;
    const sha = createHash('sha1').update(lua).digest('hex');
    const evalsha = binary ? 'evalshaBuffer' : 'evalsha';
    const evalFull = binary ? 'evalBuffer' : 'eval';
    type Commands = Record<string, (...a: unknown[]) => Promise<unknown>>;
    const call: ScriptCall = (keys, args) =>
      this.call(
        keys[0],
        (client) => (client as unknown as Commands)[evalsha](sha, keys.length, ...keys, ...args),
        // Redis restarted (or flushed its scripts): EVAL sends the script, and caches it again.
        (client, error) =>
          error instanceof this.ReplyError && (error as Error).message.startsWith('NOSCRIPT') ? (client as unknown as Commands)[evalFull](lua, keys.length, ...keys, ...args) : undefined,
      );
    this.scripts.set(name, call);
    return call;
  }

  /** Runs `stop` when the connection closes (timers of the stores on it). */
  whenClosed(stop: () => void): void {
    this.onClose.push(stop);
  }

  /** Closes the connection; no reconnection after this. */
  async close(): Promise<void> {
    // Completed first: a shutdown is not an outage, so it emits no `backend_down`.
    this.closed = true;
    this.health.close();
    for (const stop of this.onClose.splice(0)) stop();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
    this.deadlines.failAll(new BackendUnavailableError(this.address, 'the connection was closed'));
  }

  private translate(error: unknown): Error {
    if (error instanceof ClusterCacheError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof this.ReplyError && !UNAVAILABLE_REPLY.test(message)) return new ClusterCacheError(messages.redisReply(message), { cause: error });
    return new BackendUnavailableError(this.address, message, { cause: error });
  }
}
