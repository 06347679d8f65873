/** Figure 5: a fresh node copies 1M sessions from a seed when it joins. */
import { Cpu, cpuOf, fmtS, HOSTS, log, PORTS, sleep } from './common';
import { fmtWatch, LinkWatchReport } from '../util/link-watch';
import { fixture, kept, nodeEnv, rounds, section, SIZES } from './setup';
import { Watched } from './figure-async';

// ---------- figure 5: 1M sessions copied to a joining node ----------

interface JoinRun {
  /** CPU (s) of the joiner from init to ready, and of the seed during the round. */
  joinerCpu: number;
  seedCpu: number;
  /** From the start of module init on the joiner to ready with every entry. */
  initToReady: number;
  /** From spawning the joiner process to ready (includes Node, swc and Nest boot). */
  spawnToReady: number;
  size: number;
}

/** What figure 5's sessions are: the 8-field objects (the figure), or their JSON text (context: an opaque value, like the Mnesia anchor's binary). */
type JoinValues = 'objects' | 'json';

export interface JoinCopy {
  values: JoinValues;
  fill: { seconds: number; size: number; heapMiB: number };
  runs: JoinRun[];
  /** The seed and each joiner, from the joiner's spawn to its ready (warm-up included; its leave afterwards is not counted). */
  watch: Watched;
}

export async function joinCopy(values: JoinValues): Promise<JoinCopy> {
  const valueEnv = { BENCH_VALUES: values };
  const seed = await fixture(`seed(1M ${values})`, 'node-fixture.ts', { ...nodeEnv('seed', HOSTS.seed, PORTS.seed, 'sync'), ...valueEnv });
  try {
    log(`  loading ${SIZES.copyN} sessions into the seed node`);
    const fill = await seed.call<{ seconds: number; size: number; heapMiB: number }>('fill', { n: SIZES.copyN, seed: 5000, batch: 1000 });
    log(`  loaded in ${fmtS(fill.seconds)} (${fill.size} entries, heap ${fill.heapMiB.toFixed(0)} MiB)`);
    const runs = await section(`5. join copy of 1M sessions (${values})`, async () => {
      const runs: JoinRun[] = [];
      const watch: Watched = [];
      for (const r of rounds(SIZES.copyRuns)) {
        await seed.call('watch');
        const seedBefore = (await cpuOf([seed]))[0];
        const joiner = await fixture(`joiner ${r}`, 'node-fixture.ts', {
          ...nodeEnv(`j${r}`, HOSTS.joiner, PORTS.joiner, 'sync', [`${HOSTS.seed}:${PORTS.seed}`]),
          BENCH_ROLE: 'joiner',
          ...valueEnv,
        });
        const hello = (await joiner.hello) as { initStart: number; readyAt: number; size: number; cpuInit: Cpu; cpuReady: Cpu };
        const seedAfter = (await cpuOf([seed]))[0];
        const seen: Watched = [[`seed (joiner ${r})`, await seed.call<LinkWatchReport>('watch')], [`joiner ${r}`, await joiner.call<LinkWatchReport>('watch')]];
        watch.push(...seen);
        const run = {
          joinerCpu: (hello.cpuReady.user + hello.cpuReady.system - hello.cpuInit.user - hello.cpuInit.system) / 1e6,
          seedCpu: (seedAfter.user + seedAfter.system - seedBefore.user - seedBefore.system) / 1e6,
          initToReady: (hello.readyAt - hello.initStart) / 1e9, spawnToReady: (hello.readyAt - joiner.spawnedAt) / 1e9, size: hello.size };
        runs.push(run);
        log(`  round ${r}: init→ready ${fmtS(run.initToReady)}, spawn→ready ${fmtS(run.spawnToReady)}, ${run.size} entries; ${fmtWatch(seen)}`);
        await joiner.stop();
        // The seed must see the joiner leave before the next one (same address) comes.
        while ((await seed.call<{ peers: string[] }>('status')).peers.length > 0) await sleep(20);
      }
      return { runs: kept(runs), watch };
    });
    return { values, fill, ...runs };
  } finally {
    await seed.stop(30_000);
  }
}
