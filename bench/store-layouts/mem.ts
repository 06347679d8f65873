/** Heap per entry of each prototype layout, and the shared after-GC measurement. */
import { ExpiryIndex } from '../../libs/cluster-cache/src/store/expiry-index';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { settleValue as deepFreeze } from '../../libs/cluster-cache/src/values/settle';
import { frozenCopy } from '../../libs/cluster-cache/src/util/frozen-copy';
import { flat, fmtBytes, heapAfterGc, log, median, prng, table } from '../util/harness';
import { sessionKey, sessionValue, SessionValue } from '../util/session-data';
import { MEM_RUNS, MEM_WARMUP_N, N, NODE, out, TTL } from './setup';
import { currentState, exactCopy, LeanEntry, nextVersion, shapeCopy, SlotExpiry, SoaStore } from './pieces';

// 2. memory

export interface MemLayout {
  name: string;
  build(n: number): unknown;
}

/** n session keys and values, the same in every layout (seeded). */
function kv(n: number, each: (key: string, value: SessionValue, i: number) => void): void {
  const rand = prng(21);
  const keyRand = prng(22);
  for (let i = 0; i < n; i++) each(sessionKey(keyRand), sessionValue(i, rand), i);
}

function sessionMemLayouts(): MemLayout[] {
  return [
    {
      name: 'keys only (44 B flat strings in an array)',
      build: (n) => {
        const a: string[] = [];
        kv(n, (k) => a.push(k));
        return a;
      },
    },
    {
      name: 'values only, JSON.parse layout (in an array)',
      build: (n) => {
        const a: unknown[] = [];
        kv(n, (_k, v) => a.push(v));
        return a;
      },
    },
    {
      name: 'values only, deepFreeze(structuredClone(v)) (in an array)',
      build: (n) => {
        const a: unknown[] = [];
        kv(n, (_k, v) => a.push(deepFreeze(structuredClone(v))));
        return a;
      },
    },
    {
      name: 'values only, frozenCopy(v) — the library\'s copy since a49bb07 (in an array)',
      build: (n) => {
        const a: unknown[] = [];
        kv(n, (_k, v) => a.push(frozenCopy(v)));
        return a;
      },
    },
    {
      name: 'values only, shapeCopy(v) (in an array)',
      build: (n) => {
        const a: unknown[] = [];
        kv(n, (_k, v) => a.push(shapeCopy(v)));
        return a;
      },
    },
    {
      name: 'L1 = (a) Map<key, value>',
      build: (n) => {
        const m = new Map<string, unknown>();
        kv(n, (k, v) => m.set(k, v));
        return m;
      },
    },
    {
      name: 'L2 Map<key, frozenCopy(value)>',
      build: (n) => {
        const m = new Map<string, unknown>();
        kv(n, (k, v) => m.set(k, frozenCopy(v)));
        return m;
      },
    },
    {
      name: 'L3 Map<key, EntryState{8 fields}> + frozenCopy value',
      build: (n) => {
        const m = new Map<string, EntryState>();
        const now = Date.now();
        kv(n, (k, v) => m.set(k, currentState(k, frozenCopy(v), now + TTL, nextVersion(now))));
        return m;
      },
    },
    {
      name: 'L4 = L3 + ExpiryIndex (≈ (b) ClusterCache.put)',
      build: (n) => {
        const m = new Map<string, EntryState>();
        const expiry = new ExpiryIndex();
        kv(n, (k, v) => {
          const now = Date.now();
          const s = currentState(k, frozenCopy(v), now + TTL, nextVersion(now));
          m.set(k, s);
          expiry.add(s);
        });
        return [m, expiry];
      },
    },
    leanLayout('P2 Map<key, LeanEntry> + exact-layout copy + expiry buckets', exactCopy),
    leanLayout('P2b = P2 with frozenCopy (lean entry alone)', frozenCopy),
    {
      name: 'P3 struct-of-arrays + exact-layout copy + slot expiry',
      build: (n) => {
        const s = new SoaStore();
        const expiry = new SlotExpiry();
        kv(n, (k, v) => {
          const now = Date.now();
          const slot = s.set(k, exactCopy(v), now + TTL, nextVersion(now));
          expiry.add(slot, s.exp[slot]);
        });
        s.trim();
        return [s, expiry];
      },
    },
    {
      name: 'P4 struct-of-arrays + value as JSON string + slot expiry',
      build: (n) => {
        const s = new SoaStore();
        const expiry = new SlotExpiry();
        kv(n, (k, v) => {
          const now = Date.now();
          const slot = s.set(k, flat(JSON.stringify(v)), now + TTL, nextVersion(now));
          expiry.add(slot, s.exp[slot]);
        });
        s.trim();
        return [s, expiry];
      },
    },
  ];
}

/** A `Map<key, LeanEntry>` with per-second expiry buckets, values copied by `copy`. */
function leanLayout(name: string, copy: (value: unknown) => unknown): MemLayout {
  return {
    name,
    build: (n) => {
      const m = new Map<string, LeanEntry>();
      const expiry = new Map<number, LeanEntry[]>();
      kv(n, (k, v) => {
        const now = Date.now();
        const exp = Math.ceil((now + TTL) / 1000);
        const e = new LeanEntry(copy(v), exp, nextVersion(now), 0, NODE);
        m.set(k, e);
        const list = expiry.get(exp);
        if (list === undefined) expiry.set(exp, [e]);
        else list.push(e);
      });
      return [m, expiry];
    },
  };
}

/** The per-user index of SessionCache, piece by piece (500k sessions, 2 per user, as in store.bench.ts). */

export async function measure(layouts: MemLayout[], n: number, title: string, unit: string): Promise<void> {
  const res = new Map<string, number[]>(layouts.map((l) => [l.name, []]));
  for (let round = 0; round < 1 + MEM_RUNS; round++) {
    for (const l of layouts) {
      const count = round === 0 ? Math.min(MEM_WARMUP_N, n) : n;
      const before = heapAfterGc();
      let kept: unknown = l.build(count);
      const after = heapAfterGc();
      if (kept === undefined) throw new Error('nothing kept');
      kept = undefined;
      void kept;
      const per = (after.heapUsed - before.heapUsed) / count;
      if (round > 0) res.get(l.name)!.push(per);
      log(`mem: round ${round} ${l.name}: ${per.toFixed(1)} B`);
    }
  }
  out(title);
  out();
  out(table(['layout', `heapUsed Δ / ${unit}`, 'runs'], layouts.map((l) => [l.name, fmtBytes(median(res.get(l.name)!)), res.get(l.name)!.map((x) => x.toFixed(1)).join(' · ')])));
  out();
}

export async function sectionMem(): Promise<void> {
  await measure(sessionMemLayouts(), N, `### Prototype layouts: heap per entry, ${N.toLocaleString('en')} entries (44 B key, ~204 B-JSON value)`, 'entry');
}
