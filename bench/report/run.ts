/**
 * npm run bench:report: rebuilds docs/performance.md and its charts (docs/img/*.svg)
 * from the latest results file of each family under bench/results/, and the
 * page's reading time in the docs index (docs/README.md). Runs no benchmark.
 *
 *   npm run bench:report            # write the page and the charts
 *   npm run bench:report -- --check # write nothing; exit 1 if either is out of date
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, ROOT } from '../util/results';
import { CHART_FILES } from './charts';
import { readingMinutes, wordCount } from './reading-time';
import { renderReport } from './render';

export const PAGE = join(ROOT, 'docs', 'performance.md');
export const IMG_DIR = join(ROOT, 'docs', 'img');
const INDEX = join(ROOT, 'docs', 'README.md');

/** The docs index with the performance page's line giving the reading time of `page`. */
function indexFor(page: string): string {
  return readFileSync(INDEX, 'utf8').replace(/^(- \[[^\]]+\]\(performance\.md\) · )\d+( min)/m, `$1${readingMinutes(wordCount(page))}$2`);
}

function main(): void {
  const check = process.argv.includes('--check');
  const report = renderReport(RESULTS_DIR);
  const wanted = new Map<string, string>([[PAGE, report.page], [INDEX, indexFor(report.page)], ...[...report.charts].map(([file, svg]): [string, string] => [join(IMG_DIR, file), svg])]);
  const stale = [...wanted].filter(([file, text]) => !existsSync(file) || readFileSync(file, 'utf8') !== text).map(([file]) => file);
  const orphans = existsSync(IMG_DIR) ? readdirSync(IMG_DIR).filter((f) => (CHART_FILES as readonly string[]).includes(f) && !report.charts.has(f)) : [];
  if (check) {
    for (const f of [...stale, ...orphans]) process.stderr.write(`out of date: ${f.replace(`${ROOT}/`, '')}\n`);
    process.exitCode = stale.length + orphans.length > 0 ? 1 : 0;
    return;
  }
  mkdirSync(IMG_DIR, { recursive: true });
  for (const file of stale) writeFileSync(file, wanted.get(file)!);
  for (const f of orphans) unlinkSync(join(IMG_DIR, f));
  process.stderr.write(`bench:report: ${stale.length} file(s) written, ${wanted.size - stale.length} unchanged${orphans.length > 0 ? `, ${orphans.length} old chart(s) removed` : ''}\n`);
}

if (require.main === module) main();
