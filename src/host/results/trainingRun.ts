/** The "training run" result: a run folder's curves (metrics.jsonl), summary (run.json) and checkpoints. */
import * as fs from 'fs';
import * as path from 'path';
import type { CheckpointRef } from '../../protocol';
import { inputError } from '../../engine/errors';
import { trainingRunResult } from '../../engine/train/runFolderView';
import { readJsonFile } from '../workspaceRuns';
import type { ResultKindHost } from './index';

const MAX_METRICS_BYTES = 200 * 1024 * 1024;

function listCheckpoints(runDir: string): CheckpointRef[] {
  const out: CheckpointRef[] = [];
  const add = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) if (n.endsWith('.safetensors')) out.push({ path: path.join(dir, n), label: rel ? `${rel}/${n}` : n });
  };
  add(runDir, '');
  add(path.join(runDir, 'checkpoints'), 'checkpoints');
  const rank = (l: string) => (l === 'final.safetensors' ? 0 : l === 'best.safetensors' ? 1 : 2);
  return out.sort((a, b) => rank(a.label) - rank(b.label) || a.label.localeCompare(b.label));
}

export const trainingRunKind: ResultKindHost<'trainingRun'> = {
  kind: 'trainingRun',
  title: (file) => `Run ${path.basename(path.dirname(file))}`,
  async load(file) {
    const runJson = readJsonFile(file);
    if (runJson === undefined) throw inputError('cannot read run.json (missing, too large or not JSON)', file);
    const metricsFile = path.join(path.dirname(file), 'metrics.jsonl');
    let metrics = '';
    try {
      if (fs.statSync(metricsFile).size > MAX_METRICS_BYTES) throw inputError(`metrics.jsonl is larger than ${MAX_METRICS_BYTES} bytes`, metricsFile);
      metrics = fs.readFileSync(metricsFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const data = trainingRunResult(file, runJson, metrics, listCheckpoints(path.dirname(file)));
    return { title: `Run ${path.basename(path.dirname(file))}`, data };
  },
};
