/**
 * A run folder read back for display: run.json and metrics.jsonl as the
 * panels show them. It lives beside runFolder.ts, which writes these files,
 * so their format has one owner. Pure: file contents come in as strings or
 * parsed JSON, and every field is treated as untrusted (a workspace can hold
 * anything, other tools write run.json files too).
 */
import * as path from 'path';
import { formatNumber, formatPercent } from '../../format';
import { LIMITS } from '../../schema';
import { EpochPointSchema, StabilityPointSchema, STABILITY_VERDICTS, type CheckpointRef, type EpochPoint, type StabilityPoint } from '../../results/shapes';
import type { TrainingRunData } from '../../results/trainingRun';

/** More epoch points than this in one metrics.jsonl are skipped. */
export const MAX_METRICS_POINTS = 1_000_000;

export type Json = Record<string, unknown>;
/** Readers of untrusted JSON fields: anything unexpected becomes {} or undefined. */
export const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
export const text = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);
export const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** How a checkpoint of run.json is labelled in lists: its file name, with kind and epoch unless periodic. */
export function checkpointLabel(file: string, kind: string, epoch: number): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return kind === 'periodic' ? base : `${base} (${kind === 'interrupted' ? 'interrupted, ' : ''}epoch ${epoch})`;
}

/**
 * A stability check (the engine's 'stability' event, or a 'stability' line of
 * metrics.jsonl, both untrusted) as a chart point; undefined when it is not one.
 */
export function toStabilityPoint(ev: unknown): StabilityPoint | undefined {
  if (typeof ev !== 'object' || ev === null) return undefined;
  const o = ev as Record<string, unknown>;
  const p: Record<string, unknown> = {
    epoch: o.epoch,
    step: o.step,
    lambdaMax: o.lambdaMax,
    verdict: typeof o.verdict === 'string' && (STABILITY_VERDICTS as readonly string[]).includes(o.verdict) ? o.verdict : undefined,
    message: typeof o.message === 'string' ? o.message.slice(0, 4096) : '',
  };
  for (const k of ['errorEstimate', 'threshold', 'lr'] as const) if (finite(o[k]) !== undefined) p[k] = o[k];
  return StabilityPointSchema.check(p, 'stability') === null ? (p as StabilityPoint) : undefined;
}

export interface RunSummary {
  label: string;
  detail: string;
  status: string;
  started: string;
  summary: [string, string][];
}

/** What a run.json says, defensively: missing or odd fields become "–". */
export function summarizeRun(runDir: string, runJson: unknown): RunSummary {
  const r = obj(runJson);
  const cfg = obj(r.config);
  const model = obj(r.model);
  const ds = obj(r.dataset);
  const best = obj(r.best);
  const status = text(r.status, 40) ?? 'unknown';
  const epochs = finite(cfg.epochs);
  const done = finite(r.epochsCompleted);
  const dataset = text(ds.id) ?? text(cfg.dataset) ?? '?';
  const spec = text(model.spec) ?? text(cfg.model) ?? '?';
  const optimizer = text(cfg.optimizer, 40) ?? '?';
  const bestLoss = finite(best.testLoss);
  const bestAcc = finite(best.testAccuracy);
  const parts = [dataset, spec, optimizer, `${done ?? '?'}/${epochs ?? '?'} epochs`];
  if (bestLoss !== undefined) parts.push(`best test loss ${formatNumber(bestLoss)}${bestAcc !== undefined ? ` (${formatPercent(bestAcc)})` : ''}`);
  const summary: [string, string][] = [
    ['status', status],
    ['dataset', dataset],
    ['model', `${spec}${text(model.activation, 40) ? ` ${text(model.activation, 40)}` : ''}${model.bias === false ? ' no-bias' : ''}`],
    ['loss', text(model.loss, 40) ?? '–'],
    ['parameters', finite(model.paramCount) !== undefined ? String(finite(model.paramCount)) : '–'],
    ['optimizer', optimizer],
    ['learning rate', finite(cfg.lr) !== undefined ? String(finite(cfg.lr)) : 'optimizer default'],
    ['batch', finite(cfg.batch) !== undefined ? String(finite(cfg.batch)) : '–'],
    ['seed', finite(r.seed) !== undefined ? String(finite(r.seed)) : '–'],
    ['epochs', `${done ?? '?'} of ${epochs ?? '?'}`],
    ['backend', text(r.backend, 40) ?? '–'],
    ['started', text(r.started, 60) ?? '–'],
    ['finished', text(r.finished, 60) ?? '–'],
    ['best test loss', bestLoss !== undefined ? `${formatNumber(bestLoss)} at epoch ${finite(best.epoch) ?? '?'}` : '–'],
    ['best test accuracy', bestAcc !== undefined ? formatPercent(bestAcc) : '–'],
    ['folder', runDir],
  ];
  const err = text(r.error, 2000);
  if (err) summary.push(['error', err]);
  return { label: path.basename(runDir), detail: parts.join(' · '), status, started: text(r.started, 60) ?? '', summary };
}

/**
 * metrics.jsonl lines into chart points and stability checks; other event
 * types are passed over, unreadable lines skipped and counted.
 */
export function parseMetrics(jsonl: string): { points: EpochPoint[]; stability: StabilityPoint[]; skipped: number } {
  const points: EpochPoint[] = [];
  const stability: StabilityPoint[] = [];
  let skipped = 0;
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const o = obj(v);
    if (o.type === 'stability') {
      const p = toStabilityPoint(o);
      if (p && stability.length < LIMITS.list) stability.push(p);
      else skipped++;
      continue;
    }
    // Other event lines are not curve points, and not damage either.
    if (typeof o.type === 'string' && o.type !== 'epoch') continue;
    const p: Record<string, unknown> = {};
    for (const k of Object.keys(EpochPointSchema.shape)) if (o[k] !== undefined && o[k] !== null) p[k] = o[k];
    if (EpochPointSchema.check(p, 'point') !== null || points.length >= MAX_METRICS_POINTS) {
      skipped++;
      continue;
    }
    points.push(p as EpochPoint);
  }
  return { points, stability, skipped };
}

/** A run folder (its run.json, metrics.jsonl and checkpoints) as the training-run panel shows it. */
export function trainingRunResult(runJsonPath: string, runJson: unknown, metricsText: string, checkpoints: CheckpointRef[]): TrainingRunData {
  const runDir = path.dirname(runJsonPath);
  const s = summarizeRun(runDir, runJson);
  const { points, stability, skipped } = parseMetrics(metricsText);
  const summary = s.summary.slice();
  if (skipped) summary.push(['metrics', `${skipped} unreadable line${skipped === 1 ? '' : 's'} in metrics.jsonl skipped`]);
  return { kind: 'trainingRun', runDir, status: s.status, summary, points, checkpoints, ...(stability.length ? { stability } : {}) };
}
