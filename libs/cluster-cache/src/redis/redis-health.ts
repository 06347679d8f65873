/** Slots of a Redis Cluster. */
export const SLOTS = 16_384;

/**
 * What the Redis backend can serve right now, as callers see it:
 * - `up`: every call can reach a Redis that answers;
 * - `degraded` (Redis Cluster only): some slots are served, others not (their
 *   master is unreachable or does not answer); calls to those fail at once;
 * - `down`: no call can succeed (Redis unreachable or hung, or the Cluster
 *   refuses every call with CLUSTERDOWN).
 * @publicApi
 */
export type BackendState = 'up' | 'degraded' | 'down';

/** One Redis server as the backend's health probe last saw it. @publicApi */
export interface RedisNodeStats {
  /** `host:port`. */
  address: string;
  /** Whether it answers and serves its slots. */
  serving: boolean;
  /** Why it does not serve, if it does not. */
  reason?: string;
  /** Its clock minus the app's clock, in ms (measured with `TIME`), once it answered. */
  clockSkew?: number;
  /** Slots it is master of (Redis Cluster only). */
  slots?: number;
}

/**
 * The Redis backend in `ClusterService.stats().backend` and the health
 * indicator: its state, why, which Cluster slots are not served, and the
 * measured skew between the app's clock and Redis's.
 * @publicApi
 */
export interface RedisBackendStats {
  backend: 'redis';
  /** The Redis address, without credentials. */
  address: string;
  state: BackendState;
  /** Why the state is not `up`. */
  reason?: string;
  /** On a Redis Cluster: how many of the 16384 slots are not served, and which (ranges like `0-5460`). */
  uncoveredSlots?: { count: number; ranges: string[] };
  /**
   * Redis's clock minus the app's clock in ms, the largest in size over the
   * servers (undefined until one answered). Expiry never depends on it (Redis
   * counts TTLs by its own clock); past 1 s the app logs a warning, because
   * times the app reads (`createdAt`, `isOlderThan`) come from its own clock.
   */
  clockSkew: number | undefined;
  servers: RedisNodeStats[];
}

/** The outcome of one server's probe. */
export type ProbeResult = { ok: true; rtt: number; skew: number; clusterState?: string } | { ok: false; reason: string };

/** The slot map of a Redis Cluster: master address per slot range. */
export interface SlotRange {
  from: number;
  to: number;
  master: string;
}

/**
 * Coverage of a Redis Cluster's slots from the probe results of its masters:
 * a slot is served when it has a master that answered its probe in time and
 * reports `cluster_state:ok` (a master in `cluster_state:fail` refuses every
 * call with CLUSTERDOWN).
 */
export class SlotCoverage {
  /** Per slot: index of its master in `masters`, or -1. */
  private readonly owner = new Int16Array(SLOTS).fill(-1);
  private readonly serving: boolean[];
  readonly served: number;

  constructor(
    ranges: readonly SlotRange[],
    readonly masters: readonly string[],
    private readonly results: ReadonlyMap<string, ProbeResult>,
  ) {
    const index = new Map(masters.map((m, i) => [m, i]));
    for (const range of ranges) {
      const i = index.get(range.master);
      if (i === undefined) continue;
      this.owner.fill(i, range.from, range.to + 1);
    }
    this.serving = masters.map((m) => reasonOf(results.get(m)) === undefined);
    let served = 0;
    for (let slot = 0; slot < SLOTS; slot++) if (this.isServed(slot)) served++;
    this.served = served;
  }

  isServed(slot: number): boolean {
    const i = this.owner[slot];
    return i >= 0 && this.serving[i];
  }

  /** Why a slot is not served, or undefined if it is. */
  refusal(slot: number): string | undefined {
    const i = this.owner[slot];
    if (i < 0) return `slot ${slot} has no master`;
    if (this.serving[i]) return undefined;
    return `slot ${slot} is not served: its master ${this.masters[i]} ${reasonOf(this.results.get(this.masters[i]))}`;
  }

  /** The slots not served, as ranges `from-to` (or a single slot). */
  uncoveredRanges(): string[] {
    const ranges: string[] = [];
    let start = -1;
    for (let slot = 0; slot <= SLOTS; slot++) {
      const uncovered = slot < SLOTS && !this.isServed(slot);
      if (uncovered && start < 0) start = slot;
      if (!uncovered && start >= 0) {
        ranges.push(start === slot - 1 ? String(start) : `${start}-${slot - 1}`);
        start = -1;
      }
    }
    return ranges;
  }

  /** Slots each master owns. */
  slotsOf(master: string): number {
    const i = this.masters.indexOf(master);
    let n = 0;
    for (let slot = 0; slot < SLOTS; slot++) if (this.owner[slot] === i) n++;
    return n;
  }
}

/** Why a probed server does not serve, or undefined if it does. */
export function reasonOf(result: ProbeResult | undefined): string | undefined {
  if (result === undefined) return 'has not been probed yet';
  if (!result.ok) return result.reason;
  if (result.clusterState !== undefined && result.clusterState !== 'ok') return `reports cluster_state:${result.clusterState} (CLUSTERDOWN)`;
  return undefined;
}

/** CRC16-CCITT (XMODEM), the hash of Redis Cluster's key slots, by table. */
const CRC16 = new Uint16Array(256).map((_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

/**
 * The hash slot of a key, as Redis Cluster computes it: CRC16 of the key, or
 * of its hash tag (the bytes between the first `{` and the next `}`, if any).
 */
export function slotOf(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ bytes[i]) & 0xff];
  return crc & (SLOTS - 1);
}

/** `cluster_state` from a `CLUSTER INFO` reply. */
export function clusterStateOf(info: string): string {
  return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
}

/** The slot ranges of a `CLUSTER SLOTS` reply; `from` is the address the reply came from (for empty hosts). */
export function parseClusterSlots(reply: unknown, from: string): SlotRange[] {
  const ranges: SlotRange[] = [];
  if (!Array.isArray(reply)) return ranges;
  const fromHost = from.slice(0, from.lastIndexOf(':'));
  for (const item of reply as unknown[][]) {
    const master = item[2] as unknown[] | undefined;
    if (!Array.isArray(master)) continue;
    const host = String(master[0] ?? '') || fromHost;
    ranges.push({ from: Number(item[0]), to: Number(item[1]), master: `${host}:${Number(master[1])}` });
  }
  return ranges;
}
