/**
 * The two drivers of bench/backends/backends.bench.ts, the same for every
 * path measured (Map, mesh, Redis, raw ioredis):
 *
 * - {@link sequential}: one operation at a time. A latency pass times each
 *   operation with two `process.hrtime` reads, then an untimed pass of the same
 *   length gives the throughput (for the in-memory paths the clock reads
 *   would otherwise be most of the time measured).
 * - {@link inFlight}: `concurrency` workers, each awaiting one operation after
 *   the other, for `durationMs`; every `sampleEvery`-th operation is timed
 *   from its call to its completion (queueing in the client included).
 *
 * An operation returns what it read: `undefined` counts as a miss, a thrown
 * error or rejection as an error; neither stops the run, both are reported.
 */
import { nowNs, percentileSorted } from '../util/harness';

/** One measured path: an operation on item `i` (the callee picks key/value `i % pool`). */
export interface Path {
  /** Row label. */
  readonly name: string;
  /** Runs without `await` (a synchronous read). */
  readonly sync?: (i: number) => unknown;
  /** Awaited. */
  readonly async?: (i: number) => PromiseLike<unknown> | unknown;
  /** An in-memory path: more operations per run, and only every 16th timed under load. */
  readonly local?: boolean;
  /** Whether a result of `undefined` is a miss (reads) or expected (writes). */
  readonly read: boolean;
}

/** One run of one path; times in µs. */
export interface Run {
  p50: number;
  p99: number;
  opsPerSec: number;
  /** Operations in the throughput figure. */
  ops: number;
  /** Every operation of the run (both passes of a sequential run), for CPU per operation. */
  allOps: number;
  /** CPU per operation (µs) of this process, and of the other side (mesh peer / redis-servers); filled in by the caller. */
  appCpuUs?: number;
  serverCpuUs?: number;
  misses: number;
  errors: number;
}

export interface Driver {
  /** Sequential operations per run for paths over the network, and for in-memory ones. */
  seqN: number;
  seqLocalN: number;
  concurrency: number;
  durationMs: number;
}

let sink = 0;
/** Keeps results alive so the JIT cannot drop a read (read in the report, never meaningful). */
export function sinkValue(): number {
  return sink;
}

function summary(samplesNs: Float64Array, count: number, ops: number, allOps: number, elapsedNs: number, misses: number, errors: number): Run {
  const sorted = samplesNs.subarray(0, count).sort();
  return {
    p50: percentileSorted(sorted, 50) / 1e3,
    p99: percentileSorted(sorted, 99) / 1e3,
    opsPerSec: ops / (elapsedNs / 1e9),
    ops,
    allOps,
    misses,
    errors,
  };
}

/** One operation at a time; see the header. `offset` shifts the items per round. */
export async function sequential(path: Path, driver: Driver, offset: number): Promise<Run> {
  const n = path.local ? driver.seqLocalN : driver.seqN;
  const samples = new Float64Array(n);
  let misses = 0;
  let errors = 0;
  const check = (v: unknown) => {
    if (v === undefined) {
      if (path.read) misses++;
    } else sink++;
  };
  if (path.sync !== undefined) {
    const op = path.sync;
    for (let i = 0; i < n; i++) {
      const t0 = nowNs();
      const v = op(offset + i);
      samples[i] = nowNs() - t0;
      check(v);
    }
    const t0 = nowNs();
    for (let i = 0; i < n; i++) check(op(offset + i));
    return summary(samples, n, n, 2 * n, nowNs() - t0, misses, errors);
  }
  const op = path.async!;
  for (let i = 0; i < n; i++) {
    const t0 = nowNs();
    try {
      check(await op(offset + i));
    } catch {
      errors++;
    }
    samples[i] = nowNs() - t0;
  }
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    try {
      check(await op(offset + i));
    } catch {
      errors++;
    }
  }
  return summary(samples, n, n, 2 * n, nowNs() - t0, misses, errors);
}

/** Most latency samples one in-flight run keeps (8 MB). */
const MAX_SAMPLES = 1 << 20;
let inFlightSamples: Float64Array | undefined;

/** `concurrency` operations always in flight for `durationMs`; see the header. */
export async function inFlight(path: Path, driver: Driver, offset: number): Promise<Run> {
  const op = path.async!;
  const sampleEvery = path.local ? 16 : 1;
  const samples = (inFlightSamples ??= new Float64Array(MAX_SAMPLES));
  let count = 0;
  let next = 0;
  let done = 0;
  let misses = 0;
  let errors = 0;
  let stop = false;
  const start = nowNs();
  const deadline = start + driver.durationMs * 1e6;
  async function worker(): Promise<void> {
    while (!stop) {
      const i = next++;
      if ((i & 15) === 0 && nowNs() >= deadline) {
        stop = true;
        return;
      }
      const timed = i % sampleEvery === 0 && count < MAX_SAMPLES;
      const t0 = timed ? nowNs() : 0;
      try {
        const v = await op(offset + i);
        if (v === undefined) {
          if (path.read) misses++;
        } else sink++;
      } catch {
        errors++;
      }
      if (timed) samples[count++] = nowNs() - t0;
      done++;
    }
  }
  await Promise.all(Array.from({ length: driver.concurrency }, worker));
  return summary(samples, count, done, done, nowNs() - start, misses, errors);
}
