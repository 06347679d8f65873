/** Sizes (BENCH_* env overrides) and output of the store-layout prototypes. */

const env = (name: string, fallback: number) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);
export const N = env('BENCH_N', 1_000_000);
export const RUNS = env('BENCH_RUNS', 5);
export const MEM_RUNS = env('BENCH_MEM_RUNS', 3);
export const MEM_WARMUP_N = env('BENCH_MEM_WARMUP_N', 100_000);
export const N_PUT = env('BENCH_N_PUT', 100_000);
export const TTL = 30 * 60_000;
export const NODE = 'a@127.0.0.1';
export const out = (s = '') => process.stdout.write(s + '\n');
