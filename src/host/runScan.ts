/**
 * Turns what a workspace scan found (run.json files, checkpoints) into the
 * runs list of the side view, and a run folder into the data of its result
 * panel. Pure: file contents come in as strings or parsed JSON, and every
 * field is treated as untrusted (a workspace can hold anything).
 */
import * as path from 'path';
import { EpochPointSchema, type CheckpointRef, type EpochPoint, type ResultData, type RunEntry, type RunsList } from '../protocol';
import { formatNumber, formatPercent, toStabilityPoint } from './runStore';
import { type StabilityPoint } from '../protocol';
import { LIMITS } from '../schema';

export const SCAN_LIMITS = { runs: 500, checkpoints: 2000, pointsPerRun: 1_000_000 } as const;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

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

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel.length > 0 && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** final, best, then the periodic ones in order; others by name. */
function checkpointOrder(rel: string): string {
  const base = path.basename(rel);
  if (base === 'final.safetensors') return '0';
  if (base === 'best.safetensors') return '1';
  return `2${rel}`;
}

export interface ScanInput {
  root: string;
  runJsonFiles: readonly string[];
  checkpointFiles: readonly string[];
  /** Parsed run.json, or undefined when it cannot be read. */
  readRunJson: (file: string) => unknown;
  truncated?: boolean;
}

export function buildRunsList(input: ScanInput): RunsList {
  const runJsonFiles = input.runJsonFiles.slice(0, SCAN_LIMITS.runs);
  const ckpts = [...new Set(input.checkpointFiles)].slice(0, SCAN_LIMITS.checkpoints);
  const runs: (RunEntry & { started: string })[] = [];
  const claimed = new Set<string>();
  // Deepest run folders first, so a checkpoint belongs to its nearest run.
  const byDepth = [...runJsonFiles].sort((a, b) => b.length - a.length);
  for (const runJson of byDepth) {
    const runDir = path.dirname(runJson);
    const parsed = input.readRunJson(runJson);
    // Other tools write run.json files too; ours always carry a config object.
    if (typeof obj(parsed).config !== 'object' || obj(parsed).config === null) continue;
    const s = summarizeRun(runDir, parsed);
    const mine: CheckpointRef[] = [];
    for (const c of ckpts) {
      if (claimed.has(c) || !isInside(runDir, c)) continue;
      claimed.add(c);
      const rel = path.relative(runDir, c).split(path.sep).join('/');
      mine.push({ path: c, label: rel });
    }
    mine.sort((a, b) => checkpointOrder(a.label).localeCompare(checkpointOrder(b.label)));
    runs.push({ runDir, runJson, label: s.label, detail: s.detail, status: s.status, checkpoints: mine, started: s.started });
  }
  runs.sort((a, b) => b.started.localeCompare(a.started) || b.label.localeCompare(a.label));
  const others = ckpts
    .filter((c) => !claimed.has(c))
    .map((c) => ({ path: c, label: path.relative(input.root, c).split(path.sep).join('/') || path.basename(c) }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return {
    runs: runs.map(({ started: _s, ...r }) => r),
    others,
    truncated: Boolean(input.truncated) || input.runJsonFiles.length > runJsonFiles.length || input.checkpointFiles.length > SCAN_LIMITS.checkpoints,
  };
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
    if (EpochPointSchema.check(p, 'point') !== null || points.length >= SCAN_LIMITS.pointsPerRun) {
      skipped++;
      continue;
    }
    points.push(p as EpochPoint);
  }
  return { points, stability, skipped };
}

export function trainingRunResult(runJsonPath: string, runJson: unknown, metricsText: string, checkpoints: CheckpointRef[]): Extract<ResultData, { kind: 'trainingRun' }> {
  const runDir = path.dirname(runJsonPath);
  const s = summarizeRun(runDir, runJson);
  const { points, stability, skipped } = parseMetrics(metricsText);
  const summary = s.summary.slice();
  if (skipped) summary.push(['metrics', `${skipped} unreadable line${skipped === 1 ? '' : 's'} in metrics.jsonl skipped`]);
  return { kind: 'trainingRun', runDir, status: s.status, summary, points, checkpoints, ...(stability.length ? { stability } : {}) };
}
