// Small statistics and formatting helpers for the bench: medians, percentiles, ratios, the printed table.

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank - 1, 0), sorted.length - 1)]!;
}

/** Rounds to `digits` decimals (results.json stays readable). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The median of every key over several records of step timings (a key missing from a record counts as absent). */
export function medianByKey(records: readonly Record<string, number>[]): Record<string, number> {
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  const out: Record<string, number> = {};
  for (const k of keys) {
    const xs = records.flatMap((r) => (r[k] === undefined ? [] : [r[k]]));
    out[k] = round(median(xs));
  }
  return out;
}

export const MB = 1024 * 1024;

export function fmtMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}

export function fmtRatio(r: number): string {
  return `${r.toFixed(2)}×`;
}

/** A plain text table: the first row is the header; columns are left-aligned and padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  if (!head) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
