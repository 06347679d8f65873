/** The markdown tables of the backends bench: each section against its anchors, the issue-15 targets, and a summary. */
import { execFileSync } from 'node:child_process';
import { fmtRatio, fmtUs, median, table } from '../util/harness';
import { Backend, BackendName } from './setup';
import { DRIVER, SectionName } from './options';
import { Measured } from './measure';

/** ops/s with 2–3 significant digits (the harness's `fmtOps` rounds 5.6k to "6k"). */
export function fmtOps(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

function fmtCpu(us: number): string {
  return Number.isFinite(us) ? (us >= 10 ? `${us.toFixed(0)} µs` : `${us.toFixed(2)} µs`) : '—';
}

/** The anchor a row is compared with: the one of its anchors with the most ops/s. */
function anchorOf(m: Measured, measured: Map<string, Measured>): Measured | undefined {
  const ids = m.row.anchor === undefined ? [] : typeof m.row.anchor === 'string' ? [m.row.anchor] : m.row.anchor;
  let best: Measured | undefined;
  for (const id of ids) {
    const a = measured.get(id);
    if (a !== undefined && (best === undefined || a.ops > best.ops)) best = a;
  }
  return best;
}

export function report(title: string, intro: string, measured: Map<string, Measured>): string {
  const rows: string[][] = [];
  const problems: string[] = [];
  for (const m of measured.values()) {
    const anchor = anchorOf(m, measured);
    rows.push([
      m.row.backend,
      m.row.path.name,
      fmtUs(m.p50),
      fmtUs(m.p99),
      fmtOps(m.ops),
      anchor === undefined ? '—' : (m.row.anchorLabel ?? anchor.row.path.name),
      anchor === undefined ? '—' : fmtRatio(m.p50 / anchor.p50),
      anchor === undefined ? '—' : fmtRatio(m.ops / anchor.ops),
      fmtCpu(m.appCpu),
      fmtCpu(m.serverCpu),
      m.runs.map((r) => fmtOps(r.opsPerSec)).join(' · '),
    ]);
    const misses = m.runs.reduce((s, r) => s + r.misses, 0);
    const errors = m.runs.reduce((s, r) => s + r.errors, 0);
    if (misses + errors > 0) problems.push(`${m.row.id}: ${misses} misses, ${errors} errors`);
  }
  return [
    `### ${title}`,
    '',
    intro,
    '',
    table(['backend', 'path', 'p50', 'p99', 'ops/s', 'compared with', 'p50 ÷ that', 'ops/s ÷ that', 'CPU/op here', 'CPU/op other side', 'ops/s per round'], rows),
    '',
    problems.length === 0 ? 'Misses and errors: none.' : `**Misses/errors:** ${problems.join('; ')}.`,
  ].join('\n');
}

/** Target of issue 15: the library at ≥ 0.9× the better raw ioredis client, in every cell. */
export const TARGET = 0.9;

/** The median over the rounds of this round's ratio: paired runs share the machine's load of their moment. */
export function pairedRatio(library: Measured, anchors: Measured[]): number {
  const ratios = library.runs.map((run, round) => run.opsPerSec / Math.max(...anchors.map((a) => a.runs[round]?.opsPerSec ?? NaN)));
  return median(ratios.filter(Number.isFinite));
}

/**
 * The library against both raw clients on the same bytes and keys, cell by
 * cell: SessionStore.get against GET of the session's key, CacheStore.put
 * against SET … PX of the entry's bytes; sequential and N in flight. Ratios
 * are medians over the rounds of the round's own ratio (library ÷ raw run
 * next to it), which a busy machine disturbs far less than a ratio of medians.
 */
export function targetTable(results: Partial<Record<SectionName, Map<string, Measured>>>, backends: Backend[]): string {
  const cells: Array<{ label: string; section: SectionName; library: string; raw: string }> = [
    { label: 'SessionStore.get, sequential', section: 'get', library: 'session', raw: 'session' },
    { label: `SessionStore.get, ${DRIVER.concurrency} in flight`, section: 'get100', library: 'session', raw: 'session' },
    { label: 'CacheStore.get, sequential', section: 'get', library: 'get', raw: 'get' },
    { label: `CacheStore.get, ${DRIVER.concurrency} in flight`, section: 'get100', library: 'get', raw: 'get' },
    { label: 'CacheStore.put, sequential', section: 'put', library: 'put', raw: 'set' },
    { label: `CacheStore.put, ${DRIVER.concurrency} in flight`, section: 'put100', library: 'put', raw: 'set' },
  ];
  const rows: string[][] = [];
  for (const b of backends) {
    for (const cell of cells) {
      const section = results[cell.section];
      const library = section?.get(`${b.name}:${cell.library}`);
      const plain = section?.get(`${b.name}:raw-${cell.raw}-plain`);
      const pipelined = section?.get(`${b.name}:raw-${cell.raw}-pipelined`);
      if (library === undefined || plain === undefined || pipelined === undefined) continue;
      const best = pairedRatio(library, [plain, pipelined]);
      rows.push([
        b.label,
        cell.label,
        fmtOps(library.ops),
        fmtOps(plain.ops),
        fmtOps(pipelined.ops),
        fmtRatio(pairedRatio(library, [plain])),
        fmtRatio(pairedRatio(library, [pipelined])),
        `${fmtRatio(best)} ${best >= TARGET ? '✓' : '✗'}`,
        `${fmtCpu(plain.appCpu)} · ${fmtCpu(pipelined.appCpu)} → ${fmtCpu(library.appCpu)}`,
      ]);
    }
  }
  return [
    `### The library against raw ioredis (target ≥ ${TARGET}× the better raw client)`,
    '',
    'ops/s: medians over the rounds (sequential ops/s come from the untimed pass). Ratios: median over the rounds of library ÷ raw in the same round (÷ the better raw: of the two raw runs of that round, the faster). Raw: the same bytes under the same keys, GET for reads and SET … PX for writes. CPU/op: this process, raw without · with auto-pipelining → library.',
    '',
    table(['backend', 'cell', 'library ops/s', 'raw, no auto-pipelining', 'raw, auto-pipelining', '÷ no auto-pipelining', '÷ auto-pipelining', '÷ the better raw', 'CPU/op here'], rows),
  ].join('\n');
}

/** Mesh vs each Redis, measure by measure, from the tables above. */
export function summaryTable(results: Partial<Record<SectionName, Map<string, Measured>>>, backends: Backend[]): string {
  const names = backends.map((b) => b.name);
  const measures: Array<{ label: string; section: SectionName; path: string; what: 'p50' | 'p99' | 'ops' }> = [
    { label: 'get, sequential: p50', section: 'get', path: 'get', what: 'p50' },
    { label: 'get, sequential: ops/s', section: 'get', path: 'get', what: 'ops' },
    { label: `get, ${DRIVER.concurrency} in flight: ops/s`, section: 'get100', path: 'get', what: 'ops' },
    { label: `get, ${DRIVER.concurrency} in flight: p99`, section: 'get100', path: 'get', what: 'p99' },
    { label: 'SessionStore.get, sequential: p50', section: 'get', path: 'session', what: 'p50' },
    { label: `SessionStore.get, ${DRIVER.concurrency} in flight: ops/s`, section: 'get100', path: 'session', what: 'ops' },
    { label: 'put, sequential: p50', section: 'put', path: 'put', what: 'p50' },
    { label: 'put, sequential: p99', section: 'put', path: 'put', what: 'p99' },
    { label: 'put, sequential: ops/s', section: 'put', path: 'put', what: 'ops' },
    { label: `put, ${DRIVER.concurrency} in flight: ops/s`, section: 'put100', path: 'put', what: 'ops' },
    { label: `put, ${DRIVER.concurrency} in flight: p99`, section: 'put100', path: 'put', what: 'p99' },
  ];
  const others = names.filter((n) => n !== 'mesh');
  const label = (n: BackendName) => backends.find((b) => b.name === n)!.label;
  const header = ['measure (await CacheStore / SessionStore)', ...names.map(label), ...(names.includes('mesh') ? others.map((n) => `mesh advantage vs ${label(n)}`) : [])];
  const rows: string[][] = [];
  for (const m of measures) {
    const section = results[m.section];
    if (section === undefined) continue;
    const value = (n: BackendName) => section.get(`${n}:${m.path}`)?.[m.what] ?? NaN;
    const fmt = (x: number) => (m.what === 'ops' ? fmtOps(x) : fmtUs(x));
    const advantage = (n: BackendName) => (m.what === 'ops' ? value('mesh') / value(n) : value(n) / value('mesh'));
    rows.push([m.label, ...names.map((n) => fmt(value(n))), ...(names.includes('mesh') ? others.map((n) => fmtRatio(advantage(n))) : [])]);
  }
  return [
    '### Mesh vs Redis, through the contract',
    '',
    '"mesh advantage" = how many times better the mesh does: Redis latency ÷ mesh latency, or mesh ops/s ÷ Redis ops/s (below 1×: Redis does better).',
    '',
    table(header, rows),
  ].join('\n');
}

export function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'libs/cluster-cache/src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean).length;
    return dirty > 0 ? `${head} (+ ${dirty} uncommitted changes under libs/cluster-cache/src)` : head;
  } catch {
    return '?';
  }
}

export function redisVersion(): string {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  } catch {
    return 'redis-server ?';
  }
}

export function ioredisVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('ioredis/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}
