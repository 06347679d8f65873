/** Figure 3: async writes applied on the peer, with failure detection under the load. */
import { Cpu, cpuOf, cpuPerOp, fmtOps, HOSTS, log, PORTS, sleep } from './common';
import { fmtWatch, LinkWatchReport } from '../util/link-watch';
import { fixture, kept, nodeEnv, rounds, section, SIZES, stopAll } from './setup';

// ---------- figure 3: async throughput applied on the peer ----------

interface AsyncRun {
  /** CPU per write (µs) of [writer, peer]. */
  cpu: Cpu[];
  appliedPerSec: number;
  localPerSec: number;
  peerWindowPerSec: number;
}

/** What each process of a figure saw of failure detection: [process, report]. */
export type Watched = Array<[string, LinkWatchReport]>;

export interface AsyncResults {
  runs: AsyncRun[];
  /** Over every round of the figure, warm-up included. */
  watch: Watched;
}

export async function asyncPair(): Promise<AsyncResults> {
  const a = await fixture('a(async)', 'node-fixture.ts', nodeEnv('aa', HOSTS.asyncA, PORTS.asyncA, 'async'));
  const b = await fixture('b(async peer)', 'node-fixture.ts', nodeEnv('ab', HOSTS.asyncB, PORTS.asyncB, 'sync', [`${HOSTS.asyncA}:${PORTS.asyncA}`]));
  try {
    await a.call('waitPeers', { n: 1 });
    await b.call('waitPeers', { n: 1 });
    return await section('3. async replication throughput', async () => {
      const runs: AsyncRun[] = [];
      await Promise.all([a.call('watch'), b.call('watch')]);
      for (const r of rounds()) {
        const n = SIZES.asyncN;
        const before = await cpuOf([a, b]);
        const applied = b.call<{ first: number; last: number; count: number }>('expectApplied', { n });
        const burst = await a.call<{ start: number; localDone: number; failed: number }>('burst', { n, seed: 3000 + r, batch: SIZES.asyncBatch });
        const got = await Promise.race([applied, sleep(120_000).then(() => undefined)]);
        if (got === undefined) throw new Error(`peer applied fewer than ${n} entries in 120 s: ${JSON.stringify(await b.call('status'))}`);
        const run = {
          cpu: cpuPerOp(before, await cpuOf([a, b]), n),
          appliedPerSec: n / ((got.last - burst.start) / 1e9),
          localPerSec: n / ((burst.localDone - burst.start) / 1e9),
          peerWindowPerSec: got.count / ((got.last - got.first) / 1e9),
        };
        runs.push(run);
        log(`  round ${r}: applied on peer ${fmtOps(run.appliedPerSec)} (a's puts ${fmtOps(run.localPerSec)}, peer's apply window ${fmtOps(run.peerWindowPerSec)})`);
        await sleep(200);
      }
      const watch: Watched = [['a', await a.call<LinkWatchReport>('watch')], ['b', await b.call<LinkWatchReport>('watch')]];
      log(`  failure detection during the figure: ${fmtWatch(watch)}`);
      return { runs: kept(runs), watch };
    });
  } finally {
    await stopAll(a, b);
  }
}
