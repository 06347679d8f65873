import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ClusterCacheOptions, SessionAuthOptions } from '@app/cluster-cache';

/** Name of the demo's session cookie. */
export const SESSION_COOKIE = 'demo_session';

/** The HMAC key of the demo's session cookie when SESSION_SECRET is not set. Demo only: set your own. */
export const DEMO_SESSION_SECRET = 'nest-cluster-cache-demo-secret-change-me';

/** Sign-in attempts allowed per client address and minute, cluster-wide, unless DEMO_SIGNIN_LIMIT says otherwise. */
export const DEFAULT_SIGNIN_LIMIT = 10;

/** The window of the sign-in limit, in ms. */
export const SIGNIN_WINDOW = 60_000;

/** The HTTP ports of `npm run demo`: node a, node b and the load balancer (scripts/demo-nodes.js). */
export const DEMO_HTTP_PORTS = [4000, 4002, 8080];

/**
 * The module options of one demo node, from the environment:
 *
 * | variable           | option                | example            |
 * |--------------------|-----------------------|--------------------|
 * | NODE_NAME          | node.name             | a@127.0.0.1        |
 * | CLUSTER_PORT       | node.port             | 14000              |
 * | CLUSTER_COOKIE     | cookie                | (shared secret)    |
 * | CACHE_DIR          | persistence.dir       | .data/a            |
 * | CLUSTER_SEEDS      | extraNodes            | 127.0.0.1:14002    |
 * | SESSION_TTL        | sessions.ttl (ms)     | 1800000            |
 * | SESSION_ROTATION_GRACE | sessions.rotationGrace (ms) | 10000      |
 *
 * Values are passed on as they are: the library validates them and names the
 * bad option (`InvalidOptionError`), so a misconfigured node fails at start.
 */
export function clusterCacheOptions(config: ConfigService): ClusterCacheOptions {
  const dir = nonEmpty(config.get<string>('CACHE_DIR'));
  const seeds = nonEmpty(config.get<string>('CLUSTER_SEEDS'));
  const ttl = nonEmpty(config.get<string>('SESSION_TTL'));
  const grace = nonEmpty(config.get<string>('SESSION_ROTATION_GRACE'));
  return {
    node: { name: nonEmpty(config.get<string>('NODE_NAME')), port: numeric(config.get('CLUSTER_PORT')) },
    cookie: nonEmpty(config.get<string>('CLUSTER_COOKIE')),
    extraNodes: seeds?.split(',').map((s) => s.trim()).filter(Boolean),
    persistence: dir === undefined ? undefined : { dir },
    sessions: { ttl: numeric(ttl), rotationGrace: numeric(grace) },
  };
}

/**
 * The auth kit's options (`SessionAuthModule`) of one demo node: the signed
 * cookie only (a browser demo; no bearer tokens), from the environment:
 *
 * | variable            | option              | default                          |
 * |---------------------|---------------------|----------------------------------|
 * | SESSION_SECRET      | cookie.secret       | the demo's (a warning is logged) |
 * | COOKIE_SECURE       | cookie.secure       | false (`true` behind HTTPS)      |
 * | SESSION_RENEW_AFTER | renewAfter (ms)     | 15 min (half of a shorter TTL)   |
 *
 * The cookie is `demo_session`, HttpOnly, SameSite=Lax, Path=/. The kit
 * validates the values and names the bad option at start.
 */
export function sessionAuthOptions(config: ConfigService): SessionAuthOptions {
  let secret = nonEmpty(config.get<string>('SESSION_SECRET'));
  if (secret === undefined) {
    new Logger('Demo').warn('SESSION_SECRET is not set: using the demo secret; set your own outside the demo');
    secret = DEMO_SESSION_SECRET;
  }
  return {
    bearer: false,
    cookie: { name: SESSION_COOKIE, secret, secure: config.get<string>('COOKIE_SECURE') === 'true' },
    renewAfter: renewAfter(config),
  };
}

/** SESSION_RENEW_AFTER (ms): sessions older than this are rotated by the guard; undefined: the kit's default. */
export function renewAfter(config: ConfigService): number | undefined {
  const value = numeric(nonEmpty(config.get<string>('SESSION_RENEW_AFTER')));
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`SESSION_RENEW_AFTER must be a whole number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The origins (`scheme://host:port`) whose pages may send the state-changing
 * requests (POST, DELETE…): DEMO_ALLOWED_ORIGINS, a comma-separated list.
 * Without it, the origins the demo serves: this node's own (HOST and PORT) and
 * those of `npm run demo` (ports 4000, 4002 and 8080), on 127.0.0.1, localhost
 * and [::1] when the node listens on a loopback or wildcard address.
 * scripts/demo-nodes.js sets the list for the ports it actually uses.
 */
export function allowedOrigins(config: ConfigService): string[] {
  const listed = nonEmpty(config.get<string>('DEMO_ALLOWED_ORIGINS'));
  if (listed !== undefined) {
    const origins = listed.split(',').map((s) => s.trim()).filter(Boolean);
    return [...new Set(origins.map((origin) => originOf(origin, 'DEMO_ALLOWED_ORIGINS')))];
  }
  const host = nonEmpty(config.get<string>('HOST')) ?? '127.0.0.1';
  const port = numeric(nonEmpty(config.get<string>('PORT'))) ?? 3000;
  const local = host.startsWith('127.') || host === 'localhost' || host === '::1' || host === '0.0.0.0' || host === '::';
  const hosts = local ? [...new Set([host.startsWith('127.') ? host : '127.0.0.1', '127.0.0.1', 'localhost', '[::1]'])] : [host.includes(':') ? `[${host}]` : host];
  const ports = [...new Set([port, ...DEMO_HTTP_PORTS])];
  return hosts.flatMap((h) => ports.map((p) => originOf(`http://${h}:${p}`, 'HOST/PORT')));
}

/** The origin of `value` as browsers send it (`http://127.0.0.1:8080`), or an error naming `setting`. */
export function originOf(value: string, setting: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new Error(`${setting} must be a comma-separated list of origins such as http://127.0.0.1:8080 (scheme, host and port, no path), got ${JSON.stringify(value)}`);
  }
  return url.origin;
}

/** DEMO_ADMIN_TOKEN: lets clients that are not on loopback read /cluster and /metrics (`Authorization: Bearer <token>`). */
export function adminToken(config: ConfigService): string | undefined {
  const token = nonEmpty(config.get<string>('DEMO_ADMIN_TOKEN'));
  if (token !== undefined && token.length < 16) throw new Error('DEMO_ADMIN_TOKEN must be at least 16 characters long (it is a password)');
  return token;
}

/** DEMO_SIGNIN_LIMIT: sign-in attempts allowed per client address and minute, counted on the whole cluster. */
export function signInLimit(config: ConfigService): number {
  const value = numeric(nonEmpty(config.get<string>('DEMO_SIGNIN_LIMIT')));
  if (value === undefined) return DEFAULT_SIGNIN_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`DEMO_SIGNIN_LIMIT must be a whole number of sign-in attempts per minute (at least 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Numeric strings become numbers; anything else is left for the validation to name. */
function numeric(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return value as number;
}
