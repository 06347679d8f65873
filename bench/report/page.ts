/**
 * docs/performance.md from the latest results file of each family: per family a
 * table of its figures beside their anchors, where and when it ran, the command
 * that reruns it, its charts, and short notes where a figure needs one. Every
 * number on the page comes from a results file (test/docs/performance-report.e2e-spec.ts).
 */
import type { Family, Figure, RunRecord } from '../util/results';
import { FAMILIES } from '../util/results';
import type { ChartSpec } from './charts';
import { fmtCpu, fmtRatio, fmtValue } from './format';
import type { LoadedRun } from './results-files';

interface FamilyText {
  title: string;
  /** What the family measures, in one or two sentences. */
  what: string;
  /** The npm script, for a run with the default sizes. */
  script: string;
  /** Short notes a user needs to read the figures; shown under the table. */
  notes: string[];
  /** Why a figure misses its target, by a pattern its id starts with; shown only when the latest run missed it. Numbers in it come from the run. */
  whenMissed?: Record<string, string | ((figures: Figure[]) => string)>;
}

const TEXT: Record<Family, FamilyText> = {
  store: {
    title: 'Store: get, put, all() and memory in one process',
    what: 'The local read and write paths of one node against a plain `Map` holding the same 1M keys and values, in the same process, rounds interleaved.',
    script: 'npm run bench:store',
    notes: [
      'CPU per op is the process CPU time per operation; on this shared machine it is steadier than the rate.',
      'Heap per session is `heapUsed` after a full GC, divided by the sessions built (44 B key, 8-field value of about 204 B as JSON).',
    ],
    whenMissed: {
      'mem:': (figures) =>
        `The floor: a raw \`Map\` holding the same key and value objects already takes ${fmtValue(figures.find((f) => f.id.startsWith('mem:'))?.anchor?.value, 'B')} per session in this run, so ≤ 350 B cannot be met with live objects. Entries that were not read yet on a node are held as bytes instead, and decoded once at their first read: see [Compact entries](#compact-entries-sessions-at-rest).`,
      'get:': 'At 1M entries a `Map.get` is mostly memory latency, and a loaded machine moves this ratio from run to run (see the rounds in the results file).',
      'all:p99': 'The p99 of a 10k-query run catches GC pauses and other processes on the shared machine; the median is the steady cost.',
    },
  },
  compact: {
    title: 'Compact entries: sessions at rest',
    what: 'Sessions held as bytes until first read (merged from a peer, loaded from disk) against a raw `Map` of the same sessions, in the same process: heap per session at rest, reads and the first read of an entry at rest; a restart\'s load against Mnesia loading the same sessions from `disc_copies`; and, from the replication bench run as part of the same command, the join copy, async writes applied and 100 sync puts in flight.',
    script: 'npm run bench:compact',
    notes: [
      'The ratio of a speed row (`get`) is the anchor\'s CPU per op over ours (above 1: faster than `Map.get`); of every other row, ours over the anchor.',
      'The sweep before the compaction runs as the periodic one does, 5 ms per event-loop turn. Its last slices tidy the resting index: once the keys left fill less than an eighth of its slots, they are copied into new slots a quarter full, a slice at a time while the old ones serve (in one go, 600k keys gone of 1M, that held the event loop for 12–90 ms, most of it page faults of the new slots).',
    ],
    whenMissed: {
      'heap-at-rest': 'An entry at rest is its record in a slab (a 40 B header, the key\'s bytes and the value\'s MessagePack bytes: about 240 B for these sessions) and a slot of the resting index (two int32 at a load of at most a half: 16–32 B); nothing of it is on the V8 heap. A SessionCache adds its per-user index: a hash of each resting session under a hash of its user, about 30 B per session.',
      'heap-read-once': 'A read entry is what a `put` makes: a state object in the namespace\'s `Map`, its value decoded into objects sized as `JSON.parse` sizes them, its record dropped. This row and its anchor differ by the spare room of the expiry index\'s arrays, a byte or two per entry.',
      'first-get': 'A first read finds the record through the resting index (a hash of the key, then a slot and the record to compare: two cold cache misses at 1M entries, p50 ≈ 0.7–0.85 µs), decodes the value (≈ 0.75 µs for an 8-field session whose bytes are not in cache, 0.62 µs when they are, where `JSON.parse` of the same session takes 0.53 µs) and files the live object in the namespace\'s `Map` and the expiry index (≈ 0.9 µs at 1M entries). Each of the three is a floor of its own: the record must be found and compared, the value decoded, and the object kept for later reads. This row is timed right after the build, in a process that also holds the anchor\'s `Map` of the same sessions; in a process that holds the cache alone, the same reads took 2.4–2.7 µs at p50 (a prototype), and a full GC first does not bring this process there (the next row).',
      // 1M records: the load's seconds are its µs per record.
      'restart-load': (figures) =>
        `A restart checks the data file's pages (≈ 0.25 s: every page of every tree, read in file order in 256 KiB spans, so that a damaged file cannot crash the process), then reads every record through an lmdb cursor (≈ 0.9 µs each), verifies its checksum (0.22 µs), decodes its header (0.5 µs) and files it at rest (≈ 0.5 µs, plus a page fault per 4 KiB of new slab: ≈ 10 µs each on this VM, 0.7 µs per record); the GC of the records in flight (handed over a thousand at a time) adds ≈ 0.3 µs. Those parts come to ≈ 3.4 µs a record, and a second load in a warm process, into memory the first one gave back, takes 3.8 µs; this run's ${fmtValue(figures.find((f) => f.id === 'restart-load')?.ours, 'µs')} a record include the machine's other load (its rounds are in the results file, each beside Mnesia's). Mnesia reads one table file of Erlang terms into ETS; the cursor, the checksums and the page faults alone take about half its time per record here.`,
      'compaction-pause': 'A compaction slice stops after 2 ms of moving records (the p50 shows it). The longer ones hold a V8 scavenge: each new 4 MiB chunk the moved records go to is external memory, and once 32 MiB of young array buffers add up V8 answers the next one with a scavenge inside the slice, as long as the young generation it copies (`--trace-gc`: "external memory pressure"). The p99 of a few hundred slices is whichever of them lands on one, or on the OS running another process.',
      'join-same-data': 'The joiner files each copied session at rest without decoding it and without a JS object per entry; the values arrive as views of the decrypted frame, copied once, into the slab. Its CPU per session (≈ 3 µs, from a profile): the frame decrypted and decoded (≈ 0.6 µs), a lookup of the key (0.4 µs), the record written (≈ 0.45 µs) and the value\'s bytes copied into it (≈ 0.4 µs), both with a page fault per 4 KiB of new slab (≈ 10 µs each on this VM), the index, its growth and the expiry list (≈ 0.35 µs), the GC; the seed encodes each of its live values for the copy meanwhile. Mnesia inserts the terms into ETS.',
      'async-applied': 'The writer is the bound: the peer files each write at rest (the value\'s bytes into the slab, a slot, an expiry reference) and keeps up with the writer\'s puts, idle part of the time. A `put` costs the writer ≈ 4.3 µs of CPU before the GC (from a profile): the value copied and frozen (1.0 µs), a `Map` lookup of the new key (1.0 µs, cold cache lines at a million entries), the value encoded for the peers (0.85 µs), the `Map` insert and expiry slot (0.5 µs), the batch framed and sealed (≈ 0.5 µs). 400k/s on two shared vCPUs leaves each process 2.5 µs per write (the replication section below gives the CPU a write took in the same run, and the most two vCPUs allow at that cost). A put that kept its own value at rest too (a type check instead of the copy, the bytes encoded once for the peers and the slab, no `Map` entry until read) cost more in a prototype, alone in one process: 3.5–4.8 µs per put against 2.1–3.6 µs for today\'s put, the slab\'s fresh pages and the resting index\'s inserts outweighing the copy and the `Map` insert it saves.',
      'sync-put-100-in-flight': 'Both processes are CPU-bound on the two shared vCPUs, and each write is a sealed frame (ChaCha20-Poly1305) applied and acknowledged by the peer, where a Redis SET is one unauthenticated command to a server written in C. The replication section below gives the CPU a write took in the same run, and the most two vCPUs allow at that cost.',
    },
  },
  'flat-heap': {
    title: 'Flat heap: 1M sessions under a touch and create/expire workload',
    what: 'One node holding 1M sessions (at start, as a node that joined: every session merged as bytes) while a cursor replaces every session once per lifetime (half `SessionCache.create`, half a peer\'s create merged as bytes), the old ones expiring and swept, and random sessions are touched (half locally, half a peer\'s touch). After a warm-up of one lifetime, heapUsed after a full GC, the slab bytes, RSS and the entries are sampled every minute; the anchor of each sample is minute 1 of the same run.',
    script: 'npm run bench:flat-heap',
    notes: [
      'Slab bytes are the `ArrayBuffer`s holding sessions at rest (outside `heapUsed`); heap + slabs is what the store holds. RSS never gives memory back to the OS quickly, so it is context, not a target.',
      'What keeps it flat: an overwrite counts a stale listing in its old second of the expiry index, and a sweep filters a second once a quarter of it is stale, so overwritten states and their values are let go of second by second; the slab compacts the chunks at least half garbage once they hold a quarter of it, so slab bytes stay within about a third above what counts.',
      'The per-minute table and the rates reached are in the results file (`raw.samples`, `raw.rates`).',
    ],
    whenMissed: {
      'drift-heap': 'Two cycles move a sample: overwritten states stay listed in the expiry index (with their values) until a sweep filters their second, which it does once a quarter of that second\'s listings is stale; and the slab\'s garbage grows until the chunks at least half garbage hold a quarter of the slab, then a compaction frees them. Where a sample falls in those cycles decides this ratio; the per-minute samples in the results file show whether anything climbs.',
    },
  },
  replication: {
    title: 'Replication: sync writes, writes in flight, async throughput, idle lag',
    what: 'Two nodes, each the library booted with `ClusterCacheModule.forRoot` in its own process on loopback TCP, against a raw TCP ping-pong, Redis through ioredis and Mnesia on two Erlang nodes, measured in the same run.',
    script: 'npm run bench:replication',
    notes: [
      'Every request/response figure on 2 shared vCPUs is bimodal: a round trip is several times faster when both ends happen to share a vCPU than when they do not, so the anchor of the same run, not an absolute number, is what each figure is read against.',
      'CPU per op adds both processes of each side (writer + peer, pinger + echo server, client + redis-server).',
    ],
    whenMissed: {
      'sync-put-p50': 'A sync write is one round trip plus encoding and applying on both sides; at the 1.5× line, a run on a slower or busier moment of the machine crosses it.',
      'sync-put-100-in-flight': (figures) => `Both processes are CPU-bound on the two shared vCPUs: ${cpuBound(figures, 'sync-put-100-in-flight')}; the ratio follows how much CPU other processes take during the run.`,
      'async-applied': (figures) => `The CPU is the bound: ${cpuBound(figures, 'async-applied')}; the rounds in the results file show how far the machine\'s load moves it.`,
      'idle-lag': 'The p99 of idle lag is one cross-vCPU wake-up when the machine is quiet; other processes waking on the same vCPUs push it past 200 µs, and Mnesia\'s lag moves with it.',
    },
  },
  fanout: {
    title: 'Fan-out: 3- and 5-node clusters against 2 nodes',
    what: 'Clusters of 2, 3 and 5 nodes, each node the library booted with `ClusterCacheModule.forRoot` in its own process on loopback TCP, all clusters up at once and their rounds interleaved: the sync put p50 of one writer (every other node applies the write before it resolves), and async writes until every peer has applied them. Each 3- and 5-node figure is read against the 2-node figure of the same run; the per-extra-node rows divide the difference by the nodes added.',
    script: 'npm run bench:replication -- --only=7',
    notes: [
      'Every node of the three clusters shares the 2 vCPUs: a 5-node cluster does five processes\' work on two cores, so the extra cost per node here is CPU as much as network. CPU per op adds every process of the cluster.',
    ],
  },
  join: {
    title: 'Join: a fresh node copies 1M sessions',
    what: 'A new node joins a seed holding 1M sessions and is ready when it holds every entry, against Mnesia `add_table_copy(ram_copies)` of 1M records between two Erlang nodes in the same run.',
    script: 'npm run bench:replication -- --only=5,6',
    notes: ['The seed heap figure is `heapUsed` of the whole seed process (Nest app included, no forced GC) divided by its sessions; Mnesia\'s is the table\'s ETS memory per record, with the same sessions stored as maps.'],
    whenMissed: {
      join: 'The joiner inserting 1M live objects into a `Map` on the V8 heap takes about as long as Mnesia\'s whole copy; reaching 1× needs the table off the V8 heap, which would break the get ≥ 0.8× `Map.get` target.',
    },
  },
  heal: {
    title: 'Heal: merging two sides after a netsplit',
    what: 'Two nodes in their own processes with `unsplit: { strategy: \'merge\' }`, a real partition (nftables), divergent writes on both sides, then the heal: from the split being detected to both nodes healed. Needs root and nftables.',
    script: 'npm run bench:unsplit',
    notes: ['The target is absolute (1 s for 100k divergent keys); the ratio is to the target. The heal runs on both nodes at once, so it needs both vCPUs: other processes on the machine slow it directly.'],
    whenMissed: {
      'heal:': 'The heal exchanges bucket digests, then the differing keys\' summaries, then the states, on both nodes at once; with other processes holding a vCPU it stretches in proportion.',
    },
  },
  http: {
    title: 'HTTP: the demo under load',
    what: 'autocannon against the demo app (two Nest nodes behind the round-robin balancer of `npm run demo`), signed in with a real session cookie; the guard\'s cost is GET /me (guarded) against GET /ping (unguarded) on one node pinned to its own vCPU.',
    script: 'npm run bench:http',
    notes: ['Load generator, balancer and both nodes share the 2 vCPUs: no figure here is a dedicated-server number. CPU per op is node a\'s CPU time per request.'],
    whenMissed: {
      'guard-me-vs-ping': 'GET /me answers a larger body than /ping and runs Nest\'s guard plumbing; the session lookup itself is a small part of the node\'s CPU. One run moves by several percent on this machine, as the rounds in the results file show.',
    },
  },
  backends: {
    title: 'Backends: mesh, Redis and Redis Cluster',
    what: 'The same `CacheStore` / `SessionStore` calls on the three backends, each booted with `ClusterCacheModule.forRoot`, against raw ioredis on the same bytes and keys (target: ≥ 0.9× the better raw client) and, for the mesh, against `Map.get`.',
    script: 'npm run bench:backends',
    notes: ['On Redis, each library row is compared with the better of two raw clients (with and without auto-pipelining) in the same rounds; the ratio is the median of the rounds\' own ratios.'],
    whenMissed: {
      '(redis|cluster):(get|session)': 'A raw `GET` hands back bytes; the library also hashes the session token, decodes and freezes the value and leaves that garbage to the GC, on the same 2 vCPUs as the clients and the servers. Handing out bytes instead of values would close the rest of the gap.',
      '(redis|cluster):put': 'A put keeps the namespace\'s key and expiry indexes in the same atomic script as the value (what makes batches atomic and `all()` exact without a keyspace scan); that script costs the server several times a plain `SET`, which bounds puts with 100 in flight.',
    },
  },
  auth: {
    title: 'Auth kit against express-session + connect-redis',
    what: 'The same Nest app with the library\'s `SessionAuthGuard` on a two-node mesh, and with express-session on two nodes sharing one redis-server, each pair also behind its own balancer; windows interleaved per round.',
    script: 'npm run bench:auth',
    notes: ['The ratio is the median of the rounds\' own ratios (adjacent windows share the machine\'s load), so it can differ from ours ÷ anchor of the medians. CPU per op is node a\'s CPU time per request.'],
    whenMissed: {
      'guard-vs-unguarded': (figures) =>
        `A guard that only returns true, with a parameter decorator that returns a constant, serves ${fmtRatio(figures.find((f) => f.id === 'nest-guard-floor')?.ratio)} of the unguarded endpoint in the same run: that is Nest's guard and custom-parameter plumbing, the floor of any guard. The kit's guard itself costs about 0.5 µs per request (\`node -r @swc-node/register bench/http/guard-parts.bench.ts\`); one run moves by several percent on this machine, as the rounds in the results file show.`,
      'kit-create': 'A sign-in on the mesh is a sync write: it waits for the other node to apply it before answering, while connect-redis answers after one Redis SET.',
      'kit-lb-me': 'Behind the balancer, the balancer and both nodes share the 2 vCPUs with the load generator, which caps both sides alike.',
    },
  },
};

/** What two vCPUs allow at the CPU a write of a throughput figure took in its processes together: that figure's bound on this machine. */
function cpuBound(figures: Figure[], id: string): string {
  const f = figures.find((x) => x.id === id);
  const cpu = f?.cpuUsPerOp?.ours;
  if (cpu === undefined) return 'its CPU per write was not recorded';
  const most = 2e6 / cpu;
  const anchor = f?.anchor === undefined ? '' : ` (${fmtRatio(most / f.anchor.value)} its anchor)`;
  return `a write took ${fmtCpu(cpu)} of CPU in the two processes together, so two vCPUs allow at most ${fmtValue(most, 'ops/s')}${anchor} with nothing else running`;
}

const yesNo = (met: boolean | undefined) => (met === undefined ? '' : met ? 'yes' : '**no**');

function row(f: Figure): string[] {
  const cpu = f.cpuUsPerOp === undefined ? '' : `${fmtCpu(f.cpuUsPerOp.ours)}${f.cpuUsPerOp.anchor !== undefined ? ` / ${fmtCpu(f.cpuUsPerOp.anchor)}` : ''}`;
  return [
    f.label,
    `**${fmtValue(f.ours, f.unit)}**`,
    f.anchor === undefined ? '' : `${fmtValue(f.anchor.value, f.anchor.unit)} (${f.anchor.label})`,
    fmtRatio(f.ratio),
    cpu,
    f.target ?? '',
    yesNo(f.met),
  ].map((c) => c.replace(/\|/g, '\\|'));
}

function table(figures: Figure[]): string {
  const head = ['figure', 'this library', 'anchor, same run', 'ratio', 'CPU per op (ours / anchor)', 'target', 'met'];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...figures.map((f) => `| ${row(f).join(' | ')} |`)].join('\n');
}

function runFacts(file: string, r: RunRecord): string {
  const m = r.machine;
  return [
    `Run: ${r.date.replace('T', ' ').replace('Z', ' UTC')}, commit \`${r.commit.hash}\`${r.commit.dirty ? ' (with uncommitted changes)' : ''}; ${m.cores} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}, ${m.os}; load average ${m.load.start} at start, ${m.load.end} at end (${m.cores} vCPUs, shared with other jobs).`,
    `Results: [\`bench/results/${file}\`](../bench/results/${file}).`,
  ].join(' ');
}

function section(family: Family, run: LoadedRun | undefined, charts: ChartSpec[]): string {
  const t = TEXT[family];
  const out = [`## ${t.title}`, '', t.what, ''];
  if (run === undefined) {
    out.push(`No results yet. Run \`${t.script}\`, then \`npm run bench:report\`.`, '');
    return out.join('\n');
  }
  const r = run.record;
  out.push(table(r.figures), '');
  out.push(runFacts(run.file, r), '');
  out.push(`Rerun: \`${r.command}\`${r.command === t.script ? '' : ` (the default sizes: \`${t.script}\`)`}, then \`npm run bench:report\`.`, '');
  for (const c of charts) out.push(`![${c.chart.title}](img/${c.file})`, '');
  const missed = Object.entries(t.whenMissed ?? {})
    .filter(([pattern]) => r.figures.some((f) => new RegExp(`^(?:${pattern})`).test(f.id) && f.met === false))
    .map(([, why]) => (typeof why === 'string' ? why : why(r.figures)));
  for (const note of [...t.notes, ...missed]) out.push(`- ${note}`);
  out.push('');
  return out.join('\n');
}

export function renderPage(runs: Map<Family, LoadedRun>, charts: ChartSpec[]): string {
  const out = [
    '# Performance',
    '',
    '<!-- Generated by `npm run bench:report` from bench/results/; edit bench/report/ instead. -->',
    '',
    'Each figure below is the latest run of its benchmark, beside an anchor measured in the same run (a plain `Map`, a raw TCP ping-pong, Redis through ioredis, Mnesia on two Erlang nodes, express-session + connect-redis). Rounds are interleaved so that the machine\'s drift hits both alike; a figure is the median of its kept rounds after a discarded warm-up. The machine is a 2-vCPU VM shared with other jobs, so read each ratio against its own anchor rather than an absolute number. Raw per-round values are in the results file linked under each table; history is in git.',
    '',
    'To rerun one family: its command below writes a new file under `bench/results/`; `npm run bench:report` then rebuilds this page and its charts from the latest file of each family, without running anything.',
    '',
    '| family | figures | targets met |',
    '|---|---|---|',
  ];
  for (const family of FAMILIES) {
    const run = runs.get(family);
    const withTarget = run?.record.figures.filter((f) => f.met !== undefined) ?? [];
    out.push(`| [${TEXT[family].title.split(':')[0]}](#${anchorOf(TEXT[family].title)}) | ${run?.record.figures.length ?? 0} | ${run === undefined ? 'not run' : `${withTarget.filter((f) => f.met).length} of ${withTarget.length}`} |`);
  }
  out.push('');
  for (const family of FAMILIES) out.push(section(family, runs.get(family), charts.filter((c) => c.family === family)));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** GitHub's heading anchor. */
function anchorOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}
