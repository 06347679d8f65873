/**
 * The pieces of a merge heal, each timed alone in one process (no network):
 * what `AntiEntropy.sync` does on each side for the heal benchmark's
 * "disjoint" shape (a 100k common base, then 50k new keys on each side).
 * One discarded warm-up, then the median of 5 CPU-time runs per piece,
 * interleaved. Also the place to profile them:
 *
 *   node --expose-gc -r @swc-node/register bench/unsplit/heal-parts.bench.ts
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof -r @swc-node/register bench/unsplit/heal-parts.bench.ts
 */
import { systemClock } from '@app/cluster-cache';
import { MessageCodec } from '../../libs/cluster-cache/src/transport/frame-codec';
import { bucketCount, differingBuckets } from '../../libs/cluster-cache/src/replication/digest';
import { KeyHashTable } from '../../libs/cluster-cache/src/replication/key-hash-table';
import { differences, joinParts, keySummaries, SummaryPart, summaryParts } from '../../libs/cluster-cache/src/replication/key-summaries';
import type { ReplicationMessage } from '../../libs/cluster-cache/src/replication/messages';
import { fromFlat } from '../../libs/cluster-cache/src/replication/flat-states';
import { streamTables } from '../../libs/cluster-cache/src/replication/table-copy';
import { BucketDigests } from '../../libs/cluster-cache/src/store/bucket-digests';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { keyHash } from '../../libs/cluster-cache/src/store/state-hash';
import { Store } from '../../libs/cluster-cache/src/store/store';
import type { Table } from '../../libs/cluster-cache/src/store/table';
import { sessionKeys, sessionValues } from '../util/session-data';
import { fullGc, interleaved, log, median, table as mdTable } from '../util/harness';

const BASE = 100_000;
const SIDE = 50_000;
const TTL = 30 * 60_000;
const VALUES = sessionValues(2000);

function write(store: Store, table: Table, keys: readonly string[], offset: number): EntryState[] {
  const made: EntryState[] = [];
  const expiresAt = Date.now() + TTL;
  for (let i = 0; i < keys.length; i += 1000) {
    const ops = keys.slice(i, i + 1000).map((key, j) => ({ ns: 'cache', key, value: VALUES[(i + j + offset) % VALUES.length], expiresAt }));
    made.push(...store.write(table, ops));
  }
  return made;
}

/** Two nodes' tables after a split: a common base, then new keys on each side. */
function splitTables(): { a: Table; b: Table; fromB: EntryState[] } {
  const a = new Store('a@127.0.81.1', systemClock);
  const b = new Store('b@127.0.81.2', systemClock);
  const ta = a.addTable('sessions', 'replicated');
  const tb = b.addTable('sessions', 'replicated');
  b.merge(tb, write(a, ta, sessionKeys(BASE, 1), 0));
  write(a, ta, sessionKeys(SIDE, 11), 100);
  const fromB = write(b, tb, sessionKeys(SIDE, 12), 900);
  return { a: ta, b: tb, fromB };
}

/** The states a fetch of `keys` streams, as the messages a link would send. */
async function serveFetch(table: Table, keys: Float64Array): Promise<ReplicationMessage[]> {
  const wanted = new KeyHashTable(keys.length);
  for (const key of keys) wanted.set(key, 0);
  const now = Date.now();
  const sent: ReplicationMessage[] = [];
  const link = { open: true, send: (m: ReplicationMessage) => void sent.push(m), writable: () => Promise.resolve() };
  await streamTables(link, 1, [table], (state) => state.expiresAt > now && wanted.has(keyHash(state.ns, state.key)));
  return sent;
}

/** A from-scratch pass of the same digests (what a node did before they were kept up to date). */
function digestsFromScratch(table: Table, count: number): Uint32Array {
  const digests = new BucketDigests();
  for (const state of table.states()) digests.add(keyHash(state.ns, state.key), state);
  return digests.fold(count);
}

async function main(): Promise<void> {
  const { a, b, fromB } = splitTables();
  const count = bucketCount(a.size);
  const buckets = differingBuckets(a.liveDigests(count), b.liveDigests(count));
  const mineA = keySummaries(a, count, buckets, Date.now());
  const theirsB = keySummaries(b, count, buckets, Date.now());
  const { wanted } = differences(mineA, theirsB);
  const fetchMessages = await serveFetch(b, wanted);
  const sender = new MessageCodec();
  const frames = fetchMessages.map((m) => sender.encode(m));
  log(`a ${a.size} / b ${b.size} states, ${count} buckets, ${buckets.length} differ; a wants ${wanted.length} keys; ${frames.length} copy frames, ${(frames.reduce((n, f) => n + f.length, 0) / 2 ** 20).toFixed(1)} MiB`);

  let sink = 0;
  const cpu = (f: () => unknown) => async () => {
    const start = process.cpuUsage();
    const r = await f();
    sink += r === undefined ? 0 : 1;
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1e3;
  };
  const results = await interleaved(
    [
      { name: 'bucket digests, kept up to date (Table.liveDigests)', run: cpu(() => a.liveDigests(count)) },
      { name: 'bucket digests, from scratch (reference)', run: cpu(() => digestsFromScratch(a, count)) },
      { name: 'key summaries of every bucket (150k keys)', run: cpu(() => keySummaries(a, count, buckets, Date.now())) },
      {
        name: 'summaries on the wire: parts, encode, decode, join',
        run: cpu(() => {
          const codec = new MessageCodec();
          const parts = summaryParts(theirsB).map((part) => codec.decode(codec.encode({ t: 'reply-part', id: 1, body: part }).subarray(5)) as { body: SummaryPart });
          return joinParts(parts.map((p) => p.body));
        }),
      },
      { name: 'compare summaries (differences)', run: cpu(() => differences(mineA, theirsB)) },
      { name: 'serve a fetch of 50k keys: scan, filter, flatten', run: cpu(() => serveFetch(b, wanted)) },
      { name: 'encode the 50k states (msgpackr)', run: cpu(() => fetchMessages.map((m) => new MessageCodec().encode(m))) },
      {
        name: 'decode the 50k states (msgpackr) + fromFlat',
        run: cpu(() => {
          const codec = new MessageCodec();
          return frames.map((f) => fromFlat((codec.decode(f.subarray(5)) as { states?: unknown[] }).states ?? []));
        }),
      },
      {
        name: 'merge the 50k states (Store.merge)',
        run: async () => {
          const store = new Store('c@127.0.81.3', systemClock);
          const t = store.addTable('sessions', 'replicated');
          const states = fromB.map((s) => ({ ...s, value: { ...(s.value as object) } }));
          fullGc();
          const start = process.cpuUsage();
          store.merge(t, states);
          const used = process.cpuUsage(start);
          return (used.user + used.system) / 1e3;
        },
      },
    ],
    5,
    1,
    fullGc,
  );
  const rows = [...results].map(([name, ms]) => [name, `${median(ms).toFixed(1)} ms`, `${Math.min(...ms).toFixed(1)}–${Math.max(...ms).toFixed(1)}`]);
  process.stdout.write(`${mdTable(['piece (one side)', 'CPU, median of 5', 'min–max'], rows)}\n`);
  if (sink < 0) log('');
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
