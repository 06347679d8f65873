import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run';
import { chaosHosts } from './cluster';

/**
 * The long chaos run: the bounded plan, then random faults until the time is
 * up. Prints the timeline as it happens and the checks at the end; exits 1
 * if a check failed.
 *
 *   npm run chaos -- --seed 42 --minutes 10     (defaults: a random seed, 5 minutes)
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, minutes: { type: 'string', default: '5' } } });
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(seed) || !(minutes > 0)) throw new Error('usage: npm run chaos -- [--seed <integer>] [--minutes <number>]');
  // Ctrl-C: remove the hosts (and the node processes in them) before leaving.
  process.once('SIGINT', () => {
    chaosHosts(5).remove();
    process.exit(130);
  });
  const { report, failed } = await runChaos({ seed, minutes, print: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`\n${report}\n\nreplay with: npm run chaos -- --seed ${seed} --minutes ${minutes}\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
