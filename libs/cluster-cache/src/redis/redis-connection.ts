import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { Observable, Subject } from 'rxjs';
import { BackendUnavailableError, ClusterCacheError, InvalidOptionError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { ResolvedRedisOptions } from '../options/resolve-options';
import type { ClusterEvent } from '../replication/cluster-event';

/** What a script call sends: its keys (all in one hash slot) and arguments. */
export type ScriptCall = (keys: ReadonlyArray<string | Buffer>, args: ReadonlyArray<string | Buffer | number>) => Promise<unknown>;

/** Longest pause between reconnection attempts, in ms: Redis is back within this of its return. */
const MAX_RECONNECT_DELAY = 1_000;

/** Replies that mean "the cluster cannot answer right now", not "the call is wrong". */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY)/;

type IoRedis = typeof import('ioredis');

/** ioredis is an optional peer dependency: only the Redis backend loads it. */
function loadIoredis(): IoRedis {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ioredis') as IoRedis;
  } catch {
    throw new InvalidOptionError('backend', '"redis" needs the ioredis package: npm install ioredis');
  }
}

/**
 * The Redis backend's connection, to one server or a Redis Cluster, shared by
 * every cache and session store of the app.
 *
 * Calls never wait for a connection: there is no offline queue, in-flight
 * calls are not replayed after a reconnect (a replayed delete could undo a
 * later write), and each call has a timeout. While Redis is away calls fail at
 * once with `BackendUnavailableError`; the client keeps reconnecting in the
 * background, and `events$` says when Redis goes and comes back.
 */
export class RedisConnection {
  /** The Redis address, without credentials, for messages and events. */
  readonly address: string;
  private readonly client: Redis | Cluster;
  private readonly ReplyError: IoRedis['ReplyError'];
  private readonly events = new Subject<ClusterEvent>();
  private readonly scripts = new Map<string, ScriptCall>();
  /** Commands kept out of a Cluster client's auto-pipelines (ioredis reads this list per call). */
  private readonly unpipelined: string[] | undefined;
  private up = false;
  private lastError = 'connection closed';

  constructor(
    options: ResolvedRedisOptions,
    private readonly logger: Logger,
  ) {
    const ioredis = loadIoredis();
    this.ReplyError = ioredis.ReplyError;
    const common = {
      commandTimeout: options.commandTimeout,
      connectTimeout: options.connectTimeout,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    };
    const reconnectDelay = (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY);
    if ('url' in options.target) {
      this.address = redactedUrl(options.target.url);
      this.client = new ioredis.Redis(options.target.url, { ...common, enableOfflineQueue: false, enableAutoPipelining: true, retryStrategy: reconnectDelay });
    } else {
      this.address = `redis-cluster://${options.target.cluster.map((n) => `${n.host}:${n.port}`).join(',')}`;
      this.client = new ioredis.Cluster(options.target.cluster, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        // Scripts stay out of auto-pipelines: ioredis would file them under the slot of their first
        // argument (the key count), mix slots in one batch and refuse it. `script` adds their names.
        autoPipeliningIgnoredCommands: (this.unpipelined = []),
        clusterRetryStrategy: reconnectDelay,
        redisOptions: { ...common, username: options.username, password: options.password, tls: options.tls },
      });
    }
    this.client.on('ready', () => this.changed(true));
    this.client.on('error', (error: Error) => (this.lastError = error.message));
    this.client.on('close', () => this.changed(false));
    this.client.on('end', () => this.changed(false));
  }

  /** `backend_up` / `backend_down` as Redis comes and goes. Completes on close. */
  get events$(): Observable<ClusterEvent> {
    return this.events.asObservable();
  }

  /** Whether Redis is connected and ready now. */
  get ready(): boolean {
    return this.up;
  }

  /**
   * Waits until Redis is ready, for at most `timeout` ms. An app whose Redis
   * is down still starts: it answers with `BackendUnavailableError` (and
   * health `down`) until Redis is there.
   */
  async start(timeout: number): Promise<void> {
    if (this.up) return;
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => this.client.once('ready', (onReady = resolve)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
    await Promise.race([ready, late]);
    clearTimeout(timer);
    this.client.off('ready', onReady);
    if (!this.up) this.logger.warn(`Redis at ${this.address} is not reachable yet (${this.lastError}); calls fail until it is`);
  }

  /** Runs one command; failures come out as this library's errors. */
  async run<T>(command: (client: Redis | Cluster) => Promise<T>): Promise<T> {
    try {
      return await command(this.client);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Registers a Lua script (sent once, then called by its SHA) and returns
   * its caller. `binary` replies come back as Buffers instead of strings.
   */
  script(name: string, lua: string, binary = false): ScriptCall {
    const known = this.scripts.get(name);
    if (known !== undefined) return known;
    this.client.defineCommand(name, { lua });
    this.unpipelined?.push(name);
    const method = binary ? `${name}Buffer` : name;
    const call: ScriptCall = (keys, args) =>
      this.run((client) => (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](keys.length, ...keys, ...args));
    this.scripts.set(name, call);
    return call;
  }

  /** Closes the connection; no reconnection after this. */
  async close(): Promise<void> {
    // Completed first: a shutdown is not an outage, so it emits no `backend_down`.
    this.events.complete();
    this.up = false;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private changed(up: boolean): void {
    if (this.up === up || this.events.closed) return;
    this.up = up;
    if (up) {
      this.logger.log(`Redis at ${this.address} is ready`);
      this.events.next({ type: 'backend_up', backend: 'redis', address: this.address });
    } else {
      this.logger.warn(`lost Redis at ${this.address} (${this.lastError}); calls fail until it is back`);
      this.events.next({ type: 'backend_down', backend: 'redis', address: this.address, reason: this.lastError });
    }
  }

  private translate(error: unknown): Error {
    if (error instanceof ClusterCacheError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof this.ReplyError && !UNAVAILABLE_REPLY.test(message)) return new ClusterCacheError(messages.redisReply(message), { cause: error });
    return new BackendUnavailableError(this.address, message, { cause: error });
  }
}

/** A Redis URL without its password. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'redis://(invalid url)';
  }
}
