/**
 * Prototypes of alternative store layouts, to put numbers on the proposals in
 * docs/design.md (Design notes). Nothing here is library code; the "current" rows rebuild
 * what libs/cluster-cache/src/store does (EntryState literal, frozenCopy of the
 * value, ExpiryIndex, encoded array keys + trie) piece by piece, so
 * each piece's cost can be read off as a difference.
 *
 *   node --expose-gc -r @swc-node/register bench/store-layouts.bench.ts           # get, mem, put
 *   node --expose-gc -r @swc-node/register bench/store-layouts.bench.ts get       # one section
 *
 * Same method as store.bench.ts: child process per section, interleaved
 * contenders, 1 discarded warm-up round, median of 5 (3 for 1M-entry builds).
 */
import { spawnSync } from 'node:child_process';
import { log } from './util/harness';
import { out } from './store-layouts/setup';
import { sectionGet } from './store-layouts/get';
import { sectionMem } from './store-layouts/mem';
import { sectionIndex } from './store-layouts/index-layouts';
import { sectionPut } from './store-layouts/put';

const SECTIONS: Record<string, () => Promise<void>> = { get: sectionGet, mem: sectionMem, index: sectionIndex, put: sectionPut };
const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  SECTIONS[argv[1]]().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  out(`## Store layout prototypes — ${new Date().toISOString()}, Node ${process.version}`);
  out();
  for (const name of names) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', name], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`section ${name} failed`);
    log(`section ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
