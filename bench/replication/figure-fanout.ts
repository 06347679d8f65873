/**
 * Figure 7: the fan-out cost per extra node. Clusters of 2, 3 and 5 nodes
 * (each node its own process, node-fixture.ts) are all up at once and their
 * rounds interleaved (2, 3, 5, 2, 3, 5, …), so the machine's drift hits each
 * alike: the sync put latency of one writer (each write waits until every other
 * node applied it), then, on clusters whose writer writes async, writes until
 * every peer has applied them. The 2-node figures are the anchors. Every
 * node heals after a lost link (`unsplit: merge`), as a production cluster
 * runs: ten processes on two vCPUs can stall past the dead-peer timeout, and
 * writes missed during such a link loss must arrive by the heal.
 */
import { Cpu, cpuOf, cpuPerOp, Fixture, fmtOps, fmtRatio, fmtUs, LatencySummary, log, mdTable, median, PORTS, sleep } from './common';
import { fixture, kept, rounds, section, SIZES, stopAll } from './setup';
import { type Figure, versus } from '../util/results';
import { fmtWatch, LinkWatchReport } from '../util/link-watch';
import type { Watched } from './figure-async';

/** Cluster sizes measured; the first is the anchor. */
export const FANOUT_SIZES = [2, 3, 5] as const;

/** Address of node `i` of the `k`-node cluster of `phase`: hosts 127.0.0.2x, 20 ports from PORTS.fanout. */
function address(phase: 'sync' | 'async', k: number, i: number): { host: string; port: number } {
  const offset = (phase === 'sync' ? 0 : 10) + FANOUT_SIZES.slice(0, FANOUT_SIZES.indexOf(k as (typeof FANOUT_SIZES)[number])).reduce((n, s) => n + s, 0) + i;
  return { host: `127.0.0.${20 + i}`, port: PORTS.fanout + offset };
}

/** Every address figure 7 binds (run.ts checks they are free first). */
export function fanoutAddresses(): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const phase of ['sync', 'async'] as const) for (const k of FANOUT_SIZES) for (let i = 0; i < k; i++) out.push(Object.values(address(phase, k, i)) as [string, number]);
  return out;
}

interface Cluster {
  k: number;
  /** nodes[0] writes; the others are its peers. */
  nodes: Fixture[];
}

/** A `k`-node cluster of its own (own cluster name), node 0 writing `writes`, the others joining it. */
async function cluster(phase: 'sync' | 'async', k: number): Promise<Cluster> {
  const env = (i: number) => {
    const { host, port } = address(phase, k, i);
    const writer = address(phase, k, 0);
    const extraNodes = i === 0 ? undefined : [`${writer.host}:${writer.port}`];
    return { BENCH_NODE: JSON.stringify({ name: `f${phase[0]}${k}n${i}@${host}`, host, port, writes: i === 0 ? phase : 'sync', extraNodes, cluster: `bench-fanout-${phase}-${k}`, unsplit: true }) };
  };
  const first = await fixture(`${k}-node ${phase} writer`, 'node-fixture.ts', env(0));
  const rest = await Promise.all(Array.from({ length: k - 1 }, (_, j) => fixture(`${k}-node ${phase} peer ${j + 1}`, 'node-fixture.ts', env(j + 1))));
  const nodes = [first, ...rest];
  await Promise.all(nodes.map((n) => n.call('waitPeers', { n: k - 1 })));
  return { k, nodes };
}

const cpuTotal = (cpu: Cpu[]) => cpu.reduce((n, c) => n + c.user + c.system, 0);

interface SyncRound {
  latency: LatencySummary;
  /** CPU per put (µs) of every node of the cluster, added up. */
  cpuUs: number;
}

interface AsyncRound {
  /** Writes per second until the last peer applied the last of them (NaN when a peer never got them all). */
  appliedPerSec: number;
  /** Per peer, writes of the round it had not applied MISSING_AFTER_MS after the writer's last put. */
  missing: number[];
  /** The writer's own rate of puts. */
  localPerSec: number;
  /** CPU per write (µs) of every node of the cluster, added up. */
  cpuUs: number;
}

export interface FanoutResults {
  /** Per cluster size, the kept rounds (warm-up dropped). */
  sync: Record<number, SyncRound[]>;
  async: Record<number, AsyncRound[]>;
  /** Per cluster size, writes some peer had not applied MISSING_AFTER_MS after the burst, over every round (warm-up included). */
  asyncMissing?: Record<number, number>;
  /** Failure detection over the async rounds, per cluster size: [node, report]. */
  watch?: Record<number, Watched>;
}

/** How long after the writer's last put a round waits for every peer to have applied every write. */
const MISSING_AFTER_MS = 30_000;

export async function fanout(): Promise<FanoutResults> {
  const out: FanoutResults = { sync: {}, async: {} };
  let clusters: Cluster[] = [];
  try {
    clusters = await section('7a. fan-out: start the sync clusters', () => Promise.all(FANOUT_SIZES.map((k) => cluster('sync', k))));
    out.sync = await section('7. fan-out: sync put latency, 2, 3 and 5 nodes', async () => {
      const all: Record<number, SyncRound[]> = {};
      for (const r of rounds()) {
        for (const c of clusters) {
          const before = await cpuOf(c.nodes);
          const latency = await c.nodes[0].call<LatencySummary>('seqPut', { n: SIZES.seqN, seed: 7000 + r * 10 + c.k });
          const cpuUs = cpuTotal(cpuPerOp(before, await cpuOf(c.nodes), SIZES.seqN));
          (all[c.k] ??= []).push({ latency, cpuUs });
          log(`  round ${r}, ${c.k} nodes: sync put p50 ${fmtUs(latency.p50)} p99 ${fmtUs(latency.p99)}, CPU ${cpuUs.toFixed(1)} µs/put`);
        }
      }
      return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, kept(v)]));
    });
    await stopAll(...clusters.flatMap((c) => c.nodes));
    clusters = await section('7a. fan-out: start the async clusters', () => Promise.all(FANOUT_SIZES.map((k) => cluster('async', k))));
    out.async = await section('7. fan-out: async writes applied on every peer, 2, 3 and 5 nodes', async () => {
      const all: Record<number, AsyncRound[]> = {};
      await Promise.all(clusters.flatMap((c) => c.nodes.map((n) => n.call('watch'))));
      for (const r of rounds()) {
        for (const c of clusters) {
          const n = SIZES.asyncN;
          const [writer, ...peers] = c.nodes;
          const sizes = async () => (await Promise.all(peers.map((p) => p.call<{ size: number }>('status')))).map((s) => s.size);
          const before = await cpuOf(c.nodes);
          const sizesBefore = await sizes();
          const applied = Promise.all(peers.map((p) => p.call<{ first: number; last: number; count: number }>('expectApplied', { n })));
          await sizes(); // each peer has armed its count (IPC is in order)
          const burst = await writer.call<{ start: number; localDone: number; failed: number }>('burst', { n, seed: 7500 + r * 10 + c.k, batch: SIZES.asyncBatch });
          const got = await Promise.race([applied, sleep(MISSING_AFTER_MS).then(() => undefined)]);
          const cpuUs = cpuTotal(cpuPerOp(before, await cpuOf(c.nodes), n));
          let round: AsyncRound;
          if (got === undefined) {
            applied.catch(() => undefined); // never resolves; rejected when the peers exit
            const sizesAfter = await sizes();
            round = { appliedPerSec: NaN, missing: sizesAfter.map((s, i) => n - (s - sizesBefore[i])), localPerSec: n / ((burst.localDone - burst.start) / 1e9), cpuUs };
            log(`  round ${r}, ${c.k} nodes: NOT every write applied on every peer ${MISSING_AFTER_MS / 1000} s after the burst; missing per peer ${round.missing.join(', ')}`);
          } else {
            const last = Math.max(...got.map((g) => g.last));
            round = { appliedPerSec: n / ((last - burst.start) / 1e9), missing: peers.map(() => 0), localPerSec: n / ((burst.localDone - burst.start) / 1e9), cpuUs };
            log(`  round ${r}, ${c.k} nodes: applied on every peer ${fmtOps(round.appliedPerSec)} (writer's puts ${fmtOps(round.localPerSec)}), CPU ${round.cpuUs.toFixed(1)} µs/write`);
          }
          (all[c.k] ??= []).push(round);
          await sleep(200);
        }
      }
      out.asyncMissing = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, missingOf(v)]));
      out.watch = {};
      for (const c of clusters) {
        out.watch[c.k] = await Promise.all(c.nodes.map(async (node, i): Promise<[string, LinkWatchReport]> => [`n${i}`, await node.call<LinkWatchReport>('watch')]));
        log(`  failure detection, ${c.k} nodes: ${fmtWatch(out.watch[c.k])}`);
      }
      return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, kept(v)]));
    });
  } finally {
    await stopAll(...clusters.flatMap((c) => c.nodes));
  }
  return out;
}

// ---------- figures (family "fanout") and the markdown section ----------

const p50s = (rs: SyncRound[]) => rs.map((r) => r.latency.p50);
/** The rates of the rounds in which every peer applied every write. */
const rates = (rs: AsyncRound[]) => rs.map((r) => r.appliedPerSec).filter(Number.isFinite);
const missingOf = (rs: AsyncRound[]) => rs.reduce((n, r) => n + r.missing.reduce((a, b) => a + b, 0), 0);
const cpus = (rs: Array<{ cpuUs: number }>) => rs.map((r) => r.cpuUs);

export function fanoutFigures(f: FanoutResults): Figure[] {
  const figures: Figure[] = [];
  const [base, ...more] = FANOUT_SIZES;
  const s2 = f.sync[base];
  const a2 = f.async[base];
  if (s2 !== undefined && s2.length > 0) {
    for (const k of more) {
      const s = f.sync[k];
      if (s === undefined) continue;
      figures.push(
        versus({
          id: `sync-put-p50-${k}-nodes`,
          label: `sync put p50, ${k} nodes (each write applied on ${k - 1} peers)`,
          ours: median(p50s(s)),
          unit: 'µs',
          anchor: { label: `sync put p50, ${base} nodes`, value: median(p50s(s2)), unit: 'µs' },
          rounds: { ours: p50s(s), anchor: p50s(s2) },
          cpuUsPerOp: { ours: median(cpus(s)), anchor: median(cpus(s2)) },
        }),
      );
    }
    const last = FANOUT_SIZES[FANOUT_SIZES.length - 1];
    const sl = f.sync[last];
    if (sl !== undefined) {
      const extra = last - base;
      figures.push(
        versus({
          id: 'sync-put-p50-per-extra-node',
          label: `sync put p50 added per extra node (${last} nodes against ${base}, ÷ ${extra})`,
          ours: (median(p50s(sl)) - median(p50s(s2))) / extra,
          unit: 'µs',
          anchor: { label: `sync put p50, ${base} nodes`, value: median(p50s(s2)), unit: 'µs' },
          cpuUsPerOp: { ours: (median(cpus(sl)) - median(cpus(s2))) / extra, anchor: median(cpus(s2)) },
        }),
      );
    }
  }
  if (a2 !== undefined && a2.length > 0) {
    for (const k of more) {
      const a = f.async[k];
      if (a === undefined) continue;
      figures.push(
        versus({
          id: `async-applied-${k}-nodes`,
          label: `async writes applied on every peer, ${k} nodes`,
          ours: median(rates(a)),
          unit: 'ops/s',
          anchor: { label: `the same, ${base} nodes`, value: median(rates(a2)), unit: 'ops/s' },
          rounds: { ours: a.map((r) => r.appliedPerSec), anchor: a2.map((r) => r.appliedPerSec) },
          cpuUsPerOp: { ours: median(cpus(a)), anchor: median(cpus(a2)) },
        }),
      );
    }
    const last = FANOUT_SIZES[FANOUT_SIZES.length - 1];
    const al = f.async[last];
    if (al !== undefined) {
      const extra = last - base;
      figures.push(
        versus({
          id: 'async-cpu-per-extra-node',
          label: `async write: CPU added per extra node (${last} nodes against ${base}, ÷ ${extra}; all processes of the cluster)`,
          ours: (median(cpus(al)) - median(cpus(a2))) / extra,
          unit: 'µs',
          anchor: { label: `CPU per async write, ${base} nodes`, value: median(cpus(a2)), unit: 'µs' },
        }),
      );
    }
  }
  const async = FANOUT_SIZES.filter((k) => f.async[k] !== undefined);
  if (async.length > 0) {
    const missingIn = (k: number) => f.asyncMissing?.[k] ?? missingOf(f.async[k]);
    const missing = async.reduce((n, k) => n + missingIn(k), 0);
    figures.push({
      id: 'async-missing',
      label: `async writes some peer had not applied ${MISSING_AFTER_MS / 1000} s after the burst, over every round of ${async.join(', ')} nodes (${async.map((k) => `${k} nodes: ${missingIn(k)}`).join('; ')})`,
      ours: missing,
      unit: 'entries',
      target: '0',
      met: missing === 0,
    });
  }
  return figures;
}

export function fanoutReport(f: FanoutResults): string {
  const base = FANOUT_SIZES[0];
  const rows: string[][] = [];
  for (const k of FANOUT_SIZES) {
    const s = f.sync[k];
    const a = f.async[k];
    rows.push([
      String(k),
      s ? `${fmtUs(median(p50s(s)))} (${fmtRatio(median(p50s(s)) / median(p50s(f.sync[base])))})` : '—',
      s ? fmtUs(median(s.map((r) => r.latency.p99))) : '—',
      s ? `${median(cpus(s)).toFixed(1)} µs` : '—',
      a ? `${fmtOps(median(rates(a)))} (${fmtRatio(median(rates(a)) / median(rates(f.async[base])))})${(f.asyncMissing?.[k] ?? 0) > 0 ? `; ${f.asyncMissing![k]} writes missing on a peer` : ''}` : '—',
      a ? `${median(cpus(a)).toFixed(1)} µs` : '—',
    ]);
  }
  return [
    '## 7. Fan-out: 2, 3 and 5 nodes (all clusters up at once, rounds interleaved)',
    '',
    mdTable(['nodes', 'sync put p50 (vs 2 nodes)', 'sync put p99', 'CPU per sync put, all nodes', 'async applied on every peer (vs 2 nodes)', 'CPU per async write, all nodes'], rows),
  ].join('\n');
}
