/** Reads bench/results/: the latest run of each family (by its date, then its file name). Runs nothing. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILIES, Family, RunRecord } from '../util/results';

export interface LoadedRun {
  /** The file's name under the results directory. */
  file: string;
  record: RunRecord;
}

export function latestRuns(dir: string): Map<Family, LoadedRun> {
  const latest = new Map<Family, LoadedRun>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RunRecord;
    } catch (error) {
      throw new Error(`bench/results/${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (!(FAMILIES as readonly string[]).includes(record.family)) throw new Error(`bench/results/${file}: unknown family "${record.family}" (known: ${FAMILIES.join(', ')})`);
    if (!Array.isArray(record.figures)) throw new Error(`bench/results/${file}: no figures array`);
    const current = latest.get(record.family);
    if (current === undefined || record.date > current.record.date || (record.date === current.record.date && file > current.file)) latest.set(record.family, { file, record });
  }
  return latest;
}
