import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtCpu, fmtRatio, fmtValue } from '../../bench/report/format';
import { renderReport } from '../../bench/report/render';
import type { Figure, RunRecord } from '../../bench/util/results';

/**
 * docs/performance.md and its charts are what `npm run bench:report` makes of
 * bench/results/ (so rerunning it changes nothing), and every figure on the page
 * is a figure of the results file its section links to.
 */
const ROOT = join(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const PAGE = readFileSync(join(ROOT, 'docs', 'performance.md'), 'utf8');

/** The page cut at its `## ` headings: [heading, text]. */
function sections(page: string): Array<[string, string]> {
  return page
    .split(/^## /m)
    .slice(1)
    .map((s): [string, string] => [s.slice(0, s.indexOf('\n')), s]);
}

/** The rows of a section's figure table, as cells (header and rule left out). */
function figureRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.startsWith('| '));
  return lines.slice(1).map((l) =>
    l
      .slice(2, -2)
      .split(/(?<!\\) \| /)
      .map((c) => c.replace(/\\\|/g, '|')),
  );
}

describe('docs/performance.md', () => {
  it('is what bench:report makes of bench/results/, byte for byte, and making it twice gives the same', () => {
    const first = renderReport(RESULTS);
    const second = renderReport(RESULTS);
    expect(second.page).toBe(first.page);
    expect([...second.charts]).toEqual([...first.charts]);
    expect(first.page).toBe(PAGE);
    for (const [file, svg] of first.charts) expect(readFileSync(join(ROOT, 'docs', 'img', file), 'utf8')).toBe(svg);
  });

  it('shows every chart it draws, and draws only charts with figures', () => {
    const { charts } = renderReport(RESULTS);
    expect(charts.size).toBeGreaterThan(0);
    for (const file of charts.keys()) expect(PAGE).toContain(`](img/${file})`);
    for (const svg of charts.values()) expect(svg).toMatch(/^<svg [^>]*>[\s\S]*<rect [^>]*fill="#2563eb"[\s\S]*<\/svg>\n$/);
  });

  it('takes every figure of a family table from the results file the section links to', () => {
    let checked = 0;
    for (const [heading, text] of sections(PAGE)) {
      const link = /\(\.\.\/bench\/results\/([^)]+\.json)\)/.exec(text);
      if (link === null) {
        expect(text).toContain('No results yet');
        continue;
      }
      const record = JSON.parse(readFileSync(join(RESULTS, link[1]), 'utf8')) as RunRecord;
      expect(text).toContain(`commit \`${record.commit.hash}\``);
      expect(text).toContain(record.date.replace('T', ' ').replace('Z', ' UTC'));
      expect(text).toContain(`Rerun: \`${record.command}\``);
      const rows = figureRows(text);
      expect(rows.length).toBe(record.figures.length);
      for (const [label, ours, anchor, ratio, cpu] of rows) {
        const figure = record.figures.find((f: Figure) => f.label === label);
        if (figure === undefined) throw new Error(`${heading}: "${label}" is not a figure of bench/results/${link[1]}`);
        expect(ours).toBe(`**${fmtValue(figure.ours, figure.unit)}**`);
        expect(anchor).toBe(figure.anchor === undefined ? '' : `${fmtValue(figure.anchor.value, figure.anchor.unit)} (${figure.anchor.label})`);
        expect(ratio).toBe(fmtRatio(figure.ratio));
        expect(cpu).toBe(figure.cpuUsPerOp === undefined ? '' : `${fmtCpu(figure.cpuUsPerOp.ours)}${figure.cpuUsPerOp.anchor === undefined ? '' : ` / ${fmtCpu(figure.cpuUsPerOp.anchor)}`}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('takes the latest run of a family, and says so when a family has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    try {
      const run = (date: string, ours: number): RunRecord => ({
        family: 'heal',
        date,
        commit: { hash: 'abc1234', dirty: false },
        machine: { cpu: 'test cpu', cores: 2, memGiB: 1, node: 'v20', os: 'Linux', load: { start: 0, end: 0 } },
        command: 'npm run bench:unsplit',
        figures: [{ id: 'heal:disjoint', label: 'merge heal, test', ours, unit: 'ms', ratio: ours / 1000, target: '≤ 1000 ms', met: ours <= 1000 }],
      });
      writeFileSync(join(dir, 'heal-2026-01-02T00-00-00Z.json'), JSON.stringify(run('2026-01-02T00:00:00Z', 640)));
      writeFileSync(join(dir, 'heal-2026-01-01T00-00-00Z.json'), JSON.stringify(run('2026-01-01T00:00:00Z', 1500)));
      const { page } = renderReport(dir);
      expect(page).toContain('| merge heal, test | **640 ms** |');
      expect(page).not.toContain('1500 ms');
      expect(page).toContain('No results yet. Run `npm run bench:store`');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
