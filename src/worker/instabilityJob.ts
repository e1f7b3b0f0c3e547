/**
 * The extension's instability analysis: `landscape instability` on the
 * workspace's experiment, in a worker thread, with progress per run and per
 * spawn epoch. The engine writes `<out>/instability.json`, which the result
 * panel opens.
 */
import { initBackend } from '../engine/backend';
import { inputError } from '../engine/errors';
import * as path from 'path';
import { INSTABILITY_FILE, runInstability, type ParentTrainOptions } from '../engine/instability';
import { formatNumber } from '../protocol';
import type { AnalysisJobEvent, AnalysisJobResult, JobRequest } from './protocol';

interface InstabilityContext {
  backend: string;
  signal: AbortSignal;
  emit(e: AnalysisJobEvent): void;
}

export async function runInstabilityJob(req: Extract<JobRequest, { kind: 'instability' }>, ctx: InstabilityContext): Promise<AnalysisJobResult> {
  if (!Array.isArray(req.spawnEpochs) || !req.spawnEpochs.every((k) => Number.isInteger(k))) throw inputError('the spawn epochs must be whole numbers');
  const info = await initBackend(ctx.backend);
  const train = { ...(req.train as unknown as ParentTrainOptions), backend: info.name };
  const runs = 1 + req.spawnEpochs.length * req.children;
  ctx.emit({ type: 'setup', backend: info.name, dataset: String(train.dataset), text: `${info.name} backend · parent and ${runs - 1} children · spawn epochs ${req.spawnEpochs.join(', ')}` });
  const it = runInstability({ train, spawnEpochs: req.spawnEpochs, children: req.children, out: req.out, signal: ctx.signal });
  let done = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      const res = r.value;
      const first = res.firstStableEpoch;
      const summary = first === null ? 'no spawn epoch is stable (every one has a barrier above the threshold)' : `stable from spawn epoch ${first} (barrier at most ${formatNumber(res.config.threshold)} × the loss)`;
      return { file: path.join(req.out, INSTABILITY_FILE), summary, seconds: res.seconds, result: res };
    }
    const e = r.value;
    if (e.type === 'run') ctx.emit({ type: 'progress', text: `${e.reused ? 'reused' : 'trained'} ${e.run}`, done: ++done, total: runs });
    if (e.type === 'spawn-done') ctx.emit({ type: 'progress', text: `spawn epoch ${e.spawn.epoch}: barrier ${formatNumber(e.spawn.straight.max)}`, done, total: runs });
  }
}
