import type { LoggerService } from '@nestjs/common';
import { LogBackoff } from '../util/log-backoff';

/** How often the reconnector looks for addresses due for an attempt, in ms. */
export const PROBE_TICK = 250;
/** Longest time between two attempts to reach an absent member, start to start, in ms. */
const MEMBER_RETRY_MAX = 1_000;
/**
 * A probe of a member gives up after this long, in ms: behind a cut the kernel
 * resends a lost SYN only after 1, 3, 7 … s, and a fresh attempt every second
 * links again within about a second of the network coming back.
 */
const MEMBER_PROBE_TIMEOUT = 1_000;
/** Longest wait between two attempts to reach an address that never answered, in ms. */
const MAX_BACKOFF = 30_000;
/** An address no one reported for this long, and that never answered, is forgotten, in ms. */
const FORGET_AFTER = 2 * MAX_BACKOFF;
/** How long a member absent without a goodbye keeps its fast probes, in ms (a day). */
const MEMBER_MEMORY = 24 * 60 * 60 * 1000;
/** Most addresses tracked at once: past it, the one reported longest ago that is no member makes room (junk discovery answers). */
const MAX_TRACKED = 1_024;
/**
 * An address that keeps failing is logged (at debug) at once, then after this
 * many ms, then after doubling waits up to a minute: a member away for an hour
 * is probed every second, not logged every second.
 */
const FAILURE_LOG_FIRST = 5_000;
const FAILURE_LOG_MAX = 60_000;

/** What the reconnector needs of the node. */
export interface ReconnectorHost {
  /** Links to `host:port`; `timeout` bounds the TCP connect (default: the transport's). */
  dial(address: string, timeout?: number): Promise<unknown>;
  /** The addresses linked right now. */
  linked(): ReadonlySet<string>;
  /** This node's own address (never dialled). */
  readonly address: string;
}

/** One address's attempts. */
interface Attempts {
  /** When the next attempt may start (ms since the epoch). */
  due: number;
  /** Wait after the latest attempt's start before the next one. */
  delay: number;
  dialling: boolean;
  /** When the address was last reported (by seeds, discovery or a peer), or last linked. */
  seen: number;
}

/**
 * Keeps this node linked to the nodes it should be linked to.
 *
 * - Members (nodes this node or its peers were linked to) are probed while
 *   absent, at most a second apart and with a short connect timeout, for as
 *   long as they might come back: a partition of any length ends with the
 *   links back within about a second. A member that said goodbye (`leave`) is
 *   forgotten; one absent for a day falls back to the slow schedule below.
 * - Other addresses (seeds, discovery answers) that do not answer are tried
 *   again with a doubling wait, up to 30 s, and forgotten once no one reports
 *   them any more.
 */
export class Reconnector {
  private readonly attempts = new Map<string, Attempts>();
  /** Member addresses by node name, with when each was last linked. */
  private readonly members = new Map<string, { address: string; linkedAt: number }>();
  /** Addresses not to dial until the given time (a peer refused as incompatible). */
  private readonly held = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly failures: LogBackoff;

  constructor(
    private readonly host: ReconnectorHost,
    /** First wait after a failed attempt to reach a non-member, in ms. */
    private readonly retryInterval: number,
    private readonly logger: LoggerService,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new LogBackoff({ first: FAILURE_LOG_FIRST, max: FAILURE_LOG_MAX, keys: MAX_TRACKED }, now);
  }

  /** Starts probing absent members. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), PROBE_TICK).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Links to every address given that is not linked yet and is due for an attempt. */
  reach(addresses: readonly string[]): void {
    const now = this.now();
    const linked = this.host.linked();
    for (const address of addresses) {
      if (address === this.host.address || linked.has(address)) continue;
      const attempts = this.attempts.get(address);
      if (attempts !== undefined) attempts.seen = now;
      this.attempt(address, now, this.isMember(address, now));
    }
  }

  /** Remembers a member (one a peer is linked to): it is probed whenever it is absent. */
  remember(name: string, address: string): void {
    this.members.set(name, { address, linkedAt: this.now() });
  }

  /** A member is linked: remembered, and whatever failed before is forgotten. */
  linked(name: string, address: string): void {
    this.remember(name, address);
    this.attempts.delete(address);
  }

  /** Forgets a member that left for good (a graceful shutdown). */
  forget(name: string): void {
    const member = this.members.get(name);
    if (member === undefined) return;
    this.members.delete(name);
    this.attempts.delete(member.address);
  }

  /** Does not dial `address` for `ms` (it answers, but must not be linked). */
  hold(address: string, ms: number): void {
    this.held.set(address, this.now() + ms);
  }

  private tick(): void {
    const now = this.now();
    const linked = this.host.linked();
    for (const [name, member] of this.members) {
      if (linked.has(member.address)) member.linkedAt = now;
      else if (now - member.linkedAt > MEMBER_MEMORY) this.members.delete(name);
      else this.attempt(member.address, now, true);
    }
    for (const [address, attempts] of this.attempts) {
      if (!attempts.dialling && now - attempts.seen > FORGET_AFTER && !this.isMember(address, now)) this.attempts.delete(address);
    }
    for (const [address, until] of this.held) if (until <= now) this.held.delete(address);
  }

  private attempt(address: string, now: number, member: boolean): void {
    if ((this.held.get(address) ?? 0) > now) return;
    let attempts = this.attempts.get(address);
    if (attempts === undefined) {
      if (this.attempts.size >= MAX_TRACKED) this.evictOne(now);
      attempts = { due: 0, delay: member ? PROBE_TICK : this.retryInterval / 2, dialling: false, seen: now };
      this.attempts.set(address, attempts);
    }
    if (attempts.dialling || attempts.due > now) return;
    const max = member ? MEMBER_RETRY_MAX : MAX_BACKOFF;
    attempts.dialling = true;
    attempts.delay = Math.min(max, attempts.delay * 2);
    attempts.due = now + attempts.delay;
    this.host.dial(address, member ? MEMBER_PROBE_TIMEOUT : undefined).then(
      () => {
        this.attempts.delete(address);
        this.failures.forget(address);
      },
      (error: unknown) => {
        attempts.dialling = false;
        const kind = (error as { code?: unknown } | undefined)?.code;
        const line = this.failures.take(address, typeof kind === 'string' ? kind : 'other', `could not reach ${address} (next attempt in ${attempts.delay} ms): ${String(error)}`);
        if (line !== undefined) this.logger.debug?.(line);
      },
    );
  }

  /** Forgets the tracked address reported longest ago that is neither a member nor being dialled. */
  private evictOne(now: number): void {
    let oldest: string | undefined;
    let seen = Infinity;
    for (const [address, attempts] of this.attempts) {
      if (attempts.dialling || attempts.seen >= seen || this.isMember(address, now)) continue;
      oldest = address;
      seen = attempts.seen;
    }
    if (oldest !== undefined) this.attempts.delete(oldest);
  }

  private isMember(address: string, now: number): boolean {
    for (const member of this.members.values()) if (member.address === address && now - member.linkedAt <= MEMBER_MEMORY) return true;
    return false;
  }
}
