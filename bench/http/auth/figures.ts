/** The auth-kit bench's figures for its results file: each of the ratios, the kit's window against express-session's (or the unguarded endpoint's). */
import { median } from '../../replication/common';
import type { Figure } from '../../util/results';
import { TARGETS } from './setup';
import type { Window, WindowName } from './window';

export function authFigures(windows: Window[]): Figure[] {
  const of = (name: WindowName) => windows.filter((w) => w.name === name);
  const rounds = [...new Set(windows.map((w) => w.round))];
  return TARGETS.map((t) => {
    // The verdict is on the median of the rounds' own ratios (adjacent windows share the machine's load), as the report's.
    const perRound = rounds.map((r) => (windows.find((w) => w.round === r && w.name === t.num)?.rps ?? NaN) / (windows.find((w) => w.round === r && w.name === t.den)?.rps ?? NaN)).filter(Number.isFinite);
    const ratio = median(perRound);
    const cpuNum = median(of(t.num).map((w) => w.cpuUsPerRequest));
    const cpuDen = median(of(t.den).map((w) => w.cpuUsPerRequest));
    return {
      id: t.num === 'kit me' && t.den === 'kit ping' ? 'guard-vs-unguarded' : t.num === 'kit noop' ? 'nest-guard-floor' : `${t.num} / ${t.den}`.replace(/ /g, '-'),
      label: t.name,
      ours: median(of(t.num).map((w) => w.rps)),
      unit: 'req/s',
      anchor: { label: t.den.startsWith('es') ? `express-session + connect-redis (${t.den})` : `unguarded endpoint (${t.den})`, value: median(of(t.den).map((w) => w.rps)), unit: 'req/s' },
      ratio,
      ...(t.target !== undefined ? { target: `≥ ${t.target}×`, met: ratio >= t.target } : {}),
      rounds: { ours: of(t.num).map((w) => w.rps), anchor: of(t.den).map((w) => w.rps) },
      ...(Number.isFinite(cpuNum) && Number.isFinite(cpuDen) ? { cpuUsPerOp: { ours: cpuNum, anchor: cpuDen } } : {}),
    };
  });
}
