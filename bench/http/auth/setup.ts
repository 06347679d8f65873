/** Options, paths and the targets of the auth-kit bench (see auth.bench.ts). */
import { join } from 'node:path';
import { option, positiveOption } from '../../util/cli-options';

// ---------- options ----------

export const ROUNDS = positiveOption('rounds', 6);
export const DURATION = positiveOption('duration', 3);
export const WARMUP = positiveOption('warmup', 3);
export const CONNECTIONS = positiveOption('connections', 50);
export const JSON_OUT = option('json') || undefined;
export const PIN = option('no-pin') === undefined;

export const ROOT = join(__dirname, '..', '..', '..');
export const APP = join(__dirname, '..', 'auth-bench-app.ts');
export const LB = join(ROOT, 'scripts', 'demo-lb.js');
export const CLUSTER_COOKIE = 'bench-auth-cluster-cookie-0123456789';

/** The targets. */
export const TARGETS = [
  { name: 'guard vs unguarded endpoint (kit me / kit ping, one node)', num: 'kit me', den: 'kit ping', target: 0.95 },
  { name: 'kit vs express-session + connect-redis, GET /me, one node', num: 'kit me', den: 'es me', target: 1.3 },
  { name: 'kit vs express-session + connect-redis, GET /me, two nodes behind a balancer', num: 'kit lb me', den: 'es lb me', target: 1.3 },
  { name: 'session creation, kit vs connect-redis (POST /session, one node)', num: 'kit create', den: 'es create', target: 1.5 },
  // Context, no target: what Nest's guard and custom-parameter plumbing cost by themselves, the floor of any guard.
  { name: 'a guard that only returns true and a constant parameter decorator (kit noop / kit ping, one node)', num: 'kit noop', den: 'kit ping', target: undefined },
] as const;
