/**
 * The pieces of the library's SessionAuthGuard (the auth kit, which the demo
 * uses), timed one by one in one process (no HTTP), next to the versions they
 * replaced and other variants: where the guard's CPU time per request goes
 * (docs/design.md, Design notes). The variants and the earlier versions are
 * written out below.
 *
 *   node -r @swc-node/register bench/http/guard-parts.bench.ts [--runs=7] [--ops=200000]
 *
 * Each row: median ns/op of `runs` timed runs (after one discarded warm-up
 * run), all rows interleaved run by run so machine drift hits them alike.
 */
import 'reflect-metadata';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { localCache } from '../../libs/cluster-cache/src/cache/testing/local-cache';
import { LocalSessionLock } from '../../libs/cluster-cache/src/sessions/session-lock.interface';
import { SessionCache } from '../../libs/cluster-cache/src/sessions/session-cache';
import { AuthStateAttachment } from '../../libs/cluster-cache/src/auth/auth-state';
import { bearerTokenOf } from '../../libs/cluster-cache/src/auth/bearer-token';
import { resolveAuthOptions } from '../../libs/cluster-cache/src/auth/resolve-auth-options';
import { SessionAuthGuard } from '../../libs/cluster-cache/src/auth/session-auth.guard';
import { SessionCredentials } from '../../libs/cluster-cache/src/auth/session-credentials';
import { readCookie, signToken, verifySigned } from '../../libs/cluster-cache/src/auth/signed-cookie';
import { interleaved, median, nowNs } from '../util/harness';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const RUNS = arg('runs', 7);
const OPS = arg('ops', 200_000);

const SECRET = 'nest-cluster-cache-demo-secret-change-me';
const token = randomBytes(32).toString('base64url');
const cookieValue = signToken(token, SECRET);
const sign = signToken;
const unsign = (value: string, secret: string) => verifySigned(value, [secret]);
/** What autocannon sends, and what a browser with a few other cookies sends. */
const headerAlone = `demo_session=${cookieValue}`;
const headerBrowser = `_ga=GA1.1.123456789.1700000000; theme=dark; demo_session=${cookieValue}; lang=en-GB`;

// ---------- earlier versions and variants ----------

/** The demo's parser before: split on `;`, trim and URL-decode every part. */
function readCookieSplit(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

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

/** The kit's SessionCredentials, on a request it has seen before (a verified value, remembered). */
const authOptions = resolveAuthOptions({ cookie: { name: 'demo_session', secret: SECRET, secure: false } }, 30 * 60_000);
const cookies = new SessionCredentials(authOptions, true);
const browserRequest = { headers: { cookie: headerBrowser } } as unknown as IncomingMessage;
const bearerRequest = { headers: { authorization: `Bearer ${token}` } } as unknown as IncomingMessage;

/** The handle as the library computed it before crypto.hash. */
const handleMultiStep = (tok: string) => createHash('sha256').update(tok).digest('base64url');

/**
 * A node's SessionCache holding 10k sessions of 10k users, and the token and
 * handle of one of them; `revokedUsers` other users signed out everywhere
 * first, and with `ownMark` the user did too before this sign-in.
 */
async function sessionCache(revokedUsers: number, ownMark: boolean) {
  const sessions = new SessionCache(localCache().cache.namespace('credentials'), new LocalSessionLock(), 30 * 60_000);
  for (let i = 0; i < revokedUsers; i++) {
    await sessions.create(`gone-${i}`);
    await sessions.revokeAll(`gone-${i}`);
  }
  for (let i = 0; i < 10_000; i++) await sessions.create(`user-${i}`);
  if (ownMark) await sessions.revokeAll('ada');
  const { token, session } = await sessions.create('ada');
  return { sessions, token, handle: session.handle };
}

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
  const read = cookies.read(browserRequest);
  for (const v of [unsignKeyObject(cookieValue), unsignRaw(cookieValue), typeof read === 'string' ? read : read.token]) if (v !== token) throw new Error('a variant disagrees with unsign');
  if (readCookieSplit(headerBrowser, 'demo_session') !== readCookie(headerBrowser, 'demo_session')) throw new Error('readCookieSplit disagrees');
  if (handleMultiStep(token) !== SessionCache.handleOf(token)) throw new Error('createHash disagrees with handleOf');

  const plain = await sessionCache(0, false);
  const marked = await sessionCache(1000, false);
  const own = await sessionCache(1000, true);
  for (const c of [plain, marked, own]) if (c.sessions.get(c.token)?.handle !== c.handle) throw new Error('the session is not found');

  // The whole guard, as Nest calls it, on a remembered cookie and a remembered bearer token (plain: 10k sessions).
  const guard = new SessionAuthGuard(authOptions, plain.sessions, cookies, new Reflector());
  const meHandler = () => undefined;
  class MeController {}
  const guardContext = (request: object) => ({ getArgByIndex: (i: number) => (i === 0 ? request : undefined), getHandler: () => meHandler, getClass: () => MeController }) as unknown as ExecutionContext;
  const plainCookie = { headers: { cookie: `_ga=GA1.1.123456789.1700000000; theme=dark; demo_session=${sign(plain.token, SECRET)}; lang=en-GB` } } as unknown as IncomingMessage;
  const plainBearer = { headers: { authorization: `Bearer ${plain.token}` } } as unknown as IncomingMessage;
  const bearerGuard = new SessionAuthGuard(resolveAuthOptions({}, 30 * 60_000), plain.sessions, new SessionCredentials(resolveAuthOptions({}, 30 * 60_000), true), new Reflector());
  if (guard.canActivate(guardContext(plainCookie)) !== true || bearerGuard.canActivate(guardContext(plainBearer)) !== true) throw new Error('the guard refused');
  // Where the guard's result goes: fresh requests shaped as Express makes them (its own prototype per app, set per request).
  const expressProto = Object.create(IncomingMessage.prototype) as object;
  const freshRequest = () => Object.setPrototypeOf(new IncomingMessage(null as never), expressProto) as IncomingMessage & { authSession?: unknown };
  const attachment = new AuthStateAttachment('authSession');
  const state = { session: plain.sessions.get(plain.token)!, token: plain.token, source: 'cookie' as const };
  const syncGuard = (): boolean => true;
  const asyncGuard = async (): Promise<boolean> => true;
  const rows = [
    row('readCookie (demo: indexOf/slice), header with only the session cookie', () => readCookie(headerAlone, 'demo_session')),
    row('readCookie (demo: indexOf/slice), browser-like header with 4 cookies', () => readCookie(headerBrowser, 'demo_session')),
    row('  before: split/trim/decodeURIComponent, 4 cookies', () => readCookieSplit(headerBrowser, 'demo_session')),
    row('unsign: createHmac(string key) + base64url + timingSafeEqual (demo, first sight of a cookie)', () => unsign(cookieValue, SECRET)),
    row('  variant: key imported once (createSecretKey)', () => unsignKeyObject(cookieValue)),
    row('  variant: KeyObject + raw digest compare', () => unsignRaw(cookieValue)),
    row('SessionCredentials.read, a remembered cookie, 4 cookies (kit: cookie + Map hit)', () => cookies.read(browserRequest)),
    row('SessionCredentials.read, a remembered bearer token (kit: header + Map hit)', () => cookies.read(bearerRequest)),
    row('bearerTokenOf (kit: case-insensitive scheme, no copy of the header)', () => bearerTokenOf(bearerRequest.headers.authorization)),
    row('SessionAuthGuard.canActivate, remembered cookie, 10k sessions (whole guard, hot path)', () => guard.canActivate(guardContext(plainCookie))),
    row('SessionAuthGuard.canActivate, remembered bearer token, 10k sessions', () => bearerGuard.canActivate(guardContext(plainBearer))),
    row('new IncomingMessage + Express-style prototype (baseline of the next two rows)', () => freshRequest()),
    row('  + attach (kit: WeakMap entry; getter on the prototype, defined once)', () => attachment.attach(freshRequest(), state)),
    row('  + request.authSession = session (an own property per request)', () => (freshRequest().authSession = state.session)),
    row('SessionCache.handleOf: crypto.hash(sha256, token, base64url) (library)', () => SessionCache.handleOf(token)),
    row('  before: createHash(sha256)…digest(base64url)', () => handleMultiStep(token)),
    row('SessionCache.get(token), 10k sessions, no user signed out everywhere', () => plain.sessions.get(plain.token)),
    row('  get: 1000 other users signed out everywhere (revokeAll)', () => marked.sessions.get(marked.token)),
    row('  get: and this user too, before this sign-in', () => own.sessions.get(own.token)),
    row('SessionCache.byHandle(handle) (demo guard), 10k sessions, none signed out everywhere', () => plain.sessions.byHandle(plain.handle)),
    row('  byHandle: 1000 other users signed out everywhere (revokeAll)', () => marked.sessions.byHandle(marked.handle)),
    row('  byHandle: and this user too, before this sign-in', () => own.sessions.byHandle(own.handle)),
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
      { name: 'guard returns boolean (kit on the mesh; Nest skips pickResult)', run: () => hop(syncGuard) },
      { name: 'async guard: a Promise, awaited (a guard written from the docs; the kit on Redis)', run: () => hop(asyncGuard) },
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
