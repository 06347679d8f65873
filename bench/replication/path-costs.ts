/**
 * CPU cost of each step of the replication path, in one process, without
 * sockets or scheduling: what a put costs on the writer and what applying it
 * costs on the peer, and what the changes proposed in
 * docs/design.md (Design notes) would save. Not part of run.ts (it explains
 * the figures; it is not one of them).
 *
 *   node -r @swc-node/register bench/replication/path-costs.ts
 *
 * Each line: warm-up, then the median of 5 runs, in ns per operation (or per
 * entry for batched steps). Library internals are imported by path.
 */
import { ClusterCache } from '../../libs/cluster-cache/src/cache/cluster-cache';
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { FlatStates, flatStates, fromFlat, putFlat } from '../../libs/cluster-cache/src/replication/flat-states';
import { WriteFanout } from '../../libs/cluster-cache/src/replication/write-fanout';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { Store } from '../../libs/cluster-cache/src/store/store';
import { decodeAckPayload, encodeAckFrame, MessageCodec } from '../../libs/cluster-cache/src/transport/frame-codec';
import { settleValue as deepFreeze } from '../../libs/cluster-cache/src/values/settle';
import { sessionKeys, sessionValues } from '../util/session-data';
import { log, mdTable, median, nowNs, SESSION_TTL } from './common';

const N = Number(process.env.BENCH_N ?? 50_000);
const RUNS = 5;
const VALUES = sessionValues(1000);
const logger = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
const rows: string[][] = [];

async function measure(name: string, what: string, body: (run: number) => number | Promise<number>): Promise<number> {
  const results: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const ns = await body(run);
    if (run > 0) results.push(ns);
  }
  const m = median(results);
  rows.push([name, what, `${m.toFixed(0)} ns`, results.map((r) => r.toFixed(0)).join(', ')]);
  log(`${name}: ${m.toFixed(0)} ns/${what}`);
  return m;
}

function timeLoop(n: number, f: (i: number) => void): number {
  const t = nowNs();
  for (let i = 0; i < n; i++) f(i);
  return (nowNs() - t) / n;
}

/** The copy a `put` could make instead of structuredClone for plain JSON-like data (fallback to structuredClone otherwise). */
function plainCopyFreeze(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return Object.freeze(v.map(plainCopyFreeze));
  if (Object.getPrototypeOf(v) !== Object.prototype) return deepFreeze(structuredClone(v));
  const out: Record<string, unknown> = {};
  for (const k in v as Record<string, unknown>) out[k] = plainCopyFreeze((v as Record<string, unknown>)[k]);
  return Object.freeze(out);
}

function newCache(prefill: number): { cache: ClusterCache<unknown>; engine: CacheEngine; store: Store } {
  const store = new Store('a@127.0.0.1', systemClock);
  const table = store.addTable('sessions', 'replicated');
  const engine = new CacheEngine(store, { writes: 'async', sweepInterval: 60_000, logger });
  const cache = new ClusterCache<unknown>(engine, table, 'cache', SESSION_TTL);
  const keys = sessionKeys(prefill, 99);
  for (let i = 0; i < prefill; i += 1000) void cache.putMany(keys.slice(i, i + 1000).map((k, j) => [k, VALUES[(i + j) % 1000]] as [string, unknown]));
  return { cache, engine, store };
}

async function main(): Promise<void> {
  // ---------- writer side ----------
  await measure('structuredClone + deepFreeze of a 203 B session (what put does)', 'value', () =>
    timeLoop(N, (i) => deepFreeze(structuredClone(VALUES[i % 1000]))),
  );
  await measure('plain-object copy + freeze (proposal W1)', 'value', () => timeLoop(N, (i) => plainCopyFreeze(VALUES[i % 1000])));

  {
    const { cache } = newCache(100_000);
    await measure('ClusterCache.put, no peer (validate, clone, freeze, store.write; 100k+ entries)', 'put', (run) => {
      const keys = sessionKeys(N, 1000 + run);
      return timeLoop(N, (i) => void cache.put(keys[i], VALUES[i % 1000]));
    });
  }
  {
    const { cache, engine } = newCache(100_000);
    const fanout = new WriteFanout(systemClock, 60_000);
    const codec = new MessageCodec(1 << 30);
    let bytes = 0;
    fanout.add({
      name: 'b@127.0.0.1',
      send: (m) => {
        bytes += codec.encode(m).length;
        fanout.acknowledge('b@127.0.0.1', (m as { id: number }).id); // as if the peer acked at once
      },
      disconnect: () => undefined,
    });
    engine.replicateWith(fanout);
    await measure('ClusterCache.put with one peer: + fan-out batching + msgpack encode of its batch (acked at once)', 'put', (run) => {
      const keys = sessionKeys(N, 2000 + run);
      return timeLoop(N, (i) => void cache.put(keys[i], VALUES[i % 1000]));
    });
    fanout.stop();
    void bytes;
  }

  // ---------- the wire ----------
  const keys = sessionKeys(N, 3000);
  const states: EntryState[] = keys.map((k, i) => ({ ns: 'cache', key: k, value: VALUES[i % 1000], expiresAt: Date.now() + SESSION_TTL, version: 1e12 + i, seen: 0, origin: 'a@127.0.0.1' }));
  /** A 'write' message of `states[from, to)`, flat as the library sends it. */
  const writeMessage = (id: number, from: number, to: number) => {
    const flat: FlatStates = flatStates(to - from);
    for (let i = from; i < to; i++) putFlat(flat, i - from, states[i]);
    return { t: 'write', id, batches: [['sessions', flat]] };
  };
  const single: Buffer[] = [];
  const batched: Buffer[] = [];
  await measure("encode: one 'write' message per write (today)", 'write', () => {
    const codec = new MessageCodec(1 << 30);
    single.length = 0;
    return timeLoop(N, (i) => single.push(codec.encode(writeMessage(i, i, i + 1))));
  });
  await measure("encode: one 'write' message per 100 writes (proposal W2: batch per peer per tick)", 'write', () => {
    const codec = new MessageCodec(1 << 30);
    batched.length = 0;
    const t = nowNs();
    for (let i = 0; i < N; i += 100) batched.push(codec.encode(writeMessage(i, i, i + 100)));
    return (nowNs() - t) / N;
  });
  await measure("encode an ack ({ t: 'ack', id }) through msgpack (before W3)", 'ack', () => {
    const codec = new MessageCodec(1 << 30);
    return timeLoop(N, (i) => codec.encode({ t: 'ack', id: i }));
  });
  await measure('encode + decode an ack frame (W3: FrameKind.Ack, no msgpack)', 'ack', () =>
    timeLoop(N, (i) => decodeAckPayload(encodeAckFrame(i).subarray(4))),
  );

  // ---------- peer side ----------
  const applyAll = (frames: Buffer[], perFrame: number, prefill: number) => {
    const { store } = newCache(0);
    const table = store.table('sessions')!;
    const engine = new CacheEngine(store, { writes: 'sync', sweepInterval: 60_000, logger });
    void prefill;
    const codec = new MessageCodec(1 << 30);
    const t = nowNs();
    for (const f of frames) {
      const m = codec.decode(f.subarray(5)) as { batches: Array<[string, FlatStates]> };
      engine.merge(table, fromFlat(m.batches[0][1]));
    }
    return (nowNs() - t) / (frames.length * perFrame);
  };
  await measure('peer: decode + fromFlat + merge (deepFreeze), one message per write', 'write', () => applyAll(single, 1, 0));
  await measure('peer: same, one message per 100 writes (W2)', 'write', () => applyAll(batched, 100, 0));
  await measure('peer: decode only, one message per 100 writes', 'write', () => {
    const codec = new MessageCodec(1 << 30);
    const t = nowNs();
    for (const f of batched) codec.decode(f.subarray(5));
    return (nowNs() - t) / N;
  });

  // ---------- the floor: a Map of 1M sessions keyed by strings fresh from the network ----------
  const big = new Map<string, EntryState | number>();
  for (const k of sessionKeys(1_000_000, 4000)) big.set(k, 1);
  await measure('Map of 1M: get (miss) + set of a fresh key string (floor of any apply)', 'entry', (run) => {
    const fresh = sessionKeys(N, 5000 + run).map((k) => Buffer.from(k, 'latin1').toString('latin1'));
    return timeLoop(N, (i) => {
      if (big.get(fresh[i]) === undefined) big.set(fresh[i], i);
    });
  });

  // ---------- the Map's growth: figure 3's slow rounds ----------
  // V8 rehashes a Map into twice the room in one step when it fills: the insert
  // that crosses 2^k entries pays for all of them (on the writer and the peer alike).
  {
    const keys = sessionKeys(1_200_000, 6000);
    const m = new Map<string, number>();
    const pauses: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const t = nowNs();
      m.set(keys[i], i);
      const ns = nowNs() - t;
      if (ns > 2e6) pauses.push(`${(ns / 1e6).toFixed(0)} ms at ${i.toLocaleString('en')}`);
    }
    log(`Map growth to 1.2M fresh keys, inserts over 2 ms: ${pauses.join(', ')}`);
    rows.push(['Map growth to 1.2M fresh keys: inserts over 2 ms (the rehash into twice the room)', 'insert', pauses.join(', '), '—']);
  }

  process.stdout.write(`${mdTable(['step', 'per', 'median', 'runs'], rows)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
