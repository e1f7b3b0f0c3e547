/**
 * Terminal output helpers. Machine output (--json) goes to stdout one JSON
 * object per line; human progress goes to stderr so that piping stdout stays
 * clean, and the bar only draws when stderr is a terminal.
 */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is an interactive terminal (progress bars). */
  tty: boolean;
  columns: number;
  /** Overwrite the current stderr line (tty only). */
  status: (line: string) => void;
}

export function processIo(): Io {
  const tty = Boolean(process.stderr.isTTY);
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    tty,
    columns: process.stderr.columns ?? 80,
    status: (l) => {
      if (tty) process.stderr.write('\r\x1b[2K' + l);
    },
  };
}

export function progressBar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%`;
}

export function fmt(x: number | undefined, digits = 4): string {
  if (x === undefined || x === null) return '-';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(digits - 1);
  return x.toFixed(digits);
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
