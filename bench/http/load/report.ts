/** The markdown report of the HTTP load check: balancer window, guard cost (me vs ping) against the target, CPU per request. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { argv } from '../../util/cli-options';
import { DemoLayout, ROOT } from '../../../scripts/demo-nodes';
import { mdTable, median } from '../../replication/common';
import { CONNECTIONS, DURATION, LB_DURATION, PIPELINING, TARGET_RATIO } from './setup';
import { CpuShare, Run } from './window';

// ---------- report ----------

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
export const ms = (x: number) => (Number.isFinite(x) ? `${x} ms` : '—');
const cpuCell = (c: CpuShare) => `${f0(c.bench)} / ${f0(c.lb)} / ${f0(c.a)} / ${f0(c.b)}`;

export function machineFacts(): Record<string, string> {
  const cpu = cpus();
  let autocannonVersion = '?';
  try {
    autocannonVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not installed?
  }
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? '?'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: release(),
    node: process.version,
    autocannon: autocannonVersion,
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

export function report(facts: Record<string, string>, layout: DemoLayout, lb: Run, direct: Run[], profiles: string[]): string {
  const lines: string[] = [];
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
  lines.push(`## HTTP load check, ${date} UTC`, '');
  lines.push(`\`node -r @swc-node/register bench/http/load.bench.ts ${argv.join(' ')}\``.replace(/ `$/, '`'), '');
  lines.push(mdTable(['fact', 'value'], Object.entries(facts).map(([k, v]) => [k, v])), '');
  lines.push(
    `Load: autocannon, ${CONNECTIONS} connections, pipelining ${PIPELINING}, one process (this one). The load generator, the load balancer ` +
      `(\`scripts/demo.js\`, node:http proxy) and both nodes share the ${cpus().length} vCPUs. ` +
      `CPU columns: % of one vCPU used by bench (autocannon) / lb / node a / node b during the phase; "others" is everything else on the machine ` +
      `(other jobs on the same VM), in % of one vCPU; "waited": seconds waited before the window for others to drop below 20 %.`,
    '',
  );
  lines.push(`### 1. Through the load balancer (${LB_DURATION} s, GET /me with the session cookie)`, '');
  const split = lb.split ?? {};
  const splitTotal = Object.values(split).reduce((s, x) => s + x, 0);
  const splitCell = Object.entries(split)
    .sort()
    .map(([name, n]) => `${name.split('@')[0]} ${n} (${f1((100 * n) / splitTotal)} %)`)
    .join(', ');
  lines.push(
    mdTable(
      ['req/s (2xx)', 'requests', 'latency mean / p50 / p90 / p99 / max', 'errors', 'timeouts', 'non-2xx', 'split (x-served-by)', 'CPU bench / lb / a / b', 'others, steal (waited)'],
      [
        [
          `**${f0(lb.rps)}**`,
          String(lb.completed),
          `${f1(lb.latency.mean)} / ${lb.latency.p50} / ${lb.latency.p90} / ${lb.latency.p99} / ${lb.latency.max} ms`,
          `**${lb.errors}**`,
          String(lb.timeouts),
          `**${lb.non2xx}**`,
          splitCell || '—',
          cpuCell(lb.cpu),
          `${f0(lb.machine.othersPct)} %, ${f1(lb.machine.stealPct)} % (${f0(lb.waitedS)} s)`,
        ],
      ],
    ),
    '',
  );
  const lbOk = lb.errors === 0 && lb.non2xx === 0 && lb.timeouts === 0 && lb.completed > 0;
  lines.push(`Zero errors and zero non-2xx: **${lbOk ? 'yes' : 'NO'}**${lbOk ? '' : ` (status codes ${JSON.stringify(lb.statusCodes)})`}.`, '');

  lines.push(`### 2. Guard cost, directly against node a (http://${layout.nodes[0].host}:${layout.nodes[0].port}, no proxy; ${DURATION} s per window)`, '');
  lines.push(
    mdTable(
      ['round', 'endpoint', 'req/s (2xx)', 'latency p50 / p99', 'errors / non-2xx', 'node a CPU per request', 'CPU bench / lb / a / b', 'others, steal (waited)'],
      direct.map((r) => [
        r.phase.replace(/ .*/, ''),
        r.url.endsWith('/me') ? 'GET /me (guarded)' : 'GET /ping (unguarded)',
        f0(r.rps),
        `${ms(r.latency.p50)} / ${ms(r.latency.p99)}`,
        `${r.errors} / ${r.non2xx}`,
        `${f1(r.aCpuUsPerRequest)} µs`,
        cpuCell(r.cpu),
        `${f0(r.machine.othersPct)} %, ${f1(r.machine.stealPct)} % (${f0(r.waitedS)} s)`,
      ]),
    ),
    '',
  );
  const me = direct.filter((r) => r.url.endsWith('/me'));
  const ping = direct.filter((r) => r.url.endsWith('/ping'));
  const meRps = median(me.map((r) => r.rps));
  const pingRps = median(ping.map((r) => r.rps));
  const meCpu = median(me.map((r) => r.aCpuUsPerRequest));
  const pingCpu = median(ping.map((r) => r.aCpuUsPerRequest));
  const ratio = meRps / pingRps;
  const rounds = [...new Set(direct.map((r) => r.phase.split(' ')[0]))];
  const pairRatios = rounds.map((round) => {
    const pair = direct.filter((r) => r.phase.split(' ')[0] === round);
    const m = pair.find((r) => r.url.endsWith('/me'));
    const p = pair.find((r) => r.url.endsWith('/ping'));
    return m && p ? m.rps / p.rps : NaN;
  });
  const pairCpu = rounds.map((round) => {
    const pair = direct.filter((r) => r.phase.split(' ')[0] === round);
    const m = pair.find((r) => r.url.endsWith('/me'));
    const p = pair.find((r) => r.url.endsWith('/ping'));
    return m && p ? p.aCpuUsPerRequest / m.aCpuUsPerRequest : NaN;
  });
  const directOk = direct.every((r) => r.errors === 0 && r.non2xx === 0);
  lines.push(
    mdTable(
      ['median of ' + me.length + ' windows', 'GET /me (guarded)', 'GET /ping (unguarded)', 'ratio me / ping'],
      [
        ['req/s', `**${f0(meRps)}**`, `**${f0(pingRps)}**`, `**${ratio.toFixed(3)}×** (target ≥ ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`],
        ['node a CPU per request', `${f1(meCpu)} µs`, `${f1(pingCpu)} µs`, `guard + bigger body ≈ ${f1(meCpu - pingCpu)} µs per request (${f1((100 * (meCpu - pingCpu)) / pingCpu)} %); CPU-bound ceiling ping/me = ${(pingCpu / meCpu).toFixed(3)}×`],
      ],
    ),
    '',
    `Per round (adjacent windows): req/s ratio me/ping ${pairRatios.map((x) => x.toFixed(3)).join(', ')} (median **${median(pairRatios).toFixed(3)}×**); ` +
      `CPU-per-request ratio ping/me ${pairCpu.map((x) => x.toFixed(3)).join(', ')} (median ${median(pairCpu).toFixed(3)}×).`,
    '',
  );
  if (!directOk) lines.push('**Some direct windows had errors or non-2xx answers: see the table.**', '');
  if (profiles.length > 0) lines.push('### 3. CPU profiles of node a (extra windows, profiler on: not part of the figures above)', '', ...profiles);
  return lines.join('\n');
}
