import { ConfigService } from '@nestjs/config';
import type { ClusterCacheOptions } from '@app/cluster-cache';

/** Pow renews sessions older than 15 minutes; so does the demo unless SESSION_RENEW_AFTER says otherwise. */
export const DEFAULT_RENEW_AFTER = 15 * 60_000;

/** The HMAC key of the demo's session cookie when SESSION_SECRET is not set. Demo only: set your own. */
export const DEMO_SESSION_SECRET = 'nest-cluster-cache-demo-secret-change-me';

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

/** SESSION_RENEW_AFTER (ms): sessions older than this are rotated by the guard. */
export function renewAfter(config: ConfigService): number {
  const value = numeric(nonEmpty(config.get<string>('SESSION_RENEW_AFTER')));
  if (value === undefined) return DEFAULT_RENEW_AFTER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`SESSION_RENEW_AFTER must be a whole number of milliseconds, got ${JSON.stringify(value)}`);
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
