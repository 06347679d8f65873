/** The HTTP load check's figures for its results file: the guard's cost (GET /me against GET /ping on one node) and the balancer window. */
import { median } from '../../replication/common';
import type { Figure } from '../../util/results';
import { TARGET_RATIO } from './setup';
import type { Run } from './window';

export function loadFigures(lb: Run, direct: Run[]): Figure[] {
  const me = direct.filter((r) => r.url.endsWith('/me'));
  const ping = direct.filter((r) => r.url.endsWith('/ping'));
  const meRps = median(me.map((r) => r.rps));
  const pingRps = median(ping.map((r) => r.rps));
  return [
    {
      id: 'guard-me-vs-ping',
      label: 'GET /me (session guard) against GET /ping (unguarded), node a alone on one vCPU',
      ours: meRps,
      unit: 'req/s',
      anchor: { label: 'GET /ping, same app and node', value: pingRps, unit: 'req/s' },
      ratio: meRps / pingRps,
      target: `≥ ${TARGET_RATIO}× /ping`,
      met: meRps / pingRps >= TARGET_RATIO,
      rounds: { ours: me.map((r) => r.rps), anchor: ping.map((r) => r.rps) },
      cpuUsPerOp: { ours: median(me.map((r) => r.aCpuUsPerRequest)), anchor: median(ping.map((r) => r.aCpuUsPerRequest)) },
    },
    {
      id: 'guard-me-latency-p99',
      label: 'GET /me p99 latency, node a alone on one vCPU',
      ours: median(me.map((r) => r.latency.p99)),
      unit: 'ms',
      anchor: { label: 'GET /ping p99', value: median(ping.map((r) => r.latency.p99)), unit: 'ms' },
      ratio: median(me.map((r) => r.latency.p99)) / median(ping.map((r) => r.latency.p99)),
      rounds: { ours: me.map((r) => r.latency.p99), anchor: ping.map((r) => r.latency.p99) },
    },
    {
      id: 'lb-me',
      label: 'GET /me through the balancer to both demo nodes (unpinned)',
      ours: lb.rps,
      unit: 'req/s',
      target: 'no errors, no non-2xx',
      met: lb.errors === 0 && lb.non2xx === 0 && lb.timeouts === 0,
    },
  ];
}
