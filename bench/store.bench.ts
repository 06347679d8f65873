/**
 * Store benchmarks of nest-cluster-cache (not part of `npm test`).
 *
 *   npm run bench:store            (= node --expose-gc -r @swc-node/register bench/store.bench.ts; ~3 min)
 *   node --expose-gc -r @swc-node/register bench/store.bench.ts get get-sys   # some sections only
 *
 * Sections: get, get-sys, put, all, mem. Sizes can be overridden with BENCH_* env
 * variables (see below) for quick trials. Each section runs in its own child process (same
 * Node flags), so one section's 1M-entry heap neither slows the next one's GC nor
 * pollutes its JIT feedback. Within a section, contenders run interleaved
 * (A B C, A B C, ...): round 0 is a discarded warm-up, then the median of 5 rounds
 * (3 for the 1M-entry memory builds) is reported. Markdown goes to stdout,
 * progress to stderr. The sections live in bench/store/, one file each.
 */
import { spawnSync } from 'node:child_process';
import { sectionAll } from './store/all';
import { GetRow, renderGet, sectionGet } from './store/get';
import { sectionMem } from './store/mem';
import { sectionPut } from './store/put';
import { figures, MEM_RUNS, out, RUNS, Summary, summaries } from './store/setup';
import { Figure, writeResults } from './util/results';
import { log, table } from './util/harness';

const SECTIONS: Record<string, () => Promise<void>> = {
  get: () => sectionGet('manual'),
  'get-sys': () => sectionGet('system'),
  put: sectionPut,
  all: sectionAll,
  mem: sectionMem,
};

async function child(name: string): Promise<void> {
  await SECTIONS[name]();
  out(`@@SUMMARY ${JSON.stringify(summaries)}`);
  out(`@@FIGURES ${JSON.stringify(figures)}`);
}

function parent(names: string[]): void {
  const t0 = Date.now();
  const all: Summary[] = [];
  out(`## Store benchmarks — ${new Date().toISOString()}`);
  out();
  out(`Node ${process.version} (V8 ${process.versions.v8}), ${require('node:os').cpus().length} CPUs (${require('node:os').cpus()[0]?.model ?? '?'}), lru-cache ${lruVersion()}; flags: ${process.execArgv.join(' ')}`);
  out(`Library under test: ${libraryVersion()}.`);
  out(`Sections run in separate child processes; each figure: 1 discarded warm-up round, then the median of ${RUNS} rounds (${MEM_RUNS} for memory), contenders interleaved.`);
  out();
  let getRows: GetRow[] = [];
  const conditions: string[] = [`load avg 1 min at start: ${(require('node:os').loadavg()[0] as number).toFixed(2)}`];
  for (const [i, name] of names.entries()) {
    const s0 = Date.now();
    log(`section ${name}`);
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', name], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`section ${name} failed (status ${r.status}, signal ${r.signal})`);
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('@@SUMMARY ')) all.push(...(JSON.parse(line.slice(10)) as Summary[]));
      else if (line.startsWith('@@FIGURES ')) figures.push(...(JSON.parse(line.slice(10)) as Figure[]));
      else if (line.startsWith('@@GETROWS ')) getRows.push(...(JSON.parse(line.slice(10)) as GetRow[]));
      else if (line !== '' || !r.stdout.startsWith('@@')) process.stdout.write(line + '\n');
    }
    if (getRows.length > 0 && !(names[i + 1] ?? '').startsWith('get')) {
      renderGet(getRows);
      getRows = [];
    }
    const took = (Date.now() - s0) / 1000;
    const load = require('node:os').loadavg()[0] as number;
    conditions.push(`${name} ${took.toFixed(0)} s (load avg 1 min at end: ${load.toFixed(2)})`);
    log(`section ${name} took ${took.toFixed(1)} s`);
  }
  all.unshift(...summaries.splice(0));
  out('### Targets');
  out();
  out(table(['target', 'measured', 'met?'], all.map((s) => [s.target, s.value, s.met === undefined ? '(report only)' : s.met ? 'yes' : '**no**'])));
  out();
  out(`Total bench time: ${((Date.now() - t0) / 1000).toFixed(0)} s. Sections: ${conditions.join('; ')}.`);
  out('(2 vCPUs; the bench itself adds ~1 to the load average, so a 1-minute load above ~2 means other processes competed with it for CPU.)');
  writeResults('store', figures, { sections: names, conditions, targets: all });
}

/** The commit the library was measured at, and whether libs/ had uncommitted changes (read-only git calls). */
function libraryVersion(): string {
  try {
    const git = (args: string[]) => spawnSync('git', args, { cwd: require('node:path').join(__dirname, '..'), encoding: 'utf8' }).stdout.trim();
    const head = git(['log', '-1', '--format=%h %cI']);
    const dirty = git(['status', '--porcelain', '--', 'libs/cluster-cache/src']) !== '';
    return `libs/cluster-cache at commit ${head}${dirty ? ' plus uncommitted changes in libs/cluster-cache/src' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

function lruVersion(): string {
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'lru-cache', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  child(argv[1]).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  for (const n of names) if (!(n in SECTIONS)) throw new Error(`unknown section ${n}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  parent(names);
}
