import type { Redis } from 'ioredis';
import type { ProbeResult } from './redis-health';

/** One server the health probe watches: its connection and its last answers. */
export class ProbedServer {
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
