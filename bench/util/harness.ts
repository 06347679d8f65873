/**
 * Tiny helpers shared by the benchmarks in bench/: timing, medians,
 * interleaved rounds, heap snapshots, markdown tables, flat strings and a
 * seeded PRNG. No dependencies; nothing here is part of the library.
 */

/** Monotonic time in nanoseconds (as a double: fine up to ~104 days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export interface Timing {
  /** Wall-clock ns. */
  wallNs: number;
  /** CPU time of the whole process (user + system, all threads), ns. */
  cpuNs: number;
}

/**
 * Times `fn` by the wall clock and by the process's CPU time. On a shared
 * machine the CPU-time figure is not inflated by time spent descheduled (it
 * still includes the slowdown from a neighbour sharing caches, and GC helper
 * threads, so it is only used for loops that allocate nothing).
 */
export function timeIt<T>(fn: () => T): { result: T; timing: Timing } {
  const c0 = process.cpuUsage();
  const t0 = nowNs();
  const result = fn();
  const wallNs = nowNs() - t0;
  const c = process.cpuUsage(c0);
  return { result, timing: { wallNs, cpuNs: (c.user + c.system) * 1000 } };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an already sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Forces a full mark-compact GC (needs `--expose-gc`). One pass: the stores
 * measured here hold no weak references or finalizers, and a second pass changed
 * no figure by more than 1 B/entry while costing ~0.5 s per call on a 1 GB heap.
 */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (node --expose-gc -r @swc-node/register bench/...)');
  gc();
}

export interface HeapSnap {
  heapUsed: number;
  /** heapUsed + external + arrayBuffers, as the brief asks (arrayBuffers is a part of external in Node's accounting, so this counts it twice; both are ~0 here). */
  total: number;
  external: number;
  arrayBuffers: number;
}

/** A memory snapshot taken after a full GC. */
export function heapAfterGc(): HeapSnap {
  fullGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, total: m.heapUsed + m.external + m.arrayBuffers };
}

/**
 * A copy of `s` that is a flat sequential string (not a cons/sliced string),
 * so that neither side of a comparison pays for a rope or shares a parent.
 */
export function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** Deterministic PRNG (mulberry32): same order of keys in every run and process. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with a seeded PRNG. */
export function shuffle<T>(xs: T[], seed: number): T[] {
  const rand = prng(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

export interface Contender<R> {
  name: string;
  /** One timed run; returns its result (e.g. ops/s). Setup that must not be timed goes inside, before the clock starts. */
  run(round: number): R | Promise<R>;
}

/**
 * Runs every contender `warmup + runs` times, interleaved round by round (A B C,
 * A B C, ...) so that drift of the machine over time hits all of them alike.
 * The first `warmup` rounds are discarded. Returns each contender's kept results.
 */
export async function interleaved<R>(contenders: readonly Contender<R>[], runs: number, warmup = 1, between?: () => void): Promise<Map<string, R[]>> {
  const results = new Map<string, R[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const c of contenders) {
      between?.();
      const r = await c.run(round);
      if (round >= warmup) results.get(c.name)!.push(r);
    }
  }
  return results;
}

// ---------- formatting ----------

export function fmtOps(opsPerSec: number): string {
  if (!Number.isFinite(opsPerSec)) return '—';
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(0)}k`;
  return opsPerSec.toFixed(0);
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '—';
}

export function fmtBytes(b: number): string {
  return Number.isFinite(b) ? `${Math.round(b)} B` : '—';
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Progress/log lines go to stderr so stdout stays the report. */
export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
