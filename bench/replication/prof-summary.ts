/**
 * Summarises the V8 CPU profiles written by `run.ts --prof=DIR`: for each
 * fixture process, the top functions by self time and the self time per
 * module (library file, msgpackr, Node internals, GC …).
 *
 *   node -r @swc-node/register bench/replication/prof-summary.ts DIR [TOP] [LABEL-FILTER]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleOf, type Profile } from '../util/cpu-profile';


const [dir, topArg, filter] = process.argv.slice(2);
const TOP = Number(topArg ?? 20);


function module(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const w = moduleOf(url);
  if (w.startsWith('lib/') || w.startsWith('bench/')) return w;
  if (w.startsWith('node:')) return 'node internals';
  return w;
}

function summarise(file: string, label: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${functionName || '(anonymous)'} ${moduleOf(url)}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = module(url, functionName);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const wall = (profile.endTime - profile.startTime) / 1e3;
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
  const lines = [`### ${label}`, '', `busy ${(total / 1e3).toFixed(0)} ms of ${wall.toFixed(0)} ms profiled (idle ${(idle / 1e3).toFixed(0)} ms)`, '', '| self time | share | function |', '|---:|---:|---|'];
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) lines.push(`| ${(us / 1e3).toFixed(0)} ms | ${pct(us)} | \`${k}\` |`);
  lines.push('', '| self time | share | module |', '|---:|---:|---|');
  for (const [k, us] of [...mod].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`| ${(us / 1e3).toFixed(0)} ms | ${pct(us)} | ${k} |`);
  return lines.join('\n');
}

const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<{ label: string; pid: number }>;
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const exact = index.some((e) => e.label === filter);
for (const { label, pid } of index) {
  if (filter !== undefined && (exact ? label !== filter : !label.includes(filter))) continue;
  const file = files.find((f) => f.split('.').includes(String(pid)));
  if (file === undefined) {
    process.stdout.write(`### ${label}\n\n(no profile for pid ${pid})\n\n`);
    continue;
  }
  process.stdout.write(`${summarise(join(dir, file), `${label} (pid ${pid})`)}\n\n`);
}
