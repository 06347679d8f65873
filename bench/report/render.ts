/** The whole report as text: docs/performance.md and its charts, from a results directory. Pure: reads files, writes none. */
import { chartsOf } from './charts';
import { renderPage } from './page';
import { latestRuns } from './results-files';
import { renderBarChart } from './svg-chart';

export interface Report {
  page: string;
  /** File name under docs/img/ → SVG text. */
  charts: Map<string, string>;
}

export function renderReport(resultsDir: string): Report {
  const runs = latestRuns(resultsDir);
  const charts = chartsOf(runs);
  return { page: renderPage(runs, charts), charts: new Map(charts.map((c) => [c.file, renderBarChart(c.chart)])) };
}
