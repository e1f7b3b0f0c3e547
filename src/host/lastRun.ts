/**
 * The side view's charts after a window reload. The live series lives only in
 * the extension host's memory, so a reload would leave the panel empty although
 * the last run's folder (run.json + metrics.jsonl) is on disk. When nothing is
 * live, the most recently modified run folder is read back and shown as a
 * finished run.
 *
 * `lastRunSnapshot` is pure (file texts in, a LiveRun out); `readLastRun` does
 * the bounded file reading. No vscode, no tfjs.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { CheckpointRef, LiveRun, RunState } from '../protocol';
import { parseMetrics } from './runScan';
import { checkpointLabel, formatNumber, formatPercent, upsertCheckpoints } from './runStore';

/** More than this of metrics.jsonl is not read: the newest part is kept (about 80 000 epoch lines). */
export const LAST_RUN_MAX_METRICS_BYTES = 16 * 1024 * 1024;
const MAX_RUN_JSON_BYTES = 5 * 1024 * 1024;
/** Run folders looked at in the runs folder, and how many of the newest are tried. */
const MAX_RUN_DIRS = 2000;
const MAX_TRIES = 5;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface LastRunOptions {
  /**
   * The metrics text is the tail of a larger file: its first line is a piece of
   * a line and is dropped, not counted as damage.
   */
  metricsStartsMidLine?: boolean;
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

/**
 * A run folder's files as a finished run for the side view, or undefined when
 * run.json is not a Landscape run (unreadable, or no config object: other
 * tools write run.json files too). Unreadable metrics lines are skipped; a torn
 * last line (the host died while appending) is expected and not reported.
 * The status never says "done": that word belongs to a live run completing.
 */
export function lastRunSnapshot(runDir: string, runJsonText: string, metricsText: string, opts: LastRunOptions = {}): LiveRun | undefined {
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
  const name = path.basename(runDir);

  let metrics = metricsText;
  if (opts.metricsStartsMidLine) {
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
  const { points, stability, skipped } = parseMetrics(metrics);

  const lastPoint = points[points.length - 1];
  const epochs = count(cfg.epochs) ?? count(r.epochsCompleted) ?? lastPoint?.epoch ?? 0;
  const lastEpoch = lastPoint?.epoch ?? count(r.epochsCompleted) ?? 0;
  const status = text(r.status, 40);
  let state: Extract<RunState, 'completed' | 'failed' | 'cancelled'>;
  let how: string;
  if (status === 'completed') {
    state = 'completed';
    const acc = lastPoint?.testAccuracy !== undefined ? ` · test accuracy ${formatPercent(lastPoint.testAccuracy)}` : '';
    how = `completed · ${count(r.epochsCompleted) ?? lastEpoch} epochs · test loss ${formatNumber(lastPoint?.testLoss)}${acc}`;
  } else if (status === 'cancelled') {
    state = 'cancelled';
    how = `cancelled after epoch ${lastEpoch}`;
  } else if (status === 'failed') {
    state = 'failed';
    how = `failed${text(r.error, 300) ? `: ${text(r.error, 300)}` : ''}`;
  } else if (status === 'running' || status === undefined) {
    // run.json still says running: the process that trained it is gone (reload, crash).
    state = 'cancelled';
    how = `interrupted after epoch ${lastEpoch}`;
  } else {
    state = 'cancelled';
    how = `status "${status}" after epoch ${lastEpoch}`;
  }
  const notes: string[] = [];
  if (opts.metricsStartsMidLine) notes.push('latest epochs only');
  if (skipped) notes.push(`${skipped} unreadable metrics line${skipped === 1 ? '' : 's'} skipped`);

  const listed = Array.isArray(r.checkpoints) ? r.checkpoints.slice(0, 2000) : [];
  const refs = [...listed, r.best].map((c) => checkpointRef(runDir, c)).filter((c): c is CheckpointRef => c !== undefined);

  const dataset = text(ds.id) ?? text(cfg.dataset) ?? '?';
  const spec = text(model.spec) ?? text(cfg.model) ?? '?';
  const optimizer = text(cfg.optimizer, 40) ?? '?';
  return {
    runId: `last:${runDir}`,
    runDir,
    label: `${dataset} · ${spec} · ${optimizer}`,
    points,
    checkpoints: upsertCheckpoints([], refs),
    status: { state, text: `last run: ${name} · ${how}${notes.length ? ` (${notes.join('; ')})` : ''}`, epoch: lastEpoch, epochs },
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

/**
 * The newest run folder directly under `runsRoot` (by the later of run.json's
 * and metrics.jsonl's modification times) as a finished run; undefined when
 * there is none or none of the newest few can be read.
 */
export async function readLastRun(runsRoot: string, maxMetricsBytes = LAST_RUN_MAX_METRICS_BYTES): Promise<LiveRun | undefined> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(runsRoot, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).slice(0, MAX_RUN_DIRS);
  } catch {
    return undefined;
  }
  const dated: { dir: string; t: number }[] = [];
  for (const n of names) {
    const dir = path.join(runsRoot, n);
    const t = await mtimeOf(path.join(dir, 'run.json'));
    if (t === undefined) continue;
    dated.push({ dir, t: Math.max(t, (await mtimeOf(path.join(dir, 'metrics.jsonl'))) ?? 0) });
  }
  dated.sort((a, b) => b.t - a.t);
  for (const { dir } of dated.slice(0, MAX_TRIES)) {
    const runJson = await readCapped(path.join(dir, 'run.json'), MAX_RUN_JSON_BYTES, false);
    if (!runJson) continue;
    const metrics = (await readCapped(path.join(dir, 'metrics.jsonl'), maxMetricsBytes, true)) ?? { text: '', cut: false };
    const snap = lastRunSnapshot(dir, runJson.text, metrics.text, { metricsStartsMidLine: metrics.cut });
    if (snap) return snap;
  }
  return undefined;
}
