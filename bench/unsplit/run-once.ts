/** One timed heal: base written, split, divergent writes, reconnect, heal, digests compared. */
import { join } from 'node:path';
import { Fixture, log, nowNs, sleep } from '../replication/common';
import { fmtWatch, LinkWatchReport, unexpectedDowns } from '../util/link-watch';
import { NoiseMeter } from '../replication/procs';
import type { Step } from './heal-node';
import { loadProfile } from './prof-window';
import { BASE, HOSTS, MANUAL, NAMES, partition, PROF, Shape } from './setup';
import { cpuIn, phasesOf, profileReport } from './heal-steps';

// ---------- one run ----------

interface HealSide {
  events: Array<{ t: number; event: { type: string; [k: string]: unknown } }>;
  steps: Step[];
  pulled: number;
  spreadStates: number;
  mergedInstalled: number;
  mergeCalls: number;
  cpuMs: number;
  size: number;
}
interface Quiet {
  t: number;
  cpuTimeline: number[];
  cpuMs: number;
  spreadStates: number;
  mergedInstalled: number;
  mergeCalls: number;
}
interface Digest {
  digest: Record<string, string>;
  ms: number;
  end: number;
  size: number;
}

export interface RunResult {
  shape: string;
  round: number;
  warmup: boolean;
  /** Table sizes before the heal (a, b) and after (both). */
  sizeA: number;
  sizeB: number;
  sizeAfter: number;
  /** ms: partition removed → inconsistent_database on a (reconnection + detection; not timed). */
  reconnectMs: number;
  /** ms: inconsistent_database on a (or the heal() call, --manual) → both healed. */
  healMs: number;
  healedAMs: number;
  healedBMs: number;
  /** ms: ... → both digests computed (equal). */
  verifiedMs: number;
  digestMs: [number, number];
  digestsEqual: boolean;
  /** ms: ... → the echo of healed states acknowledged on both sides. */
  quietMs: number;
  healFailed: number;
  buckets: number;
  differing: number;
  /** States streamed b→a (a's pull) and a→b (b's pull during unsplit.push). */
  pulledBA: number;
  pulledAB: number;
  /** States that won a merge (HealResult.entries). */
  changed: number;
  /** States re-sent by spread() as replicated writes (a + b). */
  echo: number;
  cpuA: number;
  cpuB: number;
  cpuQuietA: number;
  cpuQuietB: number;
  /** Steps of the heal on a, ms from T0. */
  steps: Array<{ what: string; startMs: number; ms: number; n?: number }>;
  /** Wall time and CPU time of each process per step of the heal (see phasesOf), ms. */
  phases: Array<{ name: string; wallMs: number; cpuA: number; cpuB: number }>;
  /** Steps of the heal on b (its pull during unsplit.push), ms from T0. */
  stepsB: Array<{ what: string; startMs: number; ms: number; n?: number }>;
  /** CPU of other processes on the machine during the run (% of 2 vCPUs = 200 %). */
  othersPct: number;
  /** Profile summary (markdown), profiled runs only. */
  prof?: string;
  /** nodedown events outside the split (base written; partition removed → quiet): false alarms. */
  falseDowns: number;
  /** What each node saw of failure detection in those two windows. */
  watch: Array<[string, LinkWatchReport]>;
}

export async function runOnce(a: Fixture, b: Fixture, shape: Shape, round: number, warmup: boolean, noise: NoiseMeter, profile = false): Promise<RunResult> {
  const watched = () => Promise.all([a.call<LinkWatchReport>('watch'), b.call<LinkWatchReport>('watch')]);
  await watched();
  await Promise.all([a.call('reset'), b.call('reset')]);
  // reset forces a full GC (global.gc, not V8's incremental marking): with a 1M-entry heap it blocks
  // for a second or more, which may drop the link — the bench's doing, not counted; the nodes relink first.
  const [resetA, resetB] = await watched();
  if (unexpectedDowns([['a', resetA], ['b', resetB]]) > 0) log(`  reset (forced GC) dropped the link, not counted: ${fmtWatch([['a', resetA], ['b', resetB]])}`);
  await Promise.all([a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
  await watched();
  const base = await a.call<{ seconds: number; size: number }>('put', { seed: 1, n: BASE, valueOffset: 0 });
  const bStatus = await b.call<{ size: number }>('status');
  if (bStatus.size !== BASE) throw new Error(`base not replicated: b holds ${bStatus.size}`);
  const [baseA, baseB] = await watched();
  log(`  base ${BASE} written on a in ${base.seconds.toFixed(2)} s (replicated to b); ${fmtWatch([['a', baseA], ['b', baseB]])}; splitting`);

  partition.cut(HOSTS.a, HOSTS.b);
  await Promise.all([a.call('waitPeers', { n: 0 }), b.call('waitPeers', { n: 0 })]);
  const [wa, wb] = await Promise.all([
    a.call<{ seconds: number; size: number }>('put', { seed: shape.a.seed, n: shape.a.n, valueOffset: 100 }),
    b.call<{ seconds: number; size: number }>('put', { seed: shape.b.seed, n: shape.b.n, valueOffset: 900 }),
  ]);
  log(`  split seen; divergent writes: a ${shape.a.n} (${wa.seconds.toFixed(2)} s), b ${shape.b.n} (${wb.seconds.toFixed(2)} s); removing the partition`);

  noise.section();
  await Promise.all([a.call('arm', { profile }), b.call('arm', { profile })]);
  await watched(); // not counted: the split's own nodedowns, and arm's forced full GC
  const unsplitAt = nowNs();
  partition.heal();

  let t0: number;
  let healA: HealSide;
  let healB: HealSide;
  if (MANUAL) {
    await Promise.all([a.call('waitInconsistent'), b.call('waitInconsistent'), a.call('waitPeers', { n: 1 }), b.call('waitPeers', { n: 1 })]);
    const manual = a.call<{ start: number; end: number }>('heal', { peer: NAMES.b });
    [healA, healB] = await Promise.all([a.call<HealSide>('waitHealed'), b.call<HealSide>('waitHealed')]);
    t0 = (await manual).start;
  } else {
    [healA, healB] = await Promise.all([a.call<HealSide>('waitHealed'), b.call<HealSide>('waitHealed')]);
    const inconsistent = healA.events.find((e) => e.event.type === 'inconsistent_database');
    if (inconsistent === undefined) throw new Error('a healed without an inconsistent_database event');
    t0 = inconsistent.t;
  }
  const [da, db] = await Promise.all([a.call<Digest>('digest'), b.call<Digest>('digest')]);
  let digestsEqual = JSON.stringify(da.digest) === JSON.stringify(db.digest);
  let verifiedEnd = Math.max(da.end, db.end);
  for (let i = 0; !digestsEqual && i < 50; i++) {
    await sleep(100);
    const [xa, xb] = await Promise.all([a.call<Digest>('digest'), b.call<Digest>('digest')]);
    digestsEqual = JSON.stringify(xa.digest) === JSON.stringify(xb.digest);
    verifiedEnd = Math.max(xa.end, xb.end);
  }
  const [qa, qb] = await Promise.all([a.call<Quiet>('waitQuiet'), b.call<Quiet>('waitQuiet')]);
  const { othersPct } = noise.section();
  const [healWatchA, healWatchB] = await watched();
  const watch: Array<[string, LinkWatchReport]> = [['a (base)', baseA], ['b (base)', baseB], ['a (heal)', healWatchA], ['b (heal)', healWatchB]];
  const tHealed = (side: HealSide) => side.events.find((e) => e.event.type === 'healed')!.t;
  let prof: string | undefined;
  if (profile && PROF) {
    const files = {
      a: join(PROF, `heal.a-${shape.name}.${a.child.pid}.cpuprofile`),
      b: join(PROF, `heal.b-${shape.name}.${b.child.pid}.cpuprofile`),
    };
    await Promise.all([a.call('profStop', { file: files.a }), b.call('profStop', { file: files.b })]);
    prof = profileReport(shape, loadProfile(files.a), loadProfile(files.b), t0, Math.max(tHealed(healA), tHealed(healB)), healA.steps);
  }

  const diff = healA.steps.find((s) => s.what === 'call sync.digests');
  const healedEvent = healA.events.find((e) => e.event.type === 'healed')!.event as { entries?: number };
  const ms = (ns: number) => ns / 1e6;
  const result: RunResult = {
    shape: shape.name,
    round,
    warmup,
    sizeA: wa.size,
    sizeB: wb.size,
    sizeAfter: da.size,
    reconnectMs: ms(t0 - unsplitAt),
    healMs: ms(Math.max(tHealed(healA), tHealed(healB)) - t0),
    healedAMs: ms(tHealed(healA) - t0),
    healedBMs: ms(tHealed(healB) - t0),
    verifiedMs: ms(verifiedEnd - t0),
    digestMs: [da.ms, db.ms],
    digestsEqual,
    quietMs: ms(Math.max(qa.t, qb.t) - t0),
    healFailed: healA.events.filter((e) => e.event.type === 'heal_failed').length,
    buckets: diff?.detail?.buckets ?? NaN,
    differing: diff?.detail?.differing ?? NaN,
    pulledBA: healA.pulled,
    pulledAB: healB.pulled,
    changed: healedEvent.entries ?? NaN,
    echo: qa.spreadStates + qb.spreadStates,
    cpuA: healA.cpuMs,
    cpuB: healB.cpuMs,
    cpuQuietA: qa.cpuMs,
    cpuQuietB: qb.cpuMs,
    steps: healA.steps.map((s) => ({ what: s.what, startMs: ms(s.start - t0), ms: s.end === undefined ? NaN : ms(s.end - s.start), n: s.n })),
    phases: phasesOf(healA.steps, t0, Math.max(tHealed(healA), tHealed(healB))).map(([name, from, to]) => ({
      name,
      wallMs: ms(to - from),
      cpuA: cpuIn(qa.cpuTimeline, from, to),
      cpuB: cpuIn(qb.cpuTimeline, from, to),
    })),
    stepsB: healB.steps.map((s) => ({ what: s.what, startMs: ms(s.start - t0), ms: s.end === undefined ? NaN : ms(s.end - s.start), n: s.n })),
    othersPct,
    prof,
    falseDowns: unexpectedDowns(watch),
    watch,
  };
  if (!digestsEqual) throw new Error(`digests differ after the heal (${shape.name}, round ${round})`);
  log(
    `  ${warmup ? 'warm-up' : `run ${round}`}: heal ${result.healMs.toFixed(0)} ms (a ${result.healedAMs.toFixed(0)}, b ${result.healedBMs.toFixed(0)}), verified ${result.verifiedMs.toFixed(0)} ms, quiet ${result.quietMs.toFixed(0)} ms; ` +
      `reconnect ${result.reconnectMs.toFixed(0)} ms; ${result.differing}/${result.buckets} buckets differ; pulled b→a ${result.pulledBA}, a→b ${result.pulledAB}; changed ${result.changed}; echo ${result.echo}; ` +
      `cpu a ${result.cpuA.toFixed(0)} ms b ${result.cpuB.toFixed(0)} ms; others ${othersPct.toFixed(0)} %` +
      (result.healFailed > 0 ? `; ${result.healFailed} heal_failed` : '') +
      `; heal window: ${fmtWatch([['a', healWatchA], ['b', healWatchB]])}`,
  );
  return result;
}
