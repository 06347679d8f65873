/**
 * A long run of 1M sessions under a touch and create/expire workload: the heap
 * must stay flat (issue 17, "New benchmark figures").
 *
 *   npm run bench:flat-heap                  (= node --expose-gc -r @swc-node/register bench/compact/flat-heap.ts)
 *   npm run bench:flat-heap -- --minutes 3   (a shorter run; default 10)
 *   npm run bench:flat-heap -- --quick       (50k sessions, a "minute" of 5 s: tries the harness, figures meaningless)
 *
 * One node (engine, SessionCache over its replicated table, the sweeper on)
 * holds N sessions (BENCH_N, default 1M) in N slots. It starts as a node that
 * joined: every slot's session merged from a peer as bytes. Then, at a steady
 * rate, a cursor walks the slots and replaces each slot's session with a new
 * one (even slots: `SessionCache.create` here; odd slots: merged from a peer as
 * bytes, as a peer's create arrives), so every session lives one turn of the
 * cursor (`--lifetime`, default 120 s) and expires, swept by the sweeper, as
 * its slot is reused. Meanwhile random sessions are touched (`--touches` per
 * second, default 10000; half `SessionCache.touch` here, half a peer's touch
 * merged as bytes), each renewed to its slot's end so the table stays at N.
 *
 * After a warm-up of one lifetime (every preloaded session replaced once; row 0),
 * every minute: heapUsed after a full GC, the slab's bytes (outside the heap),
 * RSS and the entries, printed as a table row on stdout. The figures (family
 * "flat-heap", bench/util/results.ts): heapUsed per minute beside minute 1, and
 * the drift of the last minute against the first (heap, heap + slabs, RSS,
 * entries).
 */
import { SessionCache } from '../../libs/cluster-cache/src/sessions/session-cache';
import { LocalSessionLock } from '../../libs/cluster-cache/src/sessions/session-lock.interface';
import { versionAt } from '../../libs/cluster-cache/src/store/hlc';
import { EncodedValue } from '../../libs/cluster-cache/src/values/encoded-value';
import { encodeValue } from '../../libs/cluster-cache/src/values/value-codec';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { flat, fullGc, log, nowNs, prng, table } from '../util/harness';
import { type Figure, versus, writeResults } from '../util/results';
import { CREATED_AT, sessionMetadata, token } from '../util/session-data';
import { node, out } from './setup';

// ---------- options ----------

const args = process.argv.slice(2);
/** `--name value` or `--name=value`. */
function arg(name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}
function positive(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}

const QUICK = args.includes('--quick');
const N = Number(process.env.BENCH_N ?? (QUICK ? 50_000 : 1_000_000));
const MINUTES = Math.round(positive('minutes', QUICK ? 3 : 10));
/** Length of one "minute" between two samples (60 s; 5 s with --quick). */
const SAMPLE_MS = QUICK ? 5_000 : 60_000;
/** One turn of the cursor: every session's life, in seconds. */
const LIFETIME_S = positive('lifetime', QUICK ? 10 : 120);
const TOUCHES_PER_S = positive('touches', QUICK ? 2_000 : 10_000);
const CREATES_PER_S = N / LIFETIME_S;
const TICK_MS = 50;
const PEER = 'b@127.0.0.1';
const NS = 'cache';

// ---------- the node and its slots ----------

const { engine, cache } = node();
const table_ = engine.store.table('sessions')!;
const sessions = new SessionCache(cache, new LocalSessionLock(), LIFETIME_S * 1000);
/** The token of each slot's current session. */
const tokens = new Array<string>(N);
const rand = prng(31);
const users = Math.max(1, N >> 1);
let peerCounter = 0;

const userOf = (slot: number) => flat(`user-${String(slot % users).padStart(10, '0')}`);

/** A session record from a peer, its value as bytes (what a join chunk or a peer write carries). */
function peerState(handle: string, value: unknown, expiresAt: number): EntryState {
  const bytes = encodeValue(value);
  // Above any version this node made in the same millisecond, so a peer's touch wins over an earlier local one.
  const version = versionAt(Date.now()) + 2048 + (peerCounter++ % 2048);
  return { ns: NS, key: handle, value: new EncodedValue(bytes, 0, bytes.length), expiresAt, version, seen: 0, origin: PEER };
}

/** The record a slot's session holds (SessionCache's stored shape). */
const recordOf = (slot: number, createdAt: number) => ({ userId: userOf(slot), metadata: sessionMetadata(slot, rand), createdAt });

// ---------- the cursor: replacement number p (slot p mod N) is due at T0 + (p + 1) / rate ----------

let T0 = 0;
/** When the cursor next replaces `slot`, counting from replacement number `from` (ms since the epoch). */
function slotEnd(slot: number, from: number): number {
  const ahead = (slot - (from % N) + N) % N;
  return T0 + ((from + ahead + 1) / CREATES_PER_S) * 1000;
}

async function preload(): Promise<void> {
  const start = nowNs();
  const graceMs = Math.max(2_000, (N / 50_000) * 1000);
  T0 = Date.now() + graceMs;
  for (let i = 0; i < N; i += 1000) {
    const chunk: EntryState[] = [];
    for (let slot = i; slot < Math.min(N, i + 1000); slot++) {
      tokens[slot] = token(rand, 43);
      chunk.push(peerState(SessionCache.handleOf(tokens[slot]), recordOf(slot, CREATED_AT + slot), slotEnd(slot, 0)));
    }
    engine.merge(table_, chunk);
    await new Promise<void>((r) => setImmediate(r));
  }
  log(`preload: ${N} sessions merged as bytes in ${((nowNs() - start) / 1e9).toFixed(1)} s`);
  if (Date.now() > T0) log(`preload overran its grace of ${graceMs} ms: the first slots are replaced late`);
  while (Date.now() < T0) await new Promise<void>((r) => setTimeout(r, Math.min(100, T0 - Date.now())));
}

// ---------- the workload ----------

const done = { creates: 0, localCreates: 0, peerCreates: 0, touchesIssued: 0, localTouches: 0, peerTouches: 0, touchMisses: 0, touchSkipped: 0 };

async function replace(slot: number, creates: number): Promise<void> {
  const end = slotEnd(slot, creates + 1);
  if (slot % 2 === 0) {
    const { token: t } = await sessions.create(userOf(slot), sessionMetadata(slot, rand), { ttl: Math.max(1, end - Date.now()) });
    tokens[slot] = t;
    done.localCreates++;
  } else {
    tokens[slot] = token(rand, 43);
    engine.merge(table_, [peerState(SessionCache.handleOf(tokens[slot]), recordOf(slot, Date.now()), end)]);
    done.peerCreates++;
  }
}

async function touch(slot: number, i: number): Promise<void> {
  const end = slotEnd(slot, done.creates);
  if (end - Date.now() < 1000) return void done.touchSkipped++; // about to be replaced
  if (i % 2 === 0) {
    if ((await sessions.touch(tokens[slot], { ttl: end - Date.now() })) === undefined) return void done.touchMisses++;
    done.localTouches++;
  } else {
    const session = sessions.get(tokens[slot]);
    if (session === undefined) return void done.touchMisses++;
    engine.merge(table_, [peerState(session.handle, { userId: session.userId, metadata: session.metadata, createdAt: session.createdAt }, end)]);
    done.peerTouches++;
  }
}

/** Runs the workload until `until` (ms since the epoch), catching up on the rates after a pause. */
async function runUntil(until: number): Promise<void> {
  while (Date.now() < until) {
    const elapsedS = (Date.now() - T0) / 1000;
    const pending: Array<Promise<void>> = [];
    const dueCreates = Math.floor(elapsedS * CREATES_PER_S);
    while (done.creates < dueCreates) {
      pending.push(replace(done.creates % N, done.creates));
      done.creates++;
    }
    const dueTouches = Math.floor(elapsedS * TOUCHES_PER_S);
    for (; done.touchesIssued < dueTouches; done.touchesIssued++) pending.push(touch(Math.floor(rand() * N), done.touchesIssued));
    await Promise.all(pending);
    await new Promise<void>((r) => setTimeout(r, TICK_MS));
  }
}

// ---------- samples ----------

interface Sample {
  minute: number;
  /** MiB, after a full GC. */
  heapUsed: number;
  slabs: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  entries: number;
  expiryIndex: number;
  gcMs: number;
  creates: number;
  touches: number;
}

const MiB = 2 ** 20;
function sample(minute: number): Sample {
  const t = nowNs();
  fullGc();
  const gcMs = (nowNs() - t) / 1e6;
  const m = process.memoryUsage();
  return {
    minute,
    heapUsed: m.heapUsed / MiB,
    slabs: table_.slabBytes / MiB,
    rss: m.rss / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
    entries: table_.size,
    expiryIndex: table_.listedForExpiry,
    gcMs,
    creates: done.creates,
    touches: done.localTouches + done.peerTouches,
  };
}

const HEAD = ['minute', 'heapUsed (after GC)', 'slabs', 'heap + slabs', 'RSS', 'entries', 'expiry index', 'creates', 'touches', 'GC'];
const cells = (s: Sample) => [
  String(s.minute),
  `${s.heapUsed.toFixed(1)} MiB`,
  `${s.slabs.toFixed(1)} MiB`,
  `${(s.heapUsed + s.slabs).toFixed(1)} MiB`,
  `${s.rss.toFixed(0)} MiB`,
  s.entries.toLocaleString('en'),
  s.expiryIndex.toLocaleString('en'),
  s.creates.toLocaleString('en'),
  s.touches.toLocaleString('en'),
  `${s.gcMs.toFixed(0)} ms`,
];

function figuresOf(samples: Sample[]): Figure[] {
  const first = samples[1];
  const last = samples[samples.length - 1];
  const unit = QUICK ? '5 s sample' : 'minute';
  const figures: Figure[] = samples.slice(1).map((s) =>
    versus({
      id: `heap-minute-${s.minute}`,
      label: `heapUsed after a full GC, ${unit} ${s.minute}`,
      ours: s.heapUsed,
      unit: 'MiB',
      anchor: { label: `${unit} 1`, value: first.heapUsed, unit: 'MiB' },
    }),
  );
  const drift = `${unit} ${last.minute} against ${unit} 1`;
  figures.push(
    versus({ id: 'drift-heap', label: `heapUsed drift, ${drift}`, ours: last.heapUsed, unit: 'MiB', anchor: { label: `${unit} 1`, value: first.heapUsed, unit: 'MiB' }, target: '≤ 1.05× the first' }, { atMost: 1.05 }),
    versus(
      { id: 'drift-heap-slabs', label: `heapUsed + slab bytes drift, ${drift}`, ours: last.heapUsed + last.slabs, unit: 'MiB', anchor: { label: `${unit} 1`, value: first.heapUsed + first.slabs, unit: 'MiB' }, target: '≤ 1.05× the first' },
      { atMost: 1.05 },
    ),
    versus({ id: 'drift-rss', label: `RSS drift, ${drift}`, ours: last.rss, unit: 'MiB', anchor: { label: `${unit} 1`, value: first.rss, unit: 'MiB' } }),
    versus({ id: 'drift-entries', label: `entries held, ${drift} (expired ones not yet swept included)`, ours: last.entries, unit: 'entries', anchor: { label: `${unit} 1`, value: first.entries, unit: 'entries' } }),
  );
  return figures;
}

async function main(): Promise<void> {
  log(`flat heap: ${N} sessions, ${MINUTES} × ${SAMPLE_MS / 1000} s, lifetime ${LIFETIME_S} s (${CREATES_PER_S.toFixed(0)} creates/s), ${TOUCHES_PER_S} touches/s`);
  fullGc();
  const base = process.memoryUsage();
  await preload();
  engine.start();
  // One turn of the cursor first: every preloaded session replaced once, the table in its steady mix (row 0).
  log(`warm-up: one lifetime (${LIFETIME_S} s)`);
  await runUntil(T0 + LIFETIME_S * 1000);
  const samples: Sample[] = [sample(0)];
  out(`## Flat heap: ${N.toLocaleString('en')} sessions, touch and create/expire — ${new Date().toISOString()}`);
  out();
  out(`Lifetime ${LIFETIME_S} s (${CREATES_PER_S.toFixed(0)} creates/s: half \`SessionCache.create\`, half merged from a peer as bytes), ${TOUCHES_PER_S} touches/s (half local, half from a peer). Process before the preload: heapUsed ${(base.heapUsed / MiB).toFixed(1)} MiB, RSS ${(base.rss / MiB).toFixed(0)} MiB.`);
  out();
  out(table(HEAD, [cells(samples[0])]));
  const started = Date.now();
  for (let minute = 1; minute <= MINUTES; minute++) {
    await runUntil(started + minute * SAMPLE_MS);
    const s = sample(minute);
    samples.push(s);
    out(`| ${cells(s).join(' | ')} |`);
    log(`minute ${minute}: heapUsed ${s.heapUsed.toFixed(1)} MiB, slabs ${s.slabs.toFixed(1)} MiB, RSS ${s.rss.toFixed(0)} MiB, entries ${s.entries}`);
  }
  engine.stop();
  const seconds = (Date.now() - started) / 1000;
  const last = samples[samples.length - 1];
  const rates = { createsPerS: (last.creates - samples[0].creates) / seconds, touchesPerS: (last.touches - samples[0].touches) / seconds };
  out();
  out(`Achieved ${rates.createsPerS.toFixed(0)} creates/s and ${rates.touchesPerS.toFixed(0)} touches/s over the ${seconds.toFixed(0)} s sampled; over the whole run, ${done.touchMisses} touches found no session, ${done.touchSkipped} were skipped in their slot's last second.`);
  const figures = figuresOf(samples);
  out();
  out(table(['figure', 'value', 'anchor', 'ratio'], figures.map((f) => [f.label, `${f.ours.toFixed(1)} ${f.unit}`, f.anchor ? `${f.anchor.value.toFixed(1)} (${f.anchor.label})` : '', f.ratio?.toFixed(3) ?? ''])));
  writeResults('flat-heap', figures, { sizes: { n: N, minutes: MINUTES, sampleMs: SAMPLE_MS, lifetimeS: LIFETIME_S, createsPerS: CREATES_PER_S, touchesPerS: TOUCHES_PER_S }, samples, done, rates, baseline: { heapUsed: base.heapUsed / MiB, rss: base.rss / MiB } });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
