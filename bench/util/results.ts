/**
 * The results file of a bench run: one JSON file per run under bench/results/
 * (`<family>-<UTC timestamp>.json`), so that history lives in git and
 * `npm run bench:report` can rebuild docs/performance.md from the latest file of
 * each family without running anything.
 *
 * Env: BENCH_RESULTS_DIR writes elsewhere (a trial run); BENCH_RESULTS=0 writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join, relative } from 'node:path';

/** The families of docs/performance.md, in its order. */
export const FAMILIES = ['store', 'compact', 'flat-heap', 'replication', 'fanout', 'join', 'heal', 'http', 'backends', 'auth'] as const;
export type Family = (typeof FAMILIES)[number];

export interface Anchor {
  /** What the anchor is, e.g. "TCP ping-pong RTT p50" or "Redis SET, 100 in flight (ioredis)". */
  label: string;
  value: number;
  unit: string;
}

export interface Figure {
  /** Stable id within the family (the report and the charts find a figure by it). */
  id: string;
  label: string;
  ours: number;
  unit: string;
  /** Measured in the same run, unless its label says otherwise. */
  anchor?: Anchor;
  /** ours ÷ anchor (or ÷ the target's value for an absolute target), as the bench computes it. */
  ratio?: number;
  /** The target in words, e.g. "≤ 1.5× ping-pong" or "≥ 300k ops/s". */
  target?: string;
  met?: boolean;
  /** The kept rounds' values behind `ours` and `anchor.value` (warm-up dropped). */
  rounds?: { ours: number[]; anchor?: number[] };
  /** CPU time per operation where the bench has it (steadier than rates on a shared machine). */
  cpuUsPerOp?: { ours: number; anchor?: number };
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started and ended (2 vCPUs: above ~2, other processes competed). */
  load: { start: number; end: number };
}

export interface RunRecord {
  family: Family;
  /** ISO time the run ended (UTC). */
  date: string;
  /** HEAD when the run started, and whether libs/cluster-cache/src or bench/ had uncommitted changes then. */
  commit: { hash: string; dirty: boolean };
  machine: Machine;
  /** The command that reruns it, options included. */
  command: string;
  figures: Figure[];
  /** Whatever else the bench measured (per-round values, CPU, noise), as it measured it. */
  raw?: unknown;
}

export const ROOT = join(__dirname, '..', '..');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

const loadAtStart = loadavg()[0];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** HEAD, and whether the library or the benches had uncommitted changes. */
export function commitOf(): { hash: string; dirty: boolean } {
  return { hash: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--', 'libs/cluster-cache/src', 'bench']).split('\n').some((l) => l !== '' && !l.includes('bench/results/')) };
}

/** The code a run measures is the code it loaded: the commit when the bench started (others may commit while it runs). */
const commitAtStart = commitOf();

export function machineOf(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${osType()} ${release()}`,
    load: { start: round2(loadAtStart), end: round2(loadavg()[0]) },
  };
}

/** `npm run <script> -- <args>` when run by npm, else the node command; BENCH_* variables set in front. */
export function commandOf(): string {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_RESULTS_DIR' && k !== 'BENCH_RESULTS')
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--json'));
  const script = process.env.npm_lifecycle_event;
  const base = script !== undefined && script.startsWith('bench:') ? `npm run ${script}${args.length > 0 ? ' --' : ''}` : `node ${process.execArgv.join(' ')} ${relative(ROOT, process.argv[1])}`.replace(/\s+/g, ' ');
  return [...env, base, ...args].join(' ');
}

/** A figure with its ratio and verdict filled in from a numeric target (`kind`: ours must be at most / at least `factor` × the anchor). */
export function versus(figure: Omit<Figure, 'ratio' | 'met'>, target?: { atMost?: number; atLeast?: number }): Figure {
  const ratio = figure.anchor !== undefined && figure.anchor.value !== 0 ? figure.ours / figure.anchor.value : undefined;
  let met: boolean | undefined;
  if (target?.atMost !== undefined && ratio !== undefined) met = ratio <= target.atMost;
  if (target?.atLeast !== undefined && ratio !== undefined) met = ratio >= target.atLeast;
  return { ...figure, ...(ratio !== undefined && Number.isFinite(ratio) ? { ratio: round4(ratio) } : {}), ...(met !== undefined ? { met } : {}) };
}

/**
 * Writes the run's results file and returns its path (undefined when BENCH_RESULTS=0).
 * Non-finite numbers (a figure that could not be measured) become null in JSON; the
 * report shows them as "—".
 */
export function writeResults(family: Family, figures: Figure[], raw?: unknown): string | undefined {
  if (process.env.BENCH_RESULTS === '0') return undefined;
  const dir = process.env.BENCH_RESULTS_DIR ?? RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const record: RunRecord = { family, date: date.replace(/\.\d{3}Z$/, 'Z'), commit: commitAtStart, machine: machineOf(), command: commandOf(), figures, ...(raw !== undefined ? { raw } : {}) };
  const file = join(dir, `${family}-${date.slice(0, 19).replace(/:/g, '-')}Z.json`);
  writeFileSync(file, formatRecord(record));
  process.stderr.write(`[bench] results: ${relative(ROOT, file)}\n`);
  return file;
}

/** The file's text: indented JSON, numbers to 6 significant digits, an array of numbers on one line (a run's raw samples stay readable in a diff). */
export function formatRecord(record: RunRecord): string {
  const text = JSON.stringify(record, sixDigits, 2).replace(/\[\n\s*((?:-?[\d.eE+-]+|null)(?:,\n\s*(?:-?[\d.eE+-]+|null))*)\n\s*\]/g, (_, items: string) => `[${items.split(/,\n\s*/).join(', ')}]`);
  return `${text}\n`;
}

/** JSON numbers to 6 significant digits: the noise of the machine is far above that. */
function sixDigits(_key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
