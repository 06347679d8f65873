/**
 * Prototypes of alternative store layouts, to put numbers on the proposals in
 * docs/benchmarks.md. Nothing here is library code; the "current" rows rebuild
 * what libs/cluster-cache/src/store does (EntryState literal, frozenCopy of the
 * value, ExpiryIndex, encoded array keys + trie) piece by piece, so
 * each piece's cost can be read off as a difference.
 *
 *   node --expose-gc -r @swc-node/register bench/store-layouts.bench.ts           # get, mem, put
 *   node --expose-gc -r @swc-node/register bench/store-layouts.bench.ts get       # one section
 *
 * Same method as store.bench.ts: child process per section, interleaved
 * contenders, 1 discarded warm-up round, median of 5 (3 for 1M-entry builds).
 */
import { spawnSync } from 'node:child_process';
import { systemClock } from '../libs/cluster-cache/src/store/clock';
import { ExpiryIndex } from '../libs/cluster-cache/src/store/expiry-index';
import { KeyIndex } from '../libs/cluster-cache/src/store/key-index';
import type { EntryState } from '../libs/cluster-cache/src/store/entry';
import { settleValue as deepFreeze } from '../libs/cluster-cache/src/values/settle';
import { frozenCopy } from '../libs/cluster-cache/src/util/frozen-copy';
import { flat, fmtBytes, fmtOps, fmtRatio, fullGc, heapAfterGc, interleaved, log, median, nowNs, prng, shuffle, table, timeIt } from './util/harness';
import { CREATED_AT, sessionKey, sessionKeys, sessionMetadata, sessionValue, sessionValues, SessionValue, token } from './util/session-data';

const env = (name: string, fallback: number) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);
const N = env('BENCH_N', 1_000_000);
const RUNS = env('BENCH_RUNS', 5);
const MEM_RUNS = env('BENCH_MEM_RUNS', 3);
const MEM_WARMUP_N = env('BENCH_MEM_WARMUP_N', 100_000);
const N_PUT = env('BENCH_N_PUT', 100_000);
const TTL = 30 * 60_000;
const NODE = 'a@127.0.0.1';
const out = (s = '') => process.stdout.write(s + '\n');

// ------------------------------------------------------------------------------------
// Layout pieces
// ------------------------------------------------------------------------------------

/** The library's state, built exactly like Store.write builds it (object literal, 7 fields). */
function currentState(key: string | readonly (string | number)[], value: unknown, expiresAt: number, version: number): EntryState {
  return { ns: 'cache', key, value, expiresAt, version, seen: 0, origin: NODE };
}

let hlcLast = 0;
/** A version like HybridLogicalClock.next() makes (a double > 2^31). */
function nextVersion(now: number): number {
  const physical = (now - Date.UTC(2024, 0, 1)) * 4096;
  hlcLast = physical > hlcLast ? physical : hlcLast + 1;
  return hlcLast;
}

/**
 * Proposal: a lean entry. No `ns` (the namespace store knows it), no `key` (it is
 * the Map key; iterate Map entries to get it back), no `deleted` (a tombstone is
 * `value === undefined`; values are never undefined). `exp` is whole seconds
 * (ceil), a Smi until 2038, so no boxed HeapNumber and no extra pointer chase on get.
 */
class LeanEntry {
  constructor(
    readonly value: unknown,
    readonly exp: number,
    readonly version: number,
    readonly seen: number,
    readonly origin: string,
  ) {}
}

/** A copy through JSON: exact in-object layout, but only right for JSON-safe data. */
function jsonCopy<T>(v: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Proposal: a frozen deep copy with the exact in-object layout, made by a
 * literal factory compiled once per object shape (key list). An object literal
 * with all its keys gets exactly that many in-object fields (88 B for 8 fields),
 * where structuredClone and the library's frozenCopy (`{}` then one property at
 * a time) build 4 in-object fields + a PropertyArray (120 B). Plain objects,
 * arrays and primitives only; anything else (Date, Map, Set, typed arrays, class
 * instances, `__proto__` keys, depth > 32, which also catches cycles, or too many
 * shapes) falls back to deepFreeze(structuredClone(v)).
 */
type Factory = (v: Record<string, unknown>, copy: (x: unknown, depth: number) => unknown, depth: number) => object;
const factories = new Map<string, Factory>();
const MAX_SHAPES = 1024;
const MAX_DEPTH = 32;
/** Thrown (and caught in shapeCopy) when a value needs the structuredClone path. */
const FALLBACK = new Error('fallback to structuredClone');

export function shapeCopy<T>(v: T): T {
  try {
    return copyPlain(v, 0) as T;
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return deepFreeze(structuredClone(v));
  }
}

function copyPlain(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > MAX_DEPTH) throw FALLBACK;
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyPlain(v[i], depth + 1);
    return Object.freeze(a);
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) throw FALLBACK;
  const keys = Object.keys(v);
  const shape = keys.join('\u0000');
  let make = factories.get(shape);
  if (make === undefined) {
    if (factories.size >= MAX_SHAPES || keys.includes('__proto__')) throw FALLBACK;
    const body = keys.map((k) => `${JSON.stringify(k)}: c(v[${JSON.stringify(k)}], d + 1)`).join(', ');
    make = new Function('v', 'c', 'd', `return { ${body} };`) as Factory;
    factories.set(shape, make);
  }
  return Object.freeze(make(v as Record<string, unknown>, copyPlain, depth));
}

/** The exact-layout copy used by the proposal rows. */
const exactCopy = shapeCopy;

/** The system clock as it was before fe3c63c: one Date.now() per read. */
const dateNowClock = { now: Date.now };
/** The library's systemClock since fe3c63c reads Date.now() once per event-loop turn (proposal 1, landed). */
type TurnClock = typeof systemClock;

/**
 * Proposal: struct-of-arrays. The Map holds a slot number (a Smi: no object to
 * chase); per-slot columns hold the value and the metadata as raw numbers.
 * (A real one needs a free list for deleted slots; inserts only here.)
 */
class SoaStore {
  readonly slots = new Map<string, number>();
  values: unknown[] = [];
  exp = new Int32Array(1024);
  version = new Float64Array(1024);
  seen = new Float64Array(1024);
  origin = new Uint16Array(1024);
  size = 0;
  set(key: string, value: unknown, expMs: number, version: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.size++;
      if (slot === this.exp.length) this.grow();
      this.slots.set(key, slot);
    }
    this.values[slot] = value;
    this.exp[slot] = Math.ceil(expMs / 1000);
    this.version[slot] = version;
    this.seen[slot] = 0;
    this.origin[slot] = 0;
    return slot;
  }
  private grow(): void {
    const n = this.exp.length * 2;
    const e = new Int32Array(n);
    e.set(this.exp);
    this.exp = e;
    const v = new Float64Array(n);
    v.set(this.version);
    this.version = v;
    const s = new Float64Array(n);
    s.set(this.seen);
    this.seen = s;
    const o = new Uint16Array(n);
    o.set(this.origin);
    this.origin = o;
  }
  /** Shrinks the columns to `size` (what a store would do after a bulk load; keeps the heap figure honest). */
  trim(): void {
    this.exp = this.exp.slice(0, this.size);
    this.version = this.version.slice(0, this.size);
    this.seen = this.seen.slice(0, this.size);
    this.origin = this.origin.slice(0, this.size);
  }
}

/**
 * Proposal P5: live values straight in a Map (what get reads), metadata in a
 * second Map (what writes, merges, replication and sweeps read), and a small
 * "expiring soon" Set that the sweeper fills with the keys whose expiry falls
 * within the next sweep window (2 s). A get is a Map.get plus, only while the
 * key is in that small, cache-resident Set, an expiry check. Tombstones live only
 * in the metadata Map, so `live` holds live values only.
 */
class LeanMeta {
  constructor(
    readonly exp: number,
    readonly version: number,
    readonly seen: number,
    readonly origin: string,
  ) {}
}
class SplitStore {
  readonly live = new Map<string, unknown>();
  readonly meta = new Map<string, LeanMeta>();
  readonly soon = new Set<string>();
  get(key: string, now: number): unknown {
    const v = this.live.get(key);
    if (v === undefined || !this.soon.has(key)) return v;
    const m = this.meta.get(key)!;
    return m.exp * 1000 > now ? v : undefined;
  }
}

/** Slot-based expiry buckets for the SoA store (Int32Array chunks would be smaller still). */
class SlotExpiry {
  readonly buckets = new Map<number, number[]>();
  add(slot: number, expSec: number): void {
    const list = this.buckets.get(expSec);
    if (list === undefined) this.buckets.set(expSec, [slot]);
    else list.push(slot);
  }
}

// ------------------------------------------------------------------------------------
// 1. get
// ------------------------------------------------------------------------------------

// One loop function per layout and clock, on purpose: a shared loop would see several
// map, entry and clock types, turn polymorphic in V8 and measure that instead.
function gMap(m: Map<string, unknown>, ks: readonly string[]): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) if (m.get(ks[i]) !== undefined) h++;
  return h;
}
function gCurrentFixed(m: Map<string, EntryState>, ks: readonly string[], now: number): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > now && s.value !== undefined) h++;
  }
  return h;
}
function gCurrentDateNow(m: Map<string, EntryState>, ks: readonly string[], clock: { now(): number }): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > clock.now() && s.value !== undefined) h++;
  }
  return h;
}
function gCurrentCoarse(m: Map<string, EntryState>, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const s = m.get(ks[i]);
    if (s !== undefined && s.expiresAt > clock.now() && s.value !== undefined) h++;
  }
  return h;
}
function gLeanCoarse(m: Map<string, LeanEntry>, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) {
    const e = m.get(ks[i]);
    if (e !== undefined && e.value !== undefined && e.exp * 1000 > clock.now()) h++;
  }
  return h;
}
function gSoaCoarse(s: SoaStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  const values = s.values;
  const exp = s.exp;
  for (let i = 0; i < ks.length; i++) {
    const slot = s.slots.get(ks[i]);
    if (slot !== undefined && exp[slot] * 1000 > clock.now() && values[slot] !== undefined) h++;
  }
  return h;
}
function gSplitCoarse(s: SplitStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  for (let i = 0; i < ks.length; i++) if (s.get(ks[i], clock.now()) !== undefined) h++;
  return h;
}
function gSoaJson(s: SoaStore, ks: readonly string[], clock: TurnClock): number {
  let h = 0;
  const values = s.values;
  const exp = s.exp;
  for (let i = 0; i < ks.length; i++) {
    const slot = s.slots.get(ks[i]);
    if (slot !== undefined && exp[slot] * 1000 > clock.now()) {
      const v = values[slot];
      if (v !== undefined && JSON.parse(v as string) !== undefined) h++;
    }
  }
  return h;
}

async function sectionGet(): Promise<void> {
  log(`get: ${N} keys/values`);
  const keys = sessionKeys(N);
  const values = sessionValues(N);
  const lookups = shuffle([...keys], 42);
  const now = Date.now();
  const expiresAt = now + TTL;
  const map = new Map<string, SessionValue>();
  for (let i = 0; i < N; i++) map.set(keys[i], values[i]);
  // Per-entry allocation order as in ClusterCache.put: copy the value, then make the state.
  const current = new Map<string, EntryState>();
  for (let i = 0; i < N; i++) current.set(keys[i], currentState(keys[i], frozenCopy(values[i]), expiresAt, nextVersion(now)));
  const lean = new Map<string, LeanEntry>();
  for (let i = 0; i < N; i++) lean.set(keys[i], new LeanEntry(exactCopy(values[i]), Math.ceil(expiresAt / 1000), nextVersion(now), 0, NODE));
  const soa = new SoaStore();
  for (let i = 0; i < N; i++) soa.set(keys[i], exactCopy(values[i]), expiresAt, nextVersion(now));
  soa.trim();
  const soaJson = new SoaStore();
  for (let i = 0; i < N; i++) soaJson.set(keys[i], flat(JSON.stringify(values[i])), expiresAt, nextVersion(now));
  soaJson.trim();
  const split = new SplitStore();
  for (let i = 0; i < N; i++) {
    split.live.set(keys[i], exactCopy(values[i]));
    split.meta.set(keys[i], new LeanMeta(Math.ceil(expiresAt / 1000), nextVersion(now), 0, NODE));
  }
  // Steady state of 1M sessions with a 30-min TTL: ~555 expire per second, so the
  // 2-s window holds ~1,100 keys; use 2,000 random ones.
  for (const k of shuffle([...keys], 7).slice(0, 2000)) split.soon.add(k);
  fullGc();
  const coarse = systemClock;
  const timed = (fn: () => number) => () => {
    const { result: h, timing } = timeIt(fn);
    if (h !== N) throw new Error(`hits ${h}`);
    return { wall: N / (timing.wallNs / 1e9), cpu: N / (timing.cpuNs / 1e9) };
  };
  const contenders = [
    { name: 'Map.get (baseline)', run: timed(() => gMap(map, lookups)) },
    { name: 'current EntryState, now fixed (≈ ClusterCache.get, ManualClock)', run: timed(() => gCurrentFixed(current, lookups, now)) },
    { name: 'current EntryState, Date.now() per get (systemClock before fe3c63c)', run: timed(() => gCurrentDateNow(current, lookups, dateNowClock)) },
    { name: 'P1: current EntryState + systemClock read once per turn (fe3c63c)', run: timed(() => gCurrentCoarse(current, lookups, coarse)) },
    { name: 'P2: lean entry (Smi expiry seconds) + per-turn clock', run: timed(() => gLeanCoarse(lean, lookups, coarse)) },
    { name: 'P3: struct-of-arrays (Map → slot, Int32Array expiry) + per-turn clock', run: timed(() => gSoaCoarse(soa, lookups, coarse)) },
    { name: 'P4: struct-of-arrays, value kept as JSON string, JSON.parse per get', run: timed(() => gSoaJson(soaJson, lookups, coarse)) },
    { name: "P5: live Map<key, value> + 'expiring soon' Set (2k keys) + per-turn clock", run: timed(() => gSplitCoarse(split, lookups, coarse)) },
  ];
  const res = await interleaved<{ wall: number; cpu: number }>(contenders, RUNS);
  const baseRuns = res.get(contenders[0].name)!;
  const base = median(baseRuns.map((r) => r.wall));
  const baseCpu = median(baseRuns.map((r) => r.cpu));
  out(`### Prototype get paths, ${N.toLocaleString('en')} entries, random order (same keys as store.bench.ts), one process`);
  out();
  out(
    table(
      ['layout', 'median ops/s', 'ns/op', 'ratio vs Map.get (wall)', 'ratio (CPU time)', 'paired ratio (median of per-round ratios)', 'runs (wall)'],
      [...res].map(([name, rs]) => {
        const w = median(rs.map((r) => r.wall));
        return [
          name,
          fmtOps(w),
          (1e9 / w).toFixed(0),
          fmtRatio(w / base),
          fmtRatio(median(rs.map((r) => r.cpu)) / baseCpu),
          fmtRatio(median(rs.map((r, i) => r.wall / baseRuns[i].wall))),
          rs.map((r) => fmtOps(r.wall)).join(' · '),
        ];
      }),
    ),
  );
  out();
}

// ------------------------------------------------------------------------------------
// 2. memory
// ------------------------------------------------------------------------------------

interface MemLayout {
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
function indexMemLayouts(): MemLayout[] {
  const PER_USER = 2;
  const each = (n: number, f: (uid: string, handle: string, createdAt: number) => void) => {
    const rand = prng(31);
    const users: string[] = [];
    const nu = Math.round(n / PER_USER);
    for (let u = 0; u < nu; u++) users.push(flat(`user-${String(u).padStart(10, '0')}`));
    for (let i = 0; i < n; i++) f(users[i % nu], token(rand, 43), CREATED_AT + i);
  };
  return [
    {
      name: 'handles only (43 B strings; shared with the record key in SessionCache)',
      build: (n) => {
        const a: string[] = [];
        each(n, (_u, h) => a.push(h));
        return a;
      },
    },
    {
      name: "I1 current index entry: frozen key array + EntryState + encoded-key Map + trie leaf + ExpiryIndex",
      build: (n) => {
        const handles: string[] = [];
        const arrays = new Map<string, EntryState>();
        const root = new KeyIndex();
        const expiry = new ExpiryIndex();
        each(n, (uid, handle, createdAt) => {
          handles.push(handle);
          const now = Date.now();
          const key = Object.freeze(['user', uid, handle]);
          const s = currentState(key, createdAt, now + TTL, nextVersion(now));
          arrays.set(JSON.stringify(key), s);
          root.set(key, s);
          expiry.add(s);
        });
        return [handles, arrays, root, expiry];
      },
    },
    {
      name: 'I2 = I1 without the encoded-key Map (trie answers exact lookups too)',
      build: (n) => {
        const handles: string[] = [];
        const root = new KeyIndex();
        const expiry = new ExpiryIndex();
        each(n, (uid, handle, createdAt) => {
          handles.push(handle);
          const now = Date.now();
          const key = Object.freeze(['user', uid, handle]);
          const s = currentState(key, createdAt, now + TTL, nextVersion(now));
          root.set(key, s);
          expiry.add(s);
        });
        return [handles, root, expiry];
      },
    },
    {
      name: 'I3 derived local index Map<userId, Set<handle>> (no index entries)',
      build: (n) => {
        const handles: string[] = [];
        const byUser = new Map<string, Set<string>>();
        each(n, (uid, handle) => {
          handles.push(handle);
          let set = byUser.get(uid);
          if (set === undefined) byUser.set(uid, (set = new Set()));
          set.add(handle);
        });
        return [handles, byUser];
      },
    },
    {
      name: 'I3b derived local index Map<userId, handle or handle[]> (array for 2+)',
      build: (n) => {
        const handles: string[] = [];
        const byUser = new Map<string, string | string[]>();
        each(n, (uid, handle) => {
          handles.push(handle);
          const cur = byUser.get(uid);
          if (cur === undefined) byUser.set(uid, handle);
          else if (typeof cur === 'string') byUser.set(uid, [cur, handle]);
          else cur.push(handle);
        });
        return [handles, byUser];
      },
    },
  ];
}

async function measure(layouts: MemLayout[], n: number, title: string, unit: string): Promise<void> {
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

async function sectionMem(): Promise<void> {
  await measure(sessionMemLayouts(), N, `### Prototype layouts: heap per entry, ${N.toLocaleString('en')} entries (44 B key, ~204 B-JSON value)`, 'entry');
}
async function sectionIndex(): Promise<void> {
  await measure(indexMemLayouts(), N / 2, `### Per-user session index: heap per session, ${(N / 2).toLocaleString('en')} sessions, 2 per user`, 'session');
}

// ------------------------------------------------------------------------------------
// 3. put: the copy
// ------------------------------------------------------------------------------------

async function sectionPut(): Promise<void> {
  const values = sessionValues(N_PUT, 12);
  const meta = (() => {
    const r = prng(5);
    return Array.from({ length: N_PUT }, (_, i) => ({ userId: 'user-000000001', metadata: sessionMetadata(i, r), createdAt: CREATED_AT }));
  })();
  let sink: unknown;
  const rate = (f: () => void) => () => {
    const t0 = nowNs();
    f();
    return N_PUT / ((nowNs() - t0) / 1e9);
  };
  const contenders = [
    { name: 'frozenCopy(v) — the library\'s copy (since a49bb07)', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = frozenCopy(values[i]); }) },
    { name: 'deepFreeze(structuredClone(v)) — the copy before a49bb07', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = deepFreeze(structuredClone(values[i])); }) },
    { name: 'deepFreeze(JSON.parse(JSON.stringify(v))) — exact layout, JSON-safe data only', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = jsonCopy(values[i]); }) },
    { name: 'shapeCopy(v) — compiled literal per shape, exact layout, frozen', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = shapeCopy(values[i]); }) },
    { name: 'frozenCopy, nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = frozenCopy(meta[i]); }) },
    { name: 'deepFreeze(structuredClone(v)), nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = deepFreeze(structuredClone(meta[i])); }) },
    { name: 'deepFreeze(JSON round trip), nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = jsonCopy(meta[i]); }) },
    { name: 'shapeCopy, nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = shapeCopy(meta[i]); }) },
  ];
  const res = await interleaved<number>(contenders, RUNS, 1, () => fullGc());
  void sink;
  const base = median(res.get(contenders[0].name)!);
  out(`### Prototype value copies (the per-put copy), ${N_PUT.toLocaleString('en')} values per run`);
  out();
  out(table(['copy', 'median copies/s', 'µs/copy', 'ratio vs frozenCopy', 'runs'], [...res].map(([name, xs]) => [name, fmtOps(median(xs)), (1e6 / median(xs)).toFixed(2), fmtRatio(median(xs) / base), xs.map(fmtOps).join(' · ')])));
  out();
}

// ------------------------------------------------------------------------------------

const SECTIONS: Record<string, () => Promise<void>> = { get: sectionGet, mem: sectionMem, index: sectionIndex, put: sectionPut };
const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  SECTIONS[argv[1]]().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  out(`## Store layout prototypes — ${new Date().toISOString()}, Node ${process.version}`);
  out();
  for (const name of names) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', name], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`section ${name} failed`);
    log(`section ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
