'use strict';
/**
 * An experiment, not a change: loaded into the demo nodes by
 * `load.bench.ts --variant=LIST` (NODE_OPTIONS=--require …,
 * BENCH_GUARD_VARIANT=LIST), it swaps parts of the built demo's guard path at
 * run time for the cheaper versions that docs/benchmarks-http.md proposes, so
 * their effect can be measured end to end without editing apps/demo or the
 * library. LIST is a comma-separated subset of:
 *
 *   fast-cookie   read the session cookie with indexOf/slice (no split/trim/decodeURIComponent per part)
 *   cookie-cache  remember cookie values whose HMAC was verified (bounded Map): a repeat costs a lookup
 *   no-hmac       do not check the cookie's HMAC at all (the token is 256 random bits; a forged one
 *                 finds no session anyway)
 *   hash-oneshot  SessionCache.handleOf with crypto.hash('sha256', token, 'base64url') (Node ≥ 20.12)
 *   sync-guard    canActivate answers `true` synchronously unless the session must be rotated
 *                 (Nest's GuardsConsumer then skips two awaits)
 */
const variants = new Set((process.env.BENCH_GUARD_VARIANT || '').split(',').map((s) => s.trim()).filter(Boolean));
const KNOWN = ['fast-cookie', 'cookie-cache', 'no-hmac', 'hash-oneshot', 'sync-guard'];
if (variants.size > 0) {
  for (const v of variants) if (!KNOWN.includes(v)) throw new Error(`guard-variant-preload: unknown variant ${v} (known: ${KNOWN.join(', ')})`);
  const Module = require('node:module');
  const crypto = require('node:crypto');
  const patched = new Set();
  const originalLoad = Module._load;

  const patchCookie = (cookie) => {
    const { unsign, readCookie, SESSION_COOKIE } = cookie;
    const prefix = `${SESSION_COOKIE}=`;
    const read = variants.has('fast-cookie')
      ? (header) => {
          if (header === undefined) return undefined;
          let at = header.startsWith(prefix) ? 0 : header.indexOf(`; ${prefix}`);
          if (at === -1) return readCookie(header, SESSION_COOKIE); // unusual spacing: the demo's parser
          if (at > 0) at += 2;
          const end = header.indexOf(';', at);
          const raw = header.slice(at + prefix.length, end === -1 ? undefined : end).trim();
          return raw.includes('%') || raw.startsWith('"') ? readCookie(header, SESSION_COOKIE) : raw;
        }
      : (header) => readCookie(header, SESSION_COOKIE);
    const verified = new Map();
    cookie.tokenOf = (request, secret) => {
      const value = read(request.headers.cookie);
      if (value === undefined) return undefined;
      if (variants.has('no-hmac')) {
        const dot = value.lastIndexOf('.');
        return dot <= 0 ? undefined : value.slice(0, dot);
      }
      if (variants.has('cookie-cache')) {
        const hit = verified.get(value);
        if (hit !== undefined) return hit;
      }
      const token = unsign(value, secret);
      if (variants.has('cookie-cache') && token !== undefined) {
        if (verified.size >= 10_000) verified.delete(verified.keys().next().value);
        verified.set(value, token);
      }
      return token;
    };
  };

  const patchGuard = (guardModule, filename) => {
    const { UnauthorizedException } = Module.createRequire(filename)('@nestjs/common');
    const cookie = Module.createRequire(filename)('./session-cookie');
    const proto = guardModule.SessionGuard.prototype;
    const asyncCanActivate = proto.canActivate;
    proto.canActivate = function canActivate(context) {
      const request = context.switchToHttp().getRequest();
      const token = cookie.tokenOf(request, this.settings.secret);
      if (token === undefined) throw new UnauthorizedException('not signed in');
      const session = this.sessions.get(token);
      if (session === undefined) throw new UnauthorizedException('not signed in');
      // Rotation (rare: once per session per SESSION_RENEW_AFTER) keeps the demo's async path.
      if (this.sessions.isOlderThan(session, this.settings.renewAfter)) return asyncCanActivate.call(this, context);
      const user = this.users.find(String(session.userId));
      if (user === undefined) throw new UnauthorizedException('unknown user');
      request.auth = { user, session, token };
      return true;
    };
  };

  Module._load = function load(request, parent, isMain) {
    const exports = originalLoad.apply(this, arguments);
    let filename;
    try {
      filename = Module._resolveFilename(request, parent, isMain);
    } catch {
      return exports;
    }
    if (patched.has(filename)) return exports;
    if (filename.endsWith('/apps/demo/src/auth/session-cookie.js') && (variants.has('fast-cookie') || variants.has('cookie-cache') || variants.has('no-hmac'))) {
      patched.add(filename);
      patchCookie(exports);
    } else if (filename.endsWith('/apps/demo/src/auth/session.guard.js') && variants.has('sync-guard')) {
      patched.add(filename);
      patchGuard(exports, filename);
    } else if (filename.endsWith('/libs/cluster-cache/src/sessions/session-cache.js') && variants.has('hash-oneshot')) {
      patched.add(filename);
      if (typeof crypto.hash !== 'function') throw new Error('hash-oneshot needs crypto.hash (Node ≥ 20.12)');
      exports.SessionCache.handleOf = (token) => crypto.hash('sha256', token, 'base64url');
    }
    return exports;
  };
  process.stderr.write(`[guard-variant] ${[...variants].join(', ')}\n`);
}
