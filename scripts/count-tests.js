// Sums the "Tests: N passed, M failed" lines of every Jest run in a log and
// prints one closing line, "N passed, M failed", for CI to read.
const fs = require('node:fs');

const log = fs.readFileSync(process.argv[2], 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of log.split('\n')) {
  if (!/^Tests:/.test(line)) continue;
  passed += Number(/(\d+) passed/.exec(line)?.[1] ?? 0);
  failed += Number(/(\d+) failed/.exec(line)?.[1] ?? 0);
  skipped += Number(/(\d+) skipped/.exec(line)?.[1] ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || passed === 0 ? 1 : 0);
