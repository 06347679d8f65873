/** The markdown report of the auth-kit bench: every window, and the ratios against the targets. */
import { argv } from '../../util/cli-options';
import { mdTable, median } from '../../replication/common';
import { TARGETS } from './setup';
import { Window, WindowName } from './window';

export function report(facts: Record<string, string>, windows: Window[]): string {
  const lines: string[] = [];
  lines.push(`## Auth kit vs express-session + connect-redis, ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`, '');
  lines.push(`\`node -r @swc-node/register bench/http/auth.bench.ts ${argv.join(' ')}\``.replace(/ `$/, '`'), '');
  lines.push(mdTable(['fact', 'value'], Object.entries(facts)), '');
  const of = (name: WindowName) => windows.filter((w) => w.name === name);
  const rounds = [...new Set(windows.map((w) => w.round))];
  lines.push('### Windows (medians over the rounds)', '');
  const names: WindowName[] = ['kit ping', 'kit me', 'es me', 'kit create', 'es create', 'kit lb me', 'es lb me'];
  lines.push(
    mdTable(
      ['window', 'req/s (median)', 'range', 'p50 / p99 latency (median)', 'CPU per request, node a (median)', 'errors / non-2xx / timeouts', 'others (median % of a vCPU)'],
      names.map((name) => {
        const ws = of(name);
        const rps = ws.map((w) => w.rps);
        return [
          name,
          median(rps).toFixed(0),
          `${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`,
          `${median(ws.map((w) => w.p50))} / ${median(ws.map((w) => w.p99))} ms`,
          Number.isFinite(median(ws.map((w) => w.cpuUsPerRequest))) ? `${median(ws.map((w) => w.cpuUsPerRequest)).toFixed(1)} µs` : '—',
          `${ws.reduce((n, w) => n + w.errors, 0)} / ${ws.reduce((n, w) => n + w.non2xx, 0)} / ${ws.reduce((n, w) => n + w.timeouts, 0)}`,
          median(ws.map((w) => w.othersPct)).toFixed(0),
        ];
      }),
    ),
    '',
  );
  lines.push('### Ratios against the targets', '');
  lines.push(
    mdTable(
      ['ratio', 'target', 'median of the rounds\' ratios', 'rounds (min–max)', 'ratio of the medians', 'CPU per request (ratio of medians, den/num)', 'met'],
      TARGETS.map((t) => {
        const perRound = rounds.map((r) => (windows.find((w) => w.round === r && w.name === t.num)?.rps ?? NaN) / (windows.find((w) => w.round === r && w.name === t.den)?.rps ?? NaN)).filter(Number.isFinite);
        const ratio = median(perRound);
        const cpuNum = median(of(t.num).map((w) => w.cpuUsPerRequest));
        const cpuDen = median(of(t.den).map((w) => w.cpuUsPerRequest));
        return [
          t.name,
          t.target === undefined ? '— (context)' : `≥ ${t.target.toFixed(2)}×`,
          `**${ratio.toFixed(2)}×**`,
          `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`,
          `${(median(of(t.num).map((w) => w.rps)) / median(of(t.den).map((w) => w.rps))).toFixed(2)}×`,
          Number.isFinite(cpuNum) && Number.isFinite(cpuDen) ? `${(cpuDen / cpuNum).toFixed(2)}× (${cpuDen.toFixed(0)} / ${cpuNum.toFixed(0)} µs)` : '—',
          t.target === undefined ? '—' : ratio >= t.target ? 'yes' : 'no',
        ];
      }),
    ),
    '',
  );
  return lines.join('\n');
}
