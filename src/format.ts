/** Number formatting shared by host messages, result converters and webview tables, so numbers print alike everywhere. */

export function formatNumber(x: number | undefined | null, digits = 4): string {
  if (x === undefined || x === null) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

export function formatPercent(x: number | undefined | null): string {
  return x === undefined || x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}
