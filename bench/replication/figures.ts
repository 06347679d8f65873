/** The replication bench's figures for its results files: figures 1–4 (family "replication") and figure 5 (family "join"), each beside its anchor of the same run. */
import type { Figure } from '../util/results';
import { versus } from '../util/results';
import { Cpu, median } from './common';
import type { AsyncResults } from './figure-async';
import type { JoinCopy } from './figure-join';
import type { MnesiaResults } from './figure-mnesia';
import type { PairResults } from './figure-sync';
import { lagStats } from './report';
import { SIZES } from './setup';

/** Median over the rounds of one process's CPU per op (µs, user + system). */
const cpuOf = (perRound: Cpu[][], i: number): number => median(perRound.map((r) => r[i].user + r[i].system));

export function replicationFigures(pair: PairResults, asyncResults: AsyncResults | undefined, lag1: number[][] | undefined, mn: MnesiaResults | undefined): Figure[] {
  const figures: Figure[] = [];
  const seq = pair.seq;
  if (seq) {
    for (const p of ['p50', 'p99'] as const) {
      figures.push(
        versus(
          {
            id: `sync-put-${p}`,
            label: `sync put ${p}, a → b (two processes)`,
            ours: median(seq.ours.map((s) => s[p])),
            unit: 'µs',
            anchor: { label: `TCP ping-pong RTT ${p}`, value: median(seq.ping.map((s) => s[p])), unit: 'µs' },
            ...(p === 'p50' ? { target: '≤ 1.5× ping-pong' } : {}),
            rounds: { ours: seq.ours.map((s) => s[p]), anchor: seq.ping.map((s) => s[p]) },
            // both processes of each side: writer + peer, pinger + echo server
            cpuUsPerOp: { ours: cpuOf(seq.cpuOurs, 0) + cpuOf(seq.cpuOurs, 1), anchor: cpuOf(seq.cpuPing, 0) + cpuOf(seq.cpuPing, 1) },
          },
          p === 'p50' ? { atMost: 1.5 } : undefined,
        ),
      );
    }
    const m = mn?.writes;
    if (m && m.length > 0) {
      for (const p of ['p50', 'p99'] as const) {
        const key = p === 'p50' ? 'p50_us' : 'p99_us';
        figures.push(
          versus({
            id: `sync-put-${p}-vs-mnesia`,
            label: `sync put ${p} against Mnesia sync_transaction (Pow's write)`,
            ours: median(seq.ours.map((s) => s[p])),
            unit: 'µs',
            anchor: { label: `Mnesia sync_transaction ${p}, ram_copies on 2 nodes`, value: median(m.map((w) => w[key])), unit: 'µs' },
            rounds: { ours: seq.ours.map((s) => s[p]), anchor: m.map((w) => w[key]) },
          }),
        );
      }
    }
  }
  if (pair.inflight) {
    const f = pair.inflight;
    figures.push(
      versus(
        {
          id: 'sync-put-100-in-flight',
          label: 'sync puts, 100 in flight',
          ours: median(f.ours),
          unit: 'ops/s',
          anchor: { label: 'Redis SET, 100 in flight (ioredis)', value: median(f.redis), unit: 'ops/s' },
          target: '≥ 2× Redis',
          rounds: { ours: f.ours, anchor: f.redis },
          cpuUsPerOp: { ours: cpuOf(f.cpuOurs, 0) + cpuOf(f.cpuOurs, 1), anchor: cpuOf(f.cpuRedis, 0) + cpuOf(f.cpuRedis, 1) },
        },
        { atLeast: 2 },
      ),
    );
  }
  const runs = asyncResults?.runs;
  if (runs) {
    const applied = runs.map((r) => r.appliedPerSec);
    const mt = mn?.asyncTput ?? [];
    figures.push({
      id: 'async-applied',
      label: 'async writes applied on the peer',
      ours: median(applied),
      unit: 'ops/s',
      ...(mt.length > 0 ? { anchor: { label: 'Mnesia async_dirty, 1 process, until all visible on b', value: median(mt.map((r) => r.visible_on_b_per_s)), unit: 'ops/s' } } : {}),
      ratio: median(applied) / (mt.length > 0 ? median(mt.map((r) => r.visible_on_b_per_s)) : 300_000),
      target: mt.length > 0 ? '≥ 300k ops/s' : '≥ 300k ops/s (ratio: to the target)',
      met: median(applied) >= 300_000,
      rounds: { ours: applied, ...(mt.length > 0 ? { anchor: mt.map((r) => r.visible_on_b_per_s) } : {}) },
      cpuUsPerOp: { ours: median(runs.map((r) => r.cpu[0].user + r.cpu[0].system + r.cpu[1].user + r.cpu[1].system)), ...(mt.length > 0 ? { anchor: median(mt.map((r) => r.cpu_a_us_per_op + r.cpu_b_us_per_op)) } : {}) },
    });
  }
  const mLag = mn?.lag && mn.lag.length > 0 ? mn.lag : undefined;
  for (const [id, label, lags] of [
    ['idle-lag-two-processes', 'idle replication lag p99, two processes', pair.lag2],
    ['idle-lag-one-process', 'idle replication lag p99, both nodes in one process (real TCP)', lag1],
  ] as const) {
    if (lags === undefined) continue;
    const s = lagStats(lags);
    figures.push({
      id,
      label,
      ours: s.p99,
      unit: 'µs',
      ...(mLag ? { anchor: { label: 'Mnesia async_dirty lag p99', value: median(mLag.map((l) => l.p99_us)), unit: 'µs' }, ratio: s.p99 / median(mLag.map((l) => l.p99_us)) } : {}),
      target: '≤ 200 µs',
      met: s.p99 <= 200,
      rounds: { ours: s.perRun.map((r) => r.p99), ...(mLag ? { anchor: mLag.map((l) => l.p99_us) } : {}) },
    });
  }
  return figures;
}

export function joinFigures(copied: JoinCopy[], mn: MnesiaResults | undefined): Figure[] {
  const figures: Figure[] = [];
  const copyAnchor = (copies: MnesiaResults['copies'], what: string) =>
    copies !== undefined && copies.length > 0 ? { label: `Mnesia add_table_copy(ram_copies), ${what}`, value: median(copies.map((c) => c.seconds)), unit: 's' } : undefined;
  const n = `${SIZES.copyN / 1e6}M`;
  for (const join of copied) {
    const ours = join.runs.map((r) => r.initToReady);
    if (join.values === 'objects') {
      const anchor = copyAnchor(mn?.copies, '200-byte binary values');
      figures.push(
        versus(
          { id: 'join', label: `a fresh node joins and copies ${n} sessions (init → ready)`, ours: median(ours), unit: 's', ...(anchor ? { anchor } : {}), target: '≤ 1× Mnesia', rounds: { ours, ...(anchor ? { anchor: mn!.copies!.map((c) => c.seconds) } : {}) } },
          { atMost: 1 },
        ),
      );
      const same = copyAnchor(mn?.mapCopies, 'the same sessions as maps');
      figures.push(versus({ id: 'join-same-data', label: `the same join, against Mnesia copying the same ${n} sessions as maps`, ours: median(ours), unit: 's', ...(same ? { anchor: same } : {}), rounds: { ours, ...(same ? { anchor: mn!.mapCopies!.map((c) => c.seconds) } : {}) } }));
      const spawn = join.runs.map((r) => r.spawnToReady);
      figures.push(versus({ id: 'join-from-spawn', label: `the same join from process spawn (Node, swc and Nest boot included)`, ours: median(spawn), unit: 's', ...(anchor ? { anchor } : {}), rounds: { ours: spawn } }));
      const maps = mn?.fills?.find((f) => f.value === 'session_map');
      if (maps !== undefined && join.fill.size > 0) {
        figures.push(
          versus({
            id: 'seed-heap-per-session',
            label: `seed node: heapUsed ÷ sessions after loading ${n} sessions (whole app, no forced GC)`,
            ours: (join.fill.heapMiB * 2 ** 20) / join.fill.size,
            unit: 'B',
            anchor: { label: 'Mnesia ram_copies table memory per record, the same sessions as maps', value: (maps.words * 8) / maps.size, unit: 'B' },
          }),
        );
      }
    } else {
      const anchor = copyAnchor(mn?.copies, '200-byte binary values');
      figures.push(versus({ id: 'join-json-values', label: `the join with each session as its JSON text (opaque values on both sides)`, ours: median(ours), unit: 's', ...(anchor ? { anchor } : {}), rounds: { ours } }));
    }
  }
  return figures;
}
