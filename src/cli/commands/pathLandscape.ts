/**
 * `landscape path --landscape name`: a path on one of the analytic
 * landscapes with known barriers instead of between two checkpoints, so the
 * CLI's defaults can be checked against exact answers (and demonstrated
 * without a network).
 */
import type { Io } from '../output';
import { initBackend } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { findPath, progressSteps, resolvePathOptions } from '../../engine/path/find';
import { analyticLandscape, type AnalyticLandscapeName } from '../../engine/path/landscapes';
import { iterationStatus, pathTaskOptions, printPath, without, writeResultJson } from './path';
import { pathResult } from '../../engine/pathResult';

type Flags = Record<string, string | number | boolean | undefined>;

export async function runOnLandscape(name: AnalyticLandscapeName, positionals: string[], f: Flags, io: Io, signal: AbortSignal): Promise<number> {
  if (positionals.length) throw inputError(`"landscape path --landscape ${name}" takes no checkpoint files (got ${positionals.join(', ')}): the landscape names its two minima`);
  for (const flag of ['batch', 'dataset', 'model'] as const) {
    if (f[flag] !== undefined) throw inputError(`--${flag} applies to checkpoints, not to --landscape ${name}`);
  }
  const options = pathTaskOptions(f);
  const steps = progressSteps(resolvePathOptions(options));
  // The backend first: the stiff landscape makes its basis tensors when it is built.
  const backend = await initBackend(f.backend as string | undefined);
  const land = analyticLandscape(name);
  const started = Date.now();
  if (!f.json) io.err(`landscape path: ${name}, ${land.description}; ${land.objective.dim} parameters`);
  let result;
  try {
    result = await findPath(land.objective, land.a, land.b, { ...options, signal, onIteration: io.tty ? (it) => io.status(iterationStatus(it, steps)) : undefined });
  } finally {
    if (io.tty) io.status('');
  }
  const doc = pathResult(result, { landscape: name, labelA: `${name} A`, labelB: `${name} B`, backend: backend.name, seconds: (Date.now() - started) / 1000 });
  if (f.out !== undefined) writeResultJson(f.out as string, doc);
  if (f.json) {
    io.out(JSON.stringify(f.coefficients ? doc : without(doc, ['coefficients', 'images'])));
    return 0;
  }
  const point = (v: number[]) => (v.length <= 4 ? `(${v.map((x) => x.toFixed(4)).join(', ')})` : `${v.length} parameters`);
  printPath(io, result, `${name} ${point(land.a)}`, `${name} ${point(land.b)}`, false);
  if (f.out !== undefined) io.out(`wrote ${f.out as string}`);
  return 0;
}
