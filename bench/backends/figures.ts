/** The backends bench's figures for its results file: the library on Redis against raw ioredis (issue 15's cells), and the mesh against Map.get and against the library on Redis. */
import { median } from '../util/harness';
import type { Figure } from '../util/results';
import type { Measured } from './measure';
import { DRIVER, SectionName } from './options';
import { pairedRatio, TARGET } from './report';
import type { Backend } from './setup';

type Results = Partial<Record<SectionName, Map<string, Measured>>>;

const opsRounds = (m: Measured) => m.runs.map((r) => r.opsPerSec);
const sectionLabel = (s: SectionName) => (s.endsWith('100') ? `${DRIVER.concurrency} in flight` : 'sequential');

export function backendFigures(results: Results, backends: Backend[]): Figure[] {
  const figures: Figure[] = [];
  const cells: Array<{ section: SectionName; library: string; raw: string; label: string }> = [];
  for (const section of ['get', 'get100'] as const) {
    cells.push({ section, library: 'session', raw: 'session', label: 'SessionStore.get' });
    cells.push({ section, library: 'get', raw: 'get', label: 'CacheStore.get' });
  }
  for (const section of ['put', 'put100'] as const) cells.push({ section, library: 'put', raw: 'set', label: 'CacheStore.put' });
  for (const b of backends.filter((x) => x.raw !== undefined)) {
    for (const cell of cells) {
      const section = results[cell.section];
      const library = section?.get(`${b.name}:${cell.library}`);
      const raws = [section?.get(`${b.name}:raw-${cell.raw}-plain`), section?.get(`${b.name}:raw-${cell.raw}-pipelined`)].filter((m): m is Measured => m !== undefined);
      if (library === undefined || raws.length === 0) continue;
      const best = raws.reduce((x, y) => (y.ops > x.ops ? y : x));
      const ratio = pairedRatio(library, raws);
      figures.push({
        id: `${b.name}:${cell.library}:${cell.section}`,
        label: `${b.label}: ${cell.label}, ${sectionLabel(cell.section)}`,
        ours: library.ops,
        unit: 'ops/s',
        anchor: { label: `${best.row.path.name.replace(/: .*/, '')}, same bytes and keys`, value: best.ops, unit: 'ops/s' },
        ratio,
        target: `≥ ${TARGET}× raw ioredis`,
        met: ratio >= TARGET,
        rounds: { ours: opsRounds(library), anchor: opsRounds(best) },
        cpuUsPerOp: { ours: library.appCpu, anchor: best.appCpu },
      });
    }
  }
  for (const section of ['get', 'get100', 'put', 'put100'] as const) {
    const s = results[section];
    const write = section.startsWith('put');
    const mesh = s?.get(write ? 'mesh:put' : 'mesh:get');
    if (mesh === undefined) continue;
    // Sequential: the mesh's read as a caller makes it (not awaited: it is synchronous there) against Map.get.
    const meshRead = section === 'get' ? (s?.get('mesh:get-sync') ?? mesh) : mesh;
    const map = s?.get(section === 'get' ? 'map:get' : 'map:await-get');
    if (map !== undefined && !write) {
      figures.push({
        id: `mesh:get-vs-map:${section}`,
        label: `mesh: ${meshRead.row.path.name} against ${map.row.path.name}, ${sectionLabel(section)}`,
        ours: meshRead.ops,
        unit: 'ops/s',
        anchor: { label: map.row.path.name, value: map.ops, unit: 'ops/s' },
        ratio: meshRead.ops / map.ops,
        rounds: { ours: opsRounds(meshRead), anchor: opsRounds(map) },
      });
    }
    const redis = s?.get(write ? 'redis:put' : 'redis:get');
    if (redis !== undefined) {
      figures.push({
        id: `mesh-vs-redis:${section}`,
        label: `CacheStore.${write ? 'put' : 'get'}, ${sectionLabel(section)}: the mesh against the library on one Redis`,
        ours: mesh.ops,
        unit: 'ops/s',
        anchor: { label: `the library on one redis-server`, value: redis.ops, unit: 'ops/s' },
        ratio: median(mesh.runs.map((r, i) => r.opsPerSec / (redis.runs[i]?.opsPerSec ?? NaN)).filter(Number.isFinite)),
        rounds: { ours: opsRounds(mesh), anchor: opsRounds(redis) },
        cpuUsPerOp: { ours: mesh.appCpu + mesh.serverCpu, anchor: redis.appCpu + redis.serverCpu },
      });
    }
  }
  return figures;
}
