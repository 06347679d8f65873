import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Subject } from 'rxjs';
import type { ClusterEvent } from '../cluster/cluster-event';
import type { Clock } from '../store/clock';
import { ProbedServer } from './probed-server';
import { BackendState, clusterStateOf, parseClusterSlots, ProbeResult, reasonOf, RedisBackendStats, RedisNodeStats, SlotCoverage, slotOf, SlotRange, SLOTS } from './redis-health';

/** How often the health probe asks every server for `TIME` (and, on a Cluster, its state and slots), in ms. */
export const PROBE_INTERVAL = 1_000;
/** Soonest a failed call triggers another probe round after the last one started, in ms. */
const PROBE_DEBOUNCE = 100;
/** Clock skew (ms) between the app and Redis past which the app logs a warning. */
export const CLOCK_SKEW_WARNING = 1_000;
/** Probe samples kept per server; the skew is taken from the one with the shortest round trip. */
const SKEW_SAMPLES = 8;

/**
 * The Redis backend's health: asks every server for `TIME` once a second, and
 * at once after a call failed for want of Redis; on a Cluster also for
 * `CLUSTER INFO` and `CLUSTER SLOTS`, over connections of its own. A server
 * that does not answer within `commandTimeout` (stopped, hung, unreachable)
 * or a Cluster in `cluster_state:fail` does not serve. From that and the
 * client's own state, the backend is `up`, `degraded` (some Cluster slots not
 * served) or `down`; `events` emits `backend_down` / `backend_up` as
 * `ready` changes. The clock skew between the app and each server comes from
 * the same `TIME` answers.
 */
export class RedisHealthProbe {
  /** `backend_up` / `backend_down` as `ready` changes. */
  readonly events = new Subject<ClusterEvent>();
  state: BackendState = 'down';
  reason = 'not connected yet';
  /** Whether the app's client is connected and ready. */
  clientReady = false;
  /** The app client's last error. */
  lastError = 'connection closed';
  /** Set by `close()`: no more probes or events. */
  closed = false;
  readonly servers = new Map<string, ProbedServer>();
  /** Cluster only: the last slot map, and the coverage computed from it. */
  private slotRanges: SlotRange[] = [];
  private coverage: SlotCoverage | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private probeAgain = false;
  private lastProbeStart = -Infinity;
  private skewWarned = false;

  constructor(
    /** The Redis address, without credentials, for messages and events. */
    private readonly address: string,
    private readonly isCluster: boolean,
    private readonly commandTimeout: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Cluster only: opens a probe connection of the probe's own to one server. */
    private readonly makeProbeClient: ((host: string, port: number) => Redis) | undefined,
  ) {}

  /** Whether Redis serves calls now (on a Cluster: at least some slots). */
  get ready(): boolean {
    return this.state !== 'down';
  }

  /** Probes once a second from now on, and at once. */
  start(): void {
    this.probeTimer = setInterval(() => this.probeSoon(true), PROBE_INTERVAL);
    this.probeTimer.unref();
    this.probeSoon(true);
  }

  /** Stops probing and closes the probe's own connections; a shutdown is not an outage, so it emits no `backend_down`. */
  close(): void {
    this.closed = true;
    this.events.complete();
    clearInterval(this.probeTimer);
    for (const server of this.servers.values()) server.close?.();
    this.state = 'down';
    this.reason = 'closed';
  }

  /** The backend's state as the probe last saw it. */
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

  /** Why a call on `key` cannot be served now, or undefined if it can be tried. */
  refusal(key: string | Buffer): string | undefined {
    if (this.state === 'down') return this.reason;
    if (this.state === 'degraded' && this.coverage !== undefined) return this.coverage.refusal(slotOf(key));
    return undefined;
  }

  /** Starts a probe round now, or right after the one under way; `force` skips the debounce. */
  probeSoon(force = false): void {
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
    // A probe connection still being made (a new master's, or one reconnecting without an error) gets
    // `commandTimeout` to become ready, as a probe gets to answer: judged at once, its slots were refused meanwhile.
    if (server.outstanding === undefined && server.close !== undefined && server.lastError === undefined && CONNECTING.has(server.client.status)) {
      await readyWithin(server.client, this.commandTimeout);
    }
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
    const left = since + this.commandTimeout - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
    const outcome = await Promise.race([done, late]);
    clearTimeout(timer);
    if (outcome === 'late') server.result = { ok: false, reason: `no answer within ${this.commandTimeout} ms` };
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
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.commandTimeout)));
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

  /** Probes `address` from now on, over a connection of the probe's own (Cluster); false if it already was. */
  ensureProbe(address: string): boolean {
    if (this.servers.has(address) || this.makeProbeClient === undefined) return false;
    const at = address.lastIndexOf(':');
    const client = this.makeProbeClient(address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1)));
    const server = new ProbedServer(address, client, () => client.disconnect());
    client.on('error', (error: Error) => (server.lastError = error.message));
    this.servers.set(address, server);
    return true;
  }

  /** Why a probed server does not serve (undefined if it does). */
  serverReason(server: ProbedServer): string | undefined {
    if (server.outstanding !== undefined && performance.now() - server.outstanding.since > this.commandTimeout) {
      return `no answer within ${this.commandTimeout} ms`;
    }
    return reasonOf(server.result);
  }

  /** The backend's state from the client's and the probes' latest view; emits events when `ready` changes. */
  evaluate(): void {
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
  clockSkew(): number | undefined {
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
}

/** ioredis states of a connection on its way to `ready`. */
const CONNECTING = new Set(['wait', 'connecting', 'connect', 'reconnecting']);

/** Resolves once `client` is ready, or after `ms`. */
function readyWithin(client: Redis, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}
