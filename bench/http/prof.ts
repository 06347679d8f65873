/**
 * Reads the V8 CPU profiles that `load.bench.ts --prof=DIR` takes of one demo
 * node (bench/http/prof-preload.js) and says where the node's time goes: self
 * time per function and per module, and the inclusive time of the functions
 * on the guarded path (cookie, HMAC, SHA-256, SessionCache.get, rotation
 * check, user lookup), per request.
 *
 *   node -r @swc-node/register bench/http/prof.ts FILE.cpuprofile [REQUESTS] [TOP]
 */
import { readFileSync } from 'node:fs';
import type { CallFrame, Profile } from '../util/cpu-profile';

/** A function of the guarded (or unguarded) path whose inclusive time is reported. */
interface Probe {
  label: string;
  name: string;
  /** The end of the file's URL (built demo: dist/apps/demo/…). */
  file: string;
}

/** What the demo's GET /me and GET /ping run, in the order of a request. */
export const PROBES: readonly Probe[] = [
  { label: 'SessionAuthGuard.canActivate (whole guard, the library\'s auth kit)', name: 'canActivate', file: 'auth/session-auth.guard.js' },
  { label: '  SessionAuthGuard.isPublic (a Map lookup per handler)', name: 'isPublic', file: 'auth/session-auth.guard.js' },
  { label: '  SessionCredentials.read: cookie + signature (remembered after the first check)', name: 'read', file: 'auth/session-credentials.js' },
  { label: '    readCookie (indexOf/slice, the one cookie)', name: 'readCookie', file: 'auth/signed-cookie.js' },
  { label: '    verifySigned (HMAC-SHA256 + timingSafeEqual; first sight of a cookie only)', name: 'verifySigned', file: 'auth/signed-cookie.js' },
  { label: '  SessionCache.byHandle (cache.get + expiresAt)', name: 'byHandle', file: 'sessions/session-cache.js' },
  { label: '  SessionCache.get (SHA-256 handle + lookup; rotation grace and misses only)', name: 'get', file: 'sessions/session-cache.js' },
  { label: '  SessionCache.isOlderThan (rotation check)', name: 'isOlderThan', file: 'sessions/session-cache.js' },
  { label: '  SessionAuthGuard.admit (WeakMap entry, request property getter)', name: 'admit', file: 'auth/session-auth.guard.js' },
  { label: 'CurrentSession (parameter decorator)', name: '', file: 'auth/current-session.decorator.js' },
  { label: 'SessionController.me (handler, user lookup)', name: 'me', file: 'auth/session.controller.js' },
  { label: 'PageController.ping (handler)', name: 'ping', file: 'page/page.controller.js' },
  { label: 'Nest GuardsConsumer.tryActivate', name: 'tryActivate', file: '@nestjs/core/guards/guards-consumer.js' },
];

function where(url: string): string {
  if (url === '') return '';
  const own = url.match(/.*\/((?:apps\/demo|libs\/cluster-cache)\/src\/.+)$/);
  if (own) return own[1];
  const mod = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (mod) return mod[1];
  if (url.startsWith('node:')) return url;
  return url.split('/').slice(-2).join('/');
}

function moduleOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const w = where(url);
  if (w.startsWith('apps/demo/')) return 'demo app';
  if (w.startsWith('libs/cluster-cache/')) return 'nest-cluster-cache (lib)';
  if (w.startsWith('node:internal/crypto')) return 'node:crypto';
  if (w.startsWith('node:internal/http') || w.startsWith('node:_http')) return 'node:http';
  if (w.startsWith('node:')) return 'node internals (other)';
  return w;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  wallMs: number;
  idleMs: number;
  gcMs: number;
  requests: number | undefined;
  /** µs of busy CPU per request (when `requests` is known). */
  busyUsPerRequest: number | undefined;
  topSelf: Array<{ fn: string; ms: number; share: number }>;
  modules: Array<{ module: string; ms: number; share: number }>;
  probes: Array<{ label: string; ms: number; share: number; usPerRequest: number | undefined }>;
}

export function summariseProfile(file: string, requests?: number, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;

  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));

  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of self) {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (functionName === '(garbage collector)') gc += us;
    busy += us;
    const k = key(byId.get(id)!.callFrame);
    fn.set(k, (fn.get(k) ?? 0) + us);
    const m = moduleOf(url, functionName);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }

  // Inclusive time of each probe: a sample counts once for a probe if the probe is anywhere on its stack.
  const inclusive = new Map<string, number>();
  const matches = (f: CallFrame, p: Probe) => f.functionName === p.name && f.url.endsWith(p.file);
  const stackProbes = new Map<number, Set<string>>();
  const probesOf = (id: number): Set<string> => {
    let found = stackProbes.get(id);
    if (found !== undefined) return found;
    const up = parent.get(id);
    found = new Set(up === undefined ? [] : probesOf(up));
    const frame = byId.get(id)!.callFrame;
    for (const p of PROBES) if (matches(frame, p)) found.add(p.label);
    stackProbes.set(id, found);
    return found;
  };
  for (const [id, us] of self) for (const label of probesOf(id)) inclusive.set(label, (inclusive.get(label) ?? 0) + us);

  const share = (us: number) => (busy === 0 ? 0 : us / busy);
  const perRequest = (us: number) => (requests ? us / requests : undefined);
  return {
    file,
    busyMs: busy / 1e3,
    wallMs: (profile.endTime - profile.startTime) / 1e3,
    idleMs: idle / 1e3,
    gcMs: gc / 1e3,
    requests,
    busyUsPerRequest: perRequest(busy),
    topSelf: [...fn].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ fn: k, ms: us / 1e3, share: share(us) })),
    modules: [...mod].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, us]) => ({ module: k, ms: us / 1e3, share: share(us) })),
    probes: PROBES.filter((p) => inclusive.has(p.label)).map((p) => {
      const us = inclusive.get(p.label)!;
      return { label: p.label, ms: us / 1e3, share: share(us), usPerRequest: perRequest(us) };
    }),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const us = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)} µs`);

/** The summary as markdown. */
export function formatProfile(s: ProfileSummary, title: string): string {
  const lines = [
    `#### ${title}`,
    '',
    `busy ${s.busyMs.toFixed(0)} ms of ${s.wallMs.toFixed(0)} ms profiled (idle ${s.idleMs.toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms)` +
      (s.requests === undefined ? '' : `; ${s.requests} requests, ${us(s.busyUsPerRequest)} busy CPU per request (profiler on)`),
    '',
    '| inclusive time | share of busy | per request | function |',
    '|---:|---:|---:|---|',
    ...s.probes.map((p) => `| ${p.ms.toFixed(0)} ms | ${pct(p.share)} | ${us(p.usPerRequest)} | ${p.label.replace(/^( +)/, (m) => '&nbsp;'.repeat(m.length * 2))} |`),
    '',
    '| self time | share | module |',
    '|---:|---:|---|',
    ...s.modules.map((m) => `| ${m.ms.toFixed(0)} ms | ${pct(m.share)} | ${m.module} |`),
    '',
    '| self time | share | function |',
    '|---:|---:|---|',
    ...s.topSelf.map((f) => `| ${f.ms.toFixed(0)} ms | ${pct(f.share)} | \`${f.fn}\` |`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, requests, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node -r @swc-node/register bench/http/prof.ts FILE.cpuprofile [REQUESTS] [TOP]');
    process.exit(2);
  }
  console.log(formatProfile(summariseProfile(file, requests ? Number(requests) : undefined, top ? Number(top) : 20), file));
}
