import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { Observable, Subject } from 'rxjs';
import { BackendUnavailableError, ClusterCacheError, InvalidOptionError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { ResolvedRedisOptions } from '../options/resolve-options';
import type { ClusterEvent } from '../replication/cluster-event';
import type { Clock } from '../store/clock';
import { Deadlines } from './deadlines';
import {
  BackendState,
  clusterStateOf,
  parseClusterSlots,
  ProbeResult,
  reasonOf,
  RedisBackendStats,
  RedisNodeStats,
  SlotCoverage,
  slotOf,
  SlotRange,
  SLOTS,
} from './redis-health';

/** What a script call sends: its keys (all in one hash slot) and arguments. */
export type ScriptCall = (keys: ReadonlyArray<string | Buffer>, args: ReadonlyArray<string | Buffer | number>) => Promise<unknown>;

/** Longest pause between reconnection attempts, in ms: Redis is back within this of its return. */
const MAX_RECONNECT_DELAY = 1_000;
/** How often the health probe asks every server for `TIME` (and, on a Cluster, its state and slots), in ms. */
export const PROBE_INTERVAL = 1_000;
/** Soonest a failed call triggers another probe round after the last one started, in ms. */
const PROBE_DEBOUNCE = 100;
/** Clock skew (ms) between the app and Redis past which the app logs a warning. */
export const CLOCK_SKEW_WARNING = 1_000;
/** Probe samples kept per server; the skew is taken from the one with the shortest round trip. */
const SKEW_SAMPLES = 8;

/** Pause before a Cluster call is retried after "Connection is closed" or TRYAGAIN, in ms. */
const FAILOVER_RETRY_DELAY = 20;
/** Most redirections (MOVED, ASK, retries) of one Cluster call. */
const MAX_REDIRECTIONS = 6;

/** Replies that mean "the cluster cannot answer right now", not "the call is wrong". */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY|MOVED|ASK)/;

type IoRedis = typeof import('ioredis');
type Client = Redis | Cluster;

/** ioredis is an optional peer dependency: only the Redis backend loads it. */
function loadIoredis(): IoRedis {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ioredis') as IoRedis;
  } catch {
    throw new InvalidOptionError('backend', '"redis" needs the ioredis package: npm install ioredis');
  }
}

/** One server the health probe watches: its connection and its last answers. */
class ProbedServer {
  /** The probe under way, and when it was sent (`performance.now()`). */
  outstanding: { since: number; done: Promise<ProbeResult> } | undefined;
  result: ProbeResult | undefined;
  /** The last error of a probe connection of its own. */
  lastError: string | undefined;
  /** Recent (round trip, skew) samples. */
  readonly samples: Array<{ rtt: number; skew: number }> = [];

  constructor(
    readonly address: string,
    /** The connection probes go over: the app's own client (one server) or a probe connection (Cluster). */
    readonly client: Redis,
    /** Closes a connection of the probe's own (not the app's client). */
    readonly close: (() => void) | undefined,
  ) {}

  /** Skew of the sample with the shortest round trip: its error is at most half that round trip. */
  get skew(): number | undefined {
    let best: { rtt: number; skew: number } | undefined;
    for (const sample of this.samples) if (best === undefined || sample.rtt < best.rtt) best = sample;
    return best?.skew;
  }
}

/**
 * The Redis backend's connection, to one server or a Redis Cluster, shared by
 * every cache and session store of the app.
 *
 * - **Every call fails within `commandTimeout` of its start** (a deadline of
 *   its own, whatever the client queued ahead of it), with
 *   `BackendUnavailableError`. There is no offline queue, and in-flight calls
 *   are not replayed after a reconnect (a replayed delete could undo a later
 *   write).
 * - **A health probe** asks every server for `TIME` once a second, and at once
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
  private readonly events = new Subject<ClusterEvent>();
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

  // ---- health ----
  private state: BackendState = 'down';
  private reason = 'not connected yet';
  private clientReady = false;
  private lastError = 'connection closed';
  private readonly servers = new Map<string, ProbedServer>();
  /** Cluster only: the last slot map, and the coverage computed from it. */
  private slotRanges: SlotRange[] = [];
  private coverage: SlotCoverage | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private probeAgain = false;
  private lastProbeStart = -Infinity;
  private skewWarned = false;
  private readonly makeProbeClient: ((host: string, port: number) => Redis) | undefined;
  private readonly startupNodes: string[];

  constructor(
    private readonly options: ResolvedRedisOptions,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    const ioredis = loadIoredis();
    this.ReplyError = ioredis.ReplyError;
    this.timeoutReason = `no answer within ${options.commandTimeout} ms (redis.commandTimeout)`;
    this.deadlines = new Deadlines(options.commandTimeout, (reject) => {
      reject(new BackendUnavailableError(this.address, this.timeoutReason));
      this.probeSoon();
    });
    // No ioredis commandTimeout: the deadlines above replace it (they also cover a call waiting in an auto-pipeline).
    const common = {
      connectTimeout: options.connectTimeout,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    };
    const reconnectDelay = (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY);
    if ('url' in options.target) {
      this.isCluster = false;
      this.address = redactedUrl(options.target.url);
      this.startupNodes = [];
      const client = new ioredis.Redis(options.target.url, { ...common, enableOfflineQueue: false, enableAutoPipelining: false, retryStrategy: reconnectDelay });
      this.client = client;
      const url = new URL(options.target.url);
      this.servers.set(`${url.hostname}:${url.port || 6379}`, new ProbedServer(`${url.hostname}:${url.port || 6379}`, client, undefined));
    } else {
      this.isCluster = true;
      this.startupNodes = options.target.cluster.map((n) => `${n.host}:${n.port}`);
      this.address = `redis-cluster://${this.startupNodes.join(',')}`;
      this.client = new ioredis.Cluster(options.target.cluster, {
        enableOfflineQueue: false,
        enableAutoPipelining: false,
        // No loop of redirections (16 × 100 ms by default) for a master that is gone: CLUSTERDOWN
        // fails at once, and "Connection is closed" (a master gone, or a node connection still
        // connecting) is retried at most 6 times 20 ms apart. Once the probe knows a master is gone,
        // calls to its slots are not even sent; the call's deadline bounds everything else.
        retryDelayOnFailover: FAILOVER_RETRY_DELAY,
        retryDelayOnClusterDown: 0,
        retryDelayOnTryAgain: FAILOVER_RETRY_DELAY,
        maxRedirections: MAX_REDIRECTIONS,
        slotsRefreshTimeout: Math.min(options.commandTimeout, 1_000),
        clusterRetryStrategy: reconnectDelay,
        redisOptions: { ...common, username: options.username, password: options.password, tls: options.tls },
      });
      this.makeProbeClient = (host, port) => {
        const client = new ioredis.Redis({
          host,
          port,
          username: options.username,
          password: options.password,
          tls: options.tls,
          ...common,
          enableOfflineQueue: false,
          enableReadyCheck: false,
          retryStrategy: reconnectDelay,
        });
        return client;
      };
      for (const address of this.startupNodes) this.ensureProbe(address);
      // Node connections are made lazily by the first command, and refuse others while connecting: connect at once.
      this.client.on('+node', (node: Redis) => {
        if (node.status === 'wait') node.connect().catch(() => undefined);
      });
    }
    this.client.on('ready', () => {
      this.clientReady = true;
      this.probeSoon(true);
    });
    this.client.on('error', (error: Error) => (this.lastError = error.message));
    for (const event of ['close', 'end']) {
      this.client.on(event, () => {
        this.clientReady = false;
        this.evaluate();
        this.probeSoon();
      });
    }
  }

  /** `backend_up` / `backend_down` as `ready` changes. Completes on close. */
  get events$(): Observable<ClusterEvent> {
    return this.events.asObservable();
  }

  /** Whether Redis serves calls now (on a Cluster: at least some slots; see `stats()`). */
  get ready(): boolean {
    return this.state !== 'down';
  }

  /** The backend's state as the health probe last saw it. */
  stats(): RedisBackendStats {
    const servers: RedisNodeStats[] = [...this.servers.values()].map((server) => {
      const reason = this.serverReason(server);
      return {
        address: server.address,
        serving: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
        ...(server.skew === undefined ? {} : { clockSkew: Math.round(server.skew) }),
        ...(this.coverage === undefined ? {} : { slots: this.coverage.slotsOf(server.address) }),
      };
    });
    const coverage = this.coverage;
    return {
      backend: 'redis',
      address: this.address,
      state: this.state,
      ...(this.state === 'up' ? {} : { reason: this.reason }),
      ...(this.isCluster ? { uncoveredSlots: coverage === undefined ? { count: SLOTS, ranges: [`0-${SLOTS - 1}`] } : { count: SLOTS - coverage.served, ranges: coverage.uncoveredRanges() } } : {}),
      clockSkew: this.clockSkew(),
      servers,
    };
  }

  /**
   * Waits until Redis is ready, for at most `timeout` ms. An app whose Redis
   * is down still starts: it answers with `BackendUnavailableError` (and
   * health `down`) until Redis is there.
   */
  async start(timeout: number): Promise<void> {
    this.probeTimer = setInterval(() => this.probeSoon(true), PROBE_INTERVAL);
    this.probeTimer.unref();
    this.probeSoon(true);
    const deadline = performance.now() + timeout;
    while (!this.ready && performance.now() < deadline && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, deadline - performance.now()))));
    }
    if (!this.ready) this.logger.warn(`Redis at ${this.address} is not reachable yet (${this.reason}); calls fail until it is`);
  }

  /**
   * Runs one command on the connection. It fails with `BackendUnavailableError`
   * at once if Redis cannot serve `key` now, and at its deadline if no answer
   * came; other failures come out as this library's errors.
   * @param key the (first) key the command touches: on a Cluster, its slot decides whether it can be served.
   * @param retry given the error of `send`, another attempt within the same deadline, or undefined for none.
   */
  call<T>(key: string | Buffer, send: (client: Client) => Promise<T>, retry?: (client: Client, error: unknown) => Promise<T> | undefined): Promise<T> {
    if (this.state !== 'up') {
      const refusal = this.refusal(key);
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
        if (translated instanceof BackendUnavailableError) this.probeSoon();
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
    this.events.complete();
    clearInterval(this.probeTimer);
    for (const stop of this.onClose.splice(0)) stop();
    for (const server of this.servers.values()) server.close?.();
    this.state = 'down';
    this.reason = 'closed';
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
    this.deadlines.failAll(new BackendUnavailableError(this.address, 'the connection was closed'));
  }

  // ---------- health ----------

  /** Why a call on `key` cannot be served now, or undefined if it can be tried. */
  private refusal(key: string | Buffer): string | undefined {
    if (this.state === 'down') return this.reason;
    if (this.state === 'degraded' && this.coverage !== undefined) return this.coverage.refusal(slotOf(key));
    return undefined;
  }

  /** Starts a probe round now, or right after the one under way; `force` skips the debounce. */
  private probeSoon(force = false): void {
    if (this.closed) return;
    if (this.probing !== undefined) {
      if (force) this.probeAgain = true;
      return;
    }
    if (!force && performance.now() - this.lastProbeStart < PROBE_DEBOUNCE) return;
    this.lastProbeStart = performance.now();
    this.probing = this.probeRound().then(
      () => this.probed(),
      (error: unknown) => {
        this.logger.warn(`Redis health probe failed: ${(error as Error)?.message ?? error}`);
        this.probed();
      },
    );
  }

  private probed(): void {
    this.probing = undefined;
    if (this.probeAgain) {
      this.probeAgain = false;
      this.probeSoon(true);
    }
  }

  private async probeRound(): Promise<void> {
    const servers = [...this.servers.values()];
    const map = this.isCluster ? this.fetchSlots(servers) : Promise.resolve(undefined);
    await Promise.all(servers.map((server) => this.probe(server)));
    const ranges = await map;
    if (this.closed) return;
    if (ranges !== undefined) this.useSlots(ranges);
    this.evaluate();
  }

  /** One server's probe: `TIME` (and `CLUSTER INFO`), answered within `commandTimeout` or not. */
  private async probe(server: ProbedServer): Promise<void> {
    if (server.outstanding === undefined && server.client.status !== 'ready') {
      const why = server.close === undefined ? this.lastError : (server.lastError ?? server.client.status);
      server.result = { ok: false, reason: `unreachable (${why})` };
      return;
    }
    if (server.outstanding === undefined) {
      const since = performance.now();
      const appTime = this.clock.now();
      const time = server.client.time();
      const info = this.isCluster ? server.client.cluster('INFO') : undefined;
      const done = Promise.all([time, info]).then(
        ([[seconds, micros], clusterInfo]): ProbeResult => {
          const rtt = performance.now() - since;
          const skew = Number(seconds) * 1000 + Number(micros) / 1000 - (appTime + rtt / 2);
          server.samples.push({ rtt, skew });
          if (server.samples.length > SKEW_SAMPLES) server.samples.shift();
          return { ok: true, rtt, skew, ...(clusterInfo === undefined ? {} : { clusterState: clusterStateOf(String(clusterInfo)) }) };
        },
        (error: unknown): ProbeResult => ({ ok: false, reason: (error as Error)?.message ?? String(error) }),
      );
      server.outstanding = { since, done };
      void done.then((result) => {
        if (server.outstanding?.done !== done) return;
        server.outstanding = undefined;
        server.result = result;
        // An answer after its deadline: the server is back, say so now rather than at the next round.
        if (this.probing === undefined) this.evaluate();
      });
    }
    const { since, done } = server.outstanding;
    const left = since + this.options.commandTimeout - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
    const outcome = await Promise.race([done, late]);
    clearTimeout(timer);
    if (outcome === 'late') server.result = { ok: false, reason: `no answer within ${this.options.commandTimeout} ms` };
  }

  /** The Cluster's slot map from the first server that answers `CLUSTER SLOTS` in time. */
  private async fetchSlots(servers: ProbedServer[]): Promise<SlotRange[] | undefined> {
    const ordered = [...servers].sort((a, b) => Number(b.result?.ok ?? false) - Number(a.result?.ok ?? false));
    for (const server of ordered) {
      if (server.client.status !== 'ready') continue;
      let timer: NodeJS.Timeout | undefined;
      const slots = server.client.cluster('SLOTS').then(
        (reply) => parseClusterSlots(reply, server.address),
        () => undefined,
      );
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.options.commandTimeout)));
      const ranges = await Promise.race([slots, late]);
      clearTimeout(timer);
      if (ranges !== undefined && ranges.length > 0) return ranges;
    }
    return undefined;
  }

  /** Adopts a new slot map: probes its masters, drops probes of servers that are no longer masters. */
  private useSlots(ranges: SlotRange[]): void {
    this.slotRanges = ranges;
    const masters = new Set(ranges.map((r) => r.master));
    let added = false;
    for (const master of masters) added = this.ensureProbe(master) || added;
    for (const [address, server] of this.servers) {
      if (masters.has(address)) continue;
      server.close?.();
      this.servers.delete(address);
    }
    // A new master (a failover): probe it now rather than count it as serving unprobed.
    if (added) this.probeAgain = true;
  }

  private ensureProbe(address: string): boolean {
    if (this.servers.has(address) || this.makeProbeClient === undefined) return false;
    const at = address.lastIndexOf(':');
    const client = this.makeProbeClient(address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1)));
    const server = new ProbedServer(address, client, () => client.disconnect());
    client.on('error', (error: Error) => (server.lastError = error.message));
    this.servers.set(address, server);
    return true;
  }

  /** Why a probed server does not serve (undefined if it does). */
  private serverReason(server: ProbedServer): string | undefined {
    if (server.outstanding !== undefined && performance.now() - server.outstanding.since > this.options.commandTimeout) {
      return `no answer within ${this.options.commandTimeout} ms`;
    }
    return reasonOf(server.result);
  }

  /** The backend's state from the client's and the probes' latest view; emits events when `ready` changes. */
  private evaluate(): void {
    if (this.closed) return;
    const wasReady = this.ready;
    const before = this.state;
    const beforeReason = this.reason;
    const results = new Map<string, ProbeResult>();
    for (const server of this.servers.values()) {
      const reason = this.serverReason(server);
      results.set(server.address, reason === undefined ? server.result! : { ok: false, reason });
    }
    if (!this.clientReady) {
      this.state = 'down';
      this.reason = this.lastError;
    } else if (!this.isCluster) {
      const reason = reasonOf(results.values().next().value);
      this.state = reason === undefined ? 'up' : 'down';
      this.reason = reason ?? '';
    } else {
      const masters = [...new Set(this.slotRanges.map((r) => r.master))];
      const coverage = new SlotCoverage(this.slotRanges, masters, results);
      this.coverage = coverage;
      if (coverage.served === SLOTS) {
        this.state = 'up';
        this.reason = '';
      } else {
        const failing = masters.map((m) => [m, reasonOf(results.get(m))] as const).filter(([, r]) => r !== undefined);
        const why = failing.length === 0 ? 'slots without a master' : failing.map(([m, r]) => `${m} ${r}`).join('; ');
        this.state = coverage.served === 0 ? 'down' : 'degraded';
        this.reason = this.state === 'down' ? why : `${SLOTS - coverage.served} of ${SLOTS} slots not served (${coverage.uncoveredRanges().join(', ')}): ${why}`;
      }
    }
    this.warnAboutSkew();
    if (this.state !== before || (this.state === 'degraded' && this.reason !== beforeReason)) {
      if (this.state === 'up') this.logger.log(`Redis at ${this.address} is ready`);
      else if (this.state === 'degraded') this.logger.warn(`Redis at ${this.address} is degraded: ${this.reason}; calls to those slots fail until they are served`);
      else this.logger.warn(`lost Redis at ${this.address} (${this.reason}); calls fail until it is back`);
    }
    if (this.ready !== wasReady) {
      this.events.next(
        this.ready
          ? { type: 'backend_up', backend: 'redis', address: this.address }
          : { type: 'backend_down', backend: 'redis', address: this.address, reason: this.reason },
      );
    }
  }

  /** The largest skew in size over the servers that answered. */
  private clockSkew(): number | undefined {
    let worst: number | undefined;
    for (const server of this.servers.values()) {
      const skew = server.skew;
      if (skew !== undefined && (worst === undefined || Math.abs(skew) > Math.abs(worst))) worst = skew;
    }
    return worst === undefined ? undefined : Math.round(worst);
  }

  private warnAboutSkew(): void {
    const skew = this.clockSkew();
    if (skew === undefined) return;
    const large = Math.abs(skew) > CLOCK_SKEW_WARNING;
    if (large && !this.skewWarned) {
      this.logger.warn(
        `the app's clock is ${Math.abs(skew)} ms ${skew > 0 ? 'behind' : 'ahead of'} Redis at ${this.address}: expiry is unaffected (Redis counts TTLs by its own clock), but session times the app reads (createdAt, expiresAt, isOlderThan) are off by that much; sync the clocks (NTP)`,
      );
    } else if (!large && this.skewWarned) {
      this.logger.log(`the app's clock is within ${CLOCK_SKEW_WARNING} ms of Redis at ${this.address} again (${skew} ms)`);
    }
    this.skewWarned = large;
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
