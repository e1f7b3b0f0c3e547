/**
 * What `landscape path --pairs` shows: a progress line on a terminal (or a
 * line per finished pair on stderr otherwise), the table of every pair at the
 * end, and the pairs that failed.
 */
import type { Io } from '../output';
import { fmt, progressBar, table } from '../output';
import type { PairProgress } from '../../engine/pool/pathTask';
import type { BarrierPath } from '../../results/path';

/** One pair as the report names it. */
export interface PairRow {
  /** Line in the pairs file. */
  line: number;
  labelA: string;
  labelB: string;
  doc: BarrierPath | null;
  reused: boolean;
  error?: string;
}

/** The progress shown while pairs run: `start`, `progress` and `finished` feed it; `clear` ends the status line. */
export class PairsProgress {
  private readonly inFlight = new Map<string, string>();
  private done = 0;

  constructor(
    private readonly io: Io,
    private readonly total: number,
    private readonly quiet: boolean,
    private readonly name: (i: number, j: number) => string,
  ) {}

  private show(tail: string): void {
    const line = `${progressBar(this.done, this.total, 20)} ${this.done}/${this.total} pairs  ${tail}`;
    this.io.status(line.length >= this.io.columns ? `${line.slice(0, Math.max(10, this.io.columns - 2))}…` : line);
  }

  progress(p: PairProgress): void {
    if (!this.io.tty) return;
    this.inFlight.set(`${p.i},${p.j}`, `${this.name(p.i, p.j)} it ${p.iteration} H ${fmt(p.bestHeight)}`);
    this.show([...this.inFlight.values()].join('  '));
  }

  finished(i: number, j: number, row: PairRow): void {
    this.done++;
    this.inFlight.delete(`${i},${j}`);
    const what = row.doc ? `H ${fmt(row.doc.height)} (straight ${fmt(row.doc.heights.straight)})` : `failed: ${row.error}`;
    if (this.io.tty) this.show(`last ${this.name(i, j)} ${what}`);
    else if (!this.quiet) this.io.err(`pair ${this.done}/${this.total} (line ${row.line}): ${row.labelA} ↔ ${row.labelB} ${what}`);
  }

  clear(): void {
    if (this.io.tty) this.io.status('');
  }
}

/** The table of all pairs, in file order. */
export function printPairsTable(io: Io, rows: readonly PairRow[]): void {
  const body = rows.map((r) => {
    const d = r.doc;
    if (!d) return [String(r.line), r.labelA, r.labelB, '-', '-', '-', 'failed'];
    return [String(r.line), r.labelA, r.labelB, fmt(d.heights.straight), fmt(d.height), fmt(d.barrierFromMean), r.reused ? 'yes' : '-'];
  });
  io.out(table([['line', 'A', 'B', 'straight H', 'optimized H', 'barrier from mean', 'reused'], ...body]));
  if (rows.some((r) => r.doc?.refinement?.kept)) io.out('optimized H: the reported path\'s height, after the climbing-image refinement where it was kept');
}

/** The failed pairs on stderr; the exit code (1 when any failed). */
export function reportFailures(io: Io, pairsFile: string, rows: readonly PairRow[]): number {
  const failed = rows.filter((r) => !r.doc);
  for (const r of failed) io.err(`${pairsFile}:${r.line}: ${r.labelA} ↔ ${r.labelB} failed: ${r.error ?? 'no result'}`);
  if (failed.length) io.err(`landscape path --pairs: ${failed.length} of ${rows.length} pairs failed; the others are done`);
  return failed.length ? 1 : 0;
}
