/**
 * The part of autocannon's programmatic API that bench/http uses (the package
 * ships no types). See https://github.com/mcollina/autocannon#api.
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      /** A sequence of requests each connection sends in turn; `setupRequest` may change each one before it goes. */
      requests?: Array<{ method?: string; path?: string; headers?: Record<string, string>; body?: string; setupRequest?: (request: Record<string, unknown>, context: Record<string, unknown>) => Record<string, unknown> }>;
      /** Seconds before a request counts as timed out (default 10). */
      timeout?: number;
      /** Called with each connection's client (an EventEmitter that emits 'headers', 'response' …). */
      setupClient?: (client: EventEmitter) => void;
    }

    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p97_5: number;
      p99: number;
      p99_9?: number;
      totalCount?: number;
      sent?: number;
    }

    interface Result {
      url: string;
      connections: number;
      pipelining: number;
      /** Seconds. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
      /** Milliseconds. */
      latency: Histogram;
      /** Requests per second (per-second samples); `total` = completed requests. */
      requests: Histogram;
      throughput: Histogram;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
