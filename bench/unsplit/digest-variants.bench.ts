/**
 * Supporting micro-benchmark for the proposals in docs/benchmarks-unsplit.md:
 * what the bucket-digest pass of a merge heal costs as the library does it,
 * and what cheaper variants of the same pass would cost. One process, no
 * network: a table of N session states (like the heal benchmark's 150k and
 * 200k), one discarded warm-up, the median of 5 passes per variant, run
 * interleaved.
 *
 *   node --expose-gc -r @swc-node/register bench/unsplit/digest-variants.bench.ts [N...]
 *
 * Variants (none is in the library; they only size the proposals):
 *   library      bucketDigests() of libs/cluster-cache/src/replication/digest.ts
 *   key-once     the same hashes, but fnv1a(keyText) computed once per state, not twice
 *   numeric      key hashed once; version/seen/deleted mixed as numbers, origin's hash cached per name
 *                (no number→string formatting; a different but equally good digest)
 *   +pairs       numeric, and also writing (key hash, state hash) per state into a Uint32Array:
 *                the per-key list a second-level exchange would send for differing buckets
 *   numeric/array  numeric over an array of the states instead of Table.states() (a generator of generators)
 *   cached       per-state hashes kept beside the state (as an incrementally maintained digest would):
 *                only the bucket sums and xors are folded
 */
import { systemClock } from '@app/cluster-cache';
import { bucketCount, bucketDigests } from '../../libs/cluster-cache/src/replication/digest';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { Store } from '../../libs/cluster-cache/src/store/store';
import type { Table } from '../../libs/cluster-cache/src/store/table';
import { sessionKeys, sessionValues } from '../util/session-data';
import { fullGc, interleaved, log, median, table as mdTable } from '../util/harness';

function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
const keyText = (s: EntryState): string => (typeof s.key === 'object' ? `${s.ns}\u0000${JSON.stringify(s.key)}` : `${s.ns}\u0000${typeof s.key}:${s.key}`);

/** The library's hashes with the key hash computed once. */
function keyOnce(t: Table, count: number, now: number): number[] {
  const d = new Array<number>(count * 2).fill(0);
  for (const s of t.states()) {
    if (s.expiresAt <= now) continue;
    const kh = fnv1a(keyText(s));
    const b = kh & (count - 1);
    const h = fnv1a(`${s.version}|${s.seen}|${s.origin}|${s.deleted ? 1 : 0}`, kh);
    d[2 * b] = (d[2 * b] + h) >>> 0;
    d[2 * b + 1] = (d[2 * b + 1] ^ h) >>> 0;
  }
  return d;
}

/** murmur3-style 32-bit mix of one more 32-bit word into h. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
const originHash = new Map<string, number>();
function stateHashNumeric(kh: number, s: EntryState): number {
  let oh = originHash.get(s.origin);
  if (oh === undefined) originHash.set(s.origin, (oh = fnv1a(s.origin)));
  let h = kh;
  h = mix(h, s.version >>> 0);
  h = mix(h, Math.floor(s.version / 4294967296));
  h = mix(h, s.seen >>> 0);
  h = mix(h, Math.floor(s.seen / 4294967296));
  h = mix(h, oh);
  h = mix(h, s.deleted ? 1 : 0);
  return h >>> 0;
}

function numeric(t: Table | EntryState[], count: number, now: number, pairs?: Uint32Array): number[] {
  const d = new Array<number>(count * 2).fill(0);
  let i = 0;
  for (const s of Array.isArray(t) ? t : t.states()) {
    if (s.expiresAt <= now) continue;
    const kh = fnv1a(keyText(s));
    const b = kh & (count - 1);
    const h = stateHashNumeric(kh, s);
    d[2 * b] = (d[2 * b] + h) >>> 0;
    d[2 * b + 1] = (d[2 * b + 1] ^ h) >>> 0;
    if (pairs !== undefined) {
      pairs[i++] = kh;
      pairs[i++] = h;
    }
  }
  return d;
}

/** Per-state hashes kept beside the states (what incremental maintenance would keep up to date on each write). */
function cached(states: EntryState[], keyHashes: Uint32Array, stateHashes: Uint32Array, count: number, now: number): number[] {
  const d = new Array<number>(count * 2).fill(0);
  for (let i = 0; i < states.length; i++) {
    if (states[i].expiresAt <= now) continue;
    const b = keyHashes[i] & (count - 1);
    const h = stateHashes[i];
    d[2 * b] = (d[2 * b] + h) >>> 0;
    d[2 * b + 1] = (d[2 * b + 1] ^ h) >>> 0;
  }
  return d;
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const rows: string[][] = [];
  for (const n of sizes.length > 0 ? sizes : [150_000, 200_000]) {
    const store = new Store('a@127.0.81.1', systemClock);
    const t = store.addTable('sessions', 'replicated');
    const keys = sessionKeys(n, 1);
    const values = sessionValues(2000);
    const expiresAt = Date.now() + 30 * 60_000;
    for (let i = 0; i < n; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ ns: 'cache', key: keys[j], value: values[j % values.length], expiresAt });
      store.write(t, ops);
    }
    const count = bucketCount(t.size);
    const states = [...t.states()];
    const keyHashes = Uint32Array.from(states, (s) => fnv1a(keyText(s)));
    const stateHashes = Uint32Array.from(states, (s, i) => stateHashNumeric(keyHashes[i], s));
    const pairs = new Uint32Array(2 * n);
    let sink = 0;
    // CPU time of the pass (this process's user + system), not wall time: other processes on the
    // machine take the CPU away at random moments, which wall time would count.
    const timed = (f: () => number[]) => () => {
      const start = process.cpuUsage();
      sink += f()[0];
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1e3;
    };
    // Same bucket assignment in every variant; the library's and key-once's digests must be identical.
    if (JSON.stringify(bucketDigests(t, count, Date.now())) !== JSON.stringify(keyOnce(t, count, Date.now()))) throw new Error('key-once differs from the library');
    log(`${n} states, ${count} buckets`);
    const results = await interleaved(
      [
        { name: 'library', run: timed(() => bucketDigests(t, count, Date.now())) },
        { name: 'key-once', run: timed(() => keyOnce(t, count, Date.now())) },
        { name: 'numeric', run: timed(() => numeric(t, count, Date.now())) },
        { name: '+pairs', run: timed(() => numeric(t, count, Date.now(), pairs)) },
        { name: 'numeric/array', run: timed(() => numeric(states, count, Date.now())) },
        { name: 'cached', run: timed(() => cached(states, keyHashes, stateHashes, count, Date.now())) },
      ],
      5,
      1,
      fullGc,
    );
    const base = median(results.get('library')!);
    for (const [name, ms] of results) rows.push([String(n), name, `${median(ms).toFixed(1)} ms`, `${((1e6 * median(ms)) / n).toFixed(0)} ns`, `${(base / median(ms)).toFixed(1)}×`]);
    if (sink === 0.5) log('');
  }
  process.stdout.write(`${mdTable(['states', 'variant', 'CPU of one digest pass (median of 5)', 'per state', 'speed-up vs library'], rows)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
