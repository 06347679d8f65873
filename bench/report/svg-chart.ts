/**
 * A grouped horizontal bar chart as a small, dependency-free SVG: one group per
 * measurement (e.g. "p50"), one bar per contender (ours first, then its anchors),
 * each bar labelled with its value, each group on its own scale. Same input, same bytes (no timestamps, no ids
 * drawn from a counter outside the chart), so regenerating it changes nothing.
 */

export interface Bar {
  label: string;
  value: number;
  /** Ours is drawn in the accent colour, anchors in greys. */
  ours: boolean;
  /** The value as printed beside the bar. */
  text: string;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  /** What the axis measures, e.g. "µs (less is better)". */
  axis: string;
  groups: BarGroup[];
}

const WIDTH = 720;
const LABEL_W = 270;
const VALUE_W = 90;
const BAR_H = 16;
const BAR_GAP = 4;
const GROUP_GAP = 14;
const TOP = 44;
const OURS = '#2563eb';
const ANCHORS = ['#6b7280', '#9ca3af', '#c4c9d1'];

export function renderBarChart(chart: BarChart): string {
  const parts: string[] = [];
  let y = TOP;
  for (const group of chart.groups) {
    // Each group on its own scale: its bars share a unit, the groups may not share a magnitude (a p50 and a p99).
    const max = Math.max(...group.bars.map((b) => b.value).filter(Number.isFinite), 0);
    const scale = max > 0 ? (WIDTH - LABEL_W - VALUE_W - 10) / max : 0;
    parts.push(`<text x="10" y="${y + 11}" class="group">${esc(group.label)}</text>`);
    y += 18;
    let anchorIndex = 0;
    for (const bar of group.bars) {
      const w = Number.isFinite(bar.value) ? Math.max(1, Math.round(bar.value * scale)) : 0;
      const fill = bar.ours ? OURS : ANCHORS[Math.min(anchorIndex++, ANCHORS.length - 1)];
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + 12}" class="label" text-anchor="end">${esc(bar.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${w}" height="${BAR_H}" fill="${fill}" rx="2"/>`,
        `<text x="${LABEL_W + w + 6}" y="${y + 12}" class="value${bar.ours ? ' ours' : ''}">${esc(bar.text)}</text>`,
      );
      y += BAR_H + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(chart.title)}">`,
    '<style>text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:12px;fill:#1f2937}.title{font-size:15px;font-weight:600}.axis{fill:#6b7280}.group{font-weight:600}.ours{font-weight:600;fill:#1d4ed8}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" class="title">${esc(chart.title)}</text>`,
    `<text x="10" y="36" class="axis">${esc(chart.axis)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
