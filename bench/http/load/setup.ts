/** Options of the HTTP load check (see load.bench.ts), and the demo user it signs in as. */
import { resolve } from 'node:path';
import { option, positiveOption } from '../../util/cli-options';

// ---------- options ----------

export const CONNECTIONS = positiveOption('connections', 32);
export const PIPELINING = positiveOption('pipelining', 1);
export const LB_DURATION = positiveOption('lb-duration', 30);
export const DURATION = positiveOption('duration', 3);
export const ROUNDS = positiveOption('rounds', 12);
/** Seconds of each profiled window (--prof): enough samples whatever --duration is. */
export const PROF_DURATION = 10;
export const WARMUP = positiveOption('warmup', 5);
export const PROF_DIR = option('prof') ? resolve(option('prof')!) : undefined;
export const JSON_OUT = option('json') || undefined;
export const NO_WAIT = option('no-wait') !== undefined;
export const PIN = option('no-pin') === undefined;
export const MAX_WAIT = positiveOption('max-wait', 180);
export const PHASE_WAIT = positiveOption('phase-wait', 120);
export const TARGET_RATIO = 0.95;

export const USER = { username: 'ada', password: 'analytical-engine' };
