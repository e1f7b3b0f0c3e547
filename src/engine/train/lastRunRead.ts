/**
 * The newest run folder read back as a finished run: what the side view
 * shows after a window reload, when the live series held in memory is gone
 * but run.json and metrics.jsonl are on disk. `finishedRun` is pure (file
 * texts in); `readNewestRun` does the bounded file reading.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatNumber, formatPercent } from '../../format';
import type { CheckpointRef, EpochPoint, StabilityPoint } from '../../results/shapes';
import { checkpointLabel, count, finite, obj, parseMetrics, text, type Json } from './runFolderView';

/** More than this of metrics.jsonl is not read: the newest part is kept (about 80 000 epoch lines). */
export const LAST_RUN_MAX_METRICS_BYTES = 16 * 1024 * 1024;
const MAX_RUN_JSON_BYTES = 5 * 1024 * 1024;
/** Run folders looked at in the runs folder, and how many of the newest are tried. */
const MAX_RUN_DIRS = 2000;
const MAX_TRIES = 5;

export interface LastRunOptions {
  /**
   * The metrics text is the tail of a larger file: its first line is a piece of
   * a line and is dropped, not counted as damage.
   */
  metricsStartsMidLine?: boolean;
}

export interface FinishedRun {
  runDir: string;
  label: string;
  points: EpochPoint[];
  /** As run.json lists them, its best checkpoint last (which may repeat a listed one). */
  checkpoints: CheckpointRef[];
  status: { state: 'completed' | 'failed' | 'cancelled'; text: string; epoch: number; epochs: number };
  stability: StabilityPoint[];
}

/** A checkpoint entry of run.json as the side view lists it; undefined when it is not one. */
function checkpointRef(runDir: string, c: unknown): CheckpointRef | undefined {
  const o = obj(c);
  const file = text(o.file, 500);
  // Only plain names inside the run folder: run.json is untrusted.
  if (!file || path.isAbsolute(file) || file.split(/[\\/]/).includes('..')) return undefined;
  const kind = text(o.kind, 40) ?? 'periodic';
  const epoch = count(o.epoch) ?? 0;
  const loss = finite(o.testLoss);
  return { path: path.join(runDir, file), label: checkpointLabel(file, kind, epoch), ...(loss !== undefined ? { detail: `test loss ${formatNumber(loss)}` } : {}) };
}

/** The whole lines of a metrics text: a cut first line and a torn last line (the host died while appending) are dropped. */
function wholeLines(metricsText: string, startsMidLine: boolean): string {
  let metrics = metricsText;
  if (startsMidLine) {
    const nl = metrics.indexOf('\n');
    metrics = nl < 0 ? '' : metrics.slice(nl + 1);
  }
  // A last line without its newline was being written when the host stopped.
  if (metrics.length > 0 && !metrics.endsWith('\n')) {
    const nl = metrics.lastIndexOf('\n');
    const last = metrics.slice(nl + 1);
    try {
      JSON.parse(last);
    } catch {
      metrics = metrics.slice(0, nl + 1);
    }
  }
  return metrics;
}

/** The state run.json records, in the words of a finished run. The word "done" belongs to a live run completing. */
function finishedState(r: Json, lastPoint: EpochPoint | undefined, lastEpoch: number): { state: FinishedRun['status']['state']; how: string } {
  const status = text(r.status, 40);
  if (status === 'completed') {
    const acc = lastPoint?.testAccuracy !== undefined ? ` · test accuracy ${formatPercent(lastPoint.testAccuracy)}` : '';
    return { state: 'completed', how: `completed · ${count(r.epochsCompleted) ?? lastEpoch} epochs · test loss ${formatNumber(lastPoint?.testLoss)}${acc}` };
  }
  if (status === 'cancelled') return { state: 'cancelled', how: `cancelled after epoch ${lastEpoch}` };
  if (status === 'failed') return { state: 'failed', how: `failed${text(r.error, 300) ? `: ${text(r.error, 300)}` : ''}` };
  // run.json still says running: the process that trained it is gone (reload, crash).
  if (status === 'running' || status === undefined) return { state: 'cancelled', how: `interrupted after epoch ${lastEpoch}` };
  return { state: 'cancelled', how: `status "${status}" after epoch ${lastEpoch}` };
}

/**
 * A run folder's files as a finished run, or undefined when run.json is not a
 * Landscape run (unreadable, or no config object: other tools write run.json
 * files too). Unreadable metrics lines are skipped and counted; a torn last
 * line is expected and not reported.
 */
export function finishedRun(runDir: string, runJsonText: string, metricsText: string, opts: LastRunOptions = {}): FinishedRun | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(runJsonText);
  } catch {
    return undefined;
  }
  const r = obj(parsed);
  const cfg = obj(r.config);
  if (typeof r.config !== 'object' || r.config === null || Array.isArray(r.config)) return undefined;
  const model = obj(r.model);
  const ds = obj(r.dataset);
  const { points, stability, skipped } = parseMetrics(wholeLines(metricsText, Boolean(opts.metricsStartsMidLine)));

  const lastPoint = points[points.length - 1];
  const epochs = count(cfg.epochs) ?? count(r.epochsCompleted) ?? lastPoint?.epoch ?? 0;
  const lastEpoch = lastPoint?.epoch ?? count(r.epochsCompleted) ?? 0;
  const { state, how } = finishedState(r, lastPoint, lastEpoch);
  const notes: string[] = [];
  if (opts.metricsStartsMidLine) notes.push('latest epochs only');
  if (skipped) notes.push(`${skipped} unreadable metrics line${skipped === 1 ? '' : 's'} skipped`);

  const listed = Array.isArray(r.checkpoints) ? r.checkpoints.slice(0, 2000) : [];
  const checkpoints = [...listed, r.best].map((c) => checkpointRef(runDir, c)).filter((c): c is CheckpointRef => c !== undefined);
  const dataset = text(ds.id) ?? text(cfg.dataset) ?? '?';
  const spec = text(model.spec) ?? text(cfg.model) ?? '?';
  const optimizer = text(cfg.optimizer, 40) ?? '?';
  return {
    runDir,
    label: `${dataset} · ${spec} · ${optimizer}`,
    points,
    checkpoints,
    status: { state, text: `last run: ${path.basename(runDir)} · ${how}${notes.length ? ` (${notes.join('; ')})` : ''}`, epoch: lastEpoch, epochs },
    stability,
  };
}

async function readCapped(file: string, max: number, tail: boolean): Promise<{ text: string; cut: boolean } | undefined> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(file, 'r');
    const size = (await fh.stat()).size;
    if (size > max && !tail) return undefined;
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, size - n);
    return { text: buf.subarray(0, bytesRead).toString('utf8'), cut: size > max };
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function mtimeOf(file: string): Promise<number | undefined> {
  try {
    return (await fs.promises.stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Run folders directly under `runsRoot`, newest first (by the later of run.json's and metrics.jsonl's times). */
async function runFoldersByAge(runsRoot: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(runsRoot, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).slice(0, MAX_RUN_DIRS);
  } catch {
    return [];
  }
  const dated: { dir: string; t: number }[] = [];
  for (const n of names) {
    const dir = path.join(runsRoot, n);
    const t = await mtimeOf(path.join(dir, 'run.json'));
    if (t === undefined) continue;
    dated.push({ dir, t: Math.max(t, (await mtimeOf(path.join(dir, 'metrics.jsonl'))) ?? 0) });
  }
  return dated.sort((a, b) => b.t - a.t).map((d) => d.dir);
}

/**
 * The newest run folder directly under `runsRoot` as a finished run;
 * undefined when there is none or none of the newest few can be read.
 */
export async function readNewestRun(runsRoot: string, maxMetricsBytes = LAST_RUN_MAX_METRICS_BYTES): Promise<FinishedRun | undefined> {
  for (const dir of (await runFoldersByAge(runsRoot)).slice(0, MAX_TRIES)) {
    const runJson = await readCapped(path.join(dir, 'run.json'), MAX_RUN_JSON_BYTES, false);
    if (!runJson) continue;
    const metrics = (await readCapped(path.join(dir, 'metrics.jsonl'), maxMetricsBytes, true)) ?? { text: '', cut: false };
    const run = finishedRun(dir, runJson.text, metrics.text, { metricsStartsMidLine: metrics.cut });
    if (run) return run;
  }
  return undefined;
}
