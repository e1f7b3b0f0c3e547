/**
 * Turns what a workspace scan found (run.json files, checkpoints) into the
 * runs list of the side view. Pure: file contents come in parsed, and every
 * field is treated as untrusted (a workspace can hold anything). Reading a
 * run folder itself is src/engine/train/runFolderView.ts, beside the code
 * that writes it.
 */
import * as path from 'path';
import type { CheckpointRef, RunEntry, RunsList } from '../protocol';
import { MAX_METRICS_POINTS, obj, summarizeRun } from '../engine/train/runFolderView';

export const SCAN_LIMITS = { runs: 500, checkpoints: 2000, pointsPerRun: MAX_METRICS_POINTS } as const;

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
