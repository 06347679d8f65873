/**
 * The pieces of the demo's SessionGuard, timed one by one in one process (no
 * HTTP), next to cheaper variants: where the guard's CPU time per request goes
 * and what each proposal in docs/benchmarks-http.md would save. Nothing here
 * changes the demo or the library; the variants are written out below.
 *
 *   node -r @swc-node/register bench/http/guard-parts.bench.ts [--runs=7] [--ops=200000]
 *
 * Each row: median ns/op of `runs` timed runs (after one discarded warm-up
 * run), all rows interleaved run by run so machine drift hits them alike.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import * as crypto from 'node:crypto';
import { SessionCache } from '../../libs/cluster-cache/src/sessions/session-cache';
import { readCookie, sign, unsign } from '../../apps/demo/src/auth/session-cookie';
import { interleaved, median, nowNs } from '../util/harness';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const RUNS = arg('runs', 7);
const OPS = arg('ops', 200_000);

const SECRET = 'nest-cluster-cache-demo-secret-change-me';
const token = randomBytes(32).toString('base64url');
const cookieValue = sign(token, SECRET);
/** What autocannon sends, and what a browser with a few other cookies sends. */
const headerAlone = `demo_session=${cookieValue}`;
const headerBrowser = `_ga=GA1.1.123456789.1700000000; theme=dark; demo_session=${cookieValue}; lang=en-GB`;

// ---------- variants (proposals) ----------

const KEY = createSecretKey(Buffer.from(SECRET, 'utf8'));

/** unsign with the key imported once (KeyObject) instead of from the string on every call. */
function unsignKeyObject(value: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const tok = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(createHmac('sha256', KEY).update(tok).digest('base64url'));
  return given.length === expected.length && timingSafeEqual(given, expected) ? tok : undefined;
}

/** unsign comparing raw digests: the given MAC decoded once, no base64url encoding of the expected one. */
function unsignRaw(value: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || value.length - dot - 1 !== 43) return undefined;
  const tok = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', KEY).update(tok).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? tok : undefined;
}

/** A bounded cache of cookie values whose signature was verified: a repeat visit costs one Map lookup. */
const verified = new Map<string, string>();
function unsignCached(value: string): string | undefined {
  const hit = verified.get(value);
  if (hit !== undefined) return hit;
  const tok = unsign(value, SECRET);
  if (tok !== undefined) {
    if (verified.size >= 10_000) verified.delete(verified.keys().next().value!);
    verified.set(value, tok);
  }
  return tok;
}

/** The cookie value without split/trim/decodeURIComponent (the demo's cookie is base64url + '.', nothing to decode). */
function readCookieFast(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const prefix = `${name}=`;
  let at = header.startsWith(prefix) ? 0 : header.indexOf(`; ${prefix}`);
  if (at === -1) return undefined;
  if (at > 0) at += 2;
  const end = header.indexOf(';', at);
  return header.slice(at + prefix.length, end === -1 ? undefined : end);
}

const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: string) => string }).hash;

// ---------- the rows ----------

let sink: unknown;
function row(name: string, op: () => unknown) {
  return {
    name,
    run: () => {
      const start = nowNs();
      for (let i = 0; i < OPS; i++) sink = op();
      return (nowNs() - start) / OPS;
    },
  };
}

async function main(): Promise<void> {
  // Sanity: the variants agree with the demo's functions.
  for (const v of [unsignKeyObject(cookieValue), unsignRaw(cookieValue), unsignCached(cookieValue)]) if (v !== token) throw new Error('a variant disagrees with unsign');
  if (readCookieFast(headerBrowser, 'demo_session') !== readCookie(headerBrowser, 'demo_session')) throw new Error('readCookieFast disagrees');
  if (oneShotHash && oneShotHash('sha256', token, 'base64url') !== SessionCache.handleOf(token)) throw new Error('crypto.hash disagrees');

  const syncGuard = (): boolean => true;
  const asyncGuard = async (): Promise<boolean> => true;
  const rows = [
    row('readCookie, header with only the session cookie (demo)', () => readCookie(headerAlone, 'demo_session')),
    row('readCookie, browser-like header with 4 cookies (demo)', () => readCookie(headerBrowser, 'demo_session')),
    row('  variant: indexOf/slice, 4 cookies', () => readCookieFast(headerBrowser, 'demo_session')),
    row('unsign: createHmac(string key) + base64url + timingSafeEqual (demo)', () => unsign(cookieValue, SECRET)),
    row('  variant: key imported once (createSecretKey)', () => unsignKeyObject(cookieValue)),
    row('  variant: KeyObject + raw digest compare', () => unsignRaw(cookieValue)),
    row('  variant: verified-cookie cache hit (Map)', () => unsignCached(cookieValue)),
    row('SessionCache.handleOf: createHash(sha256)…digest(base64url) (library)', () => SessionCache.handleOf(token)),
    ...(oneShotHash ? [row('  variant: crypto.hash(sha256, token, base64url) one-shot', () => oneShotHash('sha256', token, 'base64url'))] : []),
  ];
  const results = await interleaved(rows, RUNS, 1);
  // Promise hops: measured apart (async rows cannot share the sync loop).
  const hop = async (fn: () => boolean | Promise<boolean>) => {
    const start = nowNs();
    for (let i = 0; i < OPS; i++) {
      const r = fn();
      sink = typeof r === 'boolean' ? r : await r;
    }
    return (nowNs() - start) / OPS;
  };
  const hops = await interleaved(
    [
      { name: 'guard returns boolean (Nest skips pickResult)', run: () => hop(syncGuard) },
      { name: 'async guard: a Promise, awaited (demo)', run: () => hop(asyncGuard) },
    ],
    RUNS,
    1,
  );

  const lines = [
    `### Guard parts, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (node ${process.version}, ${OPS} ops per run, median of ${RUNS} runs)`,
    '',
    '| step | ns/op (median) | min – max |',
    '|---|---:|---:|',
  ];
  for (const [name, xs] of [...results, ...hops]) lines.push(`| ${name.replace(/^ {2}/, '&nbsp;&nbsp;↳ ')} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} – ${Math.max(...xs).toFixed(0)} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  void sink;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
