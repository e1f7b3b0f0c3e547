/**
 * Barrier results: one path (<A>__<B>.path.json) and all pairs (barriers.json),
 * read from disk. Files the CLI wrote (landscape path / barriers --out) open
 * in the same panels: the matrix converts as is, a path gets its plane drawn
 * by a worker job from the saved coefficients (the path is not searched again).
 */
import * as path from 'path';
import { inputError } from '../../engine/errors';
import { readBarrierResult } from '../barrierFiles';
import { barrierMatrixFromCli, readJsonResult, resultKindOf } from '../cliResults';
import type { JobRunner } from '../jobs';
import { pathSettings } from '../settings';
import { workspaceRoots } from '../workspace';
import type { ResultKindHost } from './index';

/** Whether a file is one of ours (a saved panel result) rather than the CLI's JSON. */
function isPanelResult(doc: Record<string, unknown>): boolean {
  return 'landscapeResult' in doc;
}

export function barrierPathKind(jobs: JobRunner): ResultKindHost<'barrierPath'> {
  return {
    kind: 'barrierPath',
    title: (file) => `Barrier ${path.basename(file).replace(/\.path\.json$/i, '').replace('__', ' ↔ ')}`,
    async load(file) {
      const doc = readJsonResult(file);
      if (resultKindOf(doc, file) !== 'barrierPath') throw inputError('holds another kind of result, not one path', file);
      let data;
      if (isPanelResult(doc)) {
        const r = readBarrierResult(file);
        if (r.data.kind !== 'barrierPath') throw inputError(`holds a ${r.data.kind} result, not one path`, file);
        // The coefficients are for kernel PCA overlays; the panel draws from the profile and the plane.
        const { coefficients: _kept, ...shown } = r.data;
        data = shown;
      } else {
        const job = jobs.start(
          { kind: 'importPath', file, roots: workspaceRoots(), planeGrid: pathSettings().planeGrid },
          { title: `Landscape: drawing ${path.basename(file)}`, progress: 'window' },
        );
        data = await job.result;
      }
      return { title: `Barrier ${data.a.label} ↔ ${data.b.label}`, data };
    },
  };
}

export const barrierMatrixKind: ResultKindHost<'barrierMatrix'> = {
  kind: 'barrierMatrix',
  title: (file) => `Barriers in ${path.basename(path.dirname(file))}`,
  async load(file) {
    const doc = readJsonResult(file);
    if (resultKindOf(doc, file) !== 'barrierMatrix') throw inputError('holds another kind of result, not all-pairs barriers', file);
    let data;
    if (isPanelResult(doc)) {
      const r = readBarrierResult(file);
      if (r.data.kind !== 'barrierMatrix') throw inputError(`holds a ${r.data.kind} result, not all-pairs barriers`, file);
      data = r.data;
    } else {
      data = barrierMatrixFromCli(doc, file, workspaceRoots());
    }
    return { title: `Barriers in ${path.basename(path.dirname(file))} (${data.minima.length} minima)`, data };
  },
};
