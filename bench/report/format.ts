/** How docs/performance.md writes a number: by its unit, to three significant digits or so (the machine's noise is far above that). */

export function fmtValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'ops/s':
    case 'req/s':
    case 'entries/s':
      return `${fmtCount(value)} ${unit}`;
    case 'µs':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} µs`;
    case 'ms':
      return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ms`;
    case 's':
      return `${value.toFixed(2)} s`;
    case 'B':
      return `${value.toFixed(0)} B`;
    default:
      // Three significant digits, never in exponent notation (toPrecision writes 1712 as 1.71e+3).
      return `${Number.isInteger(value) || Math.abs(value) >= 100 ? Math.round(value) : value.toPrecision(3)} ${unit}`;
  }
}

/** 1.23M, 456k, 12.3k, 789. */
export function fmtCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e5) return `${(value / 1e3).toFixed(0)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

export function fmtRatio(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}×`;
}

/** CPU time per operation, µs. */
export function fmtCpu(us: number | null | undefined): string {
  return fmtValue(us, 'µs');
}
