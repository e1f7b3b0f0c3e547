/**
 * Barrier results: one path (<A>__<B>.path.json) and all pairs (barriers.json),
 * read from disk in any of their formats (the CLI's and the extension's, 0.1.0
 * on). A path without its plane drawing (the CLI does not draw it) gets it
 * from a worker job, from the saved coefficients or band and the two
 * checkpoints (the path is not searched again).
 */
import * as path from 'path';
import { readBarrierResult } from '../../results/barrierFiles';
import type { JobRunner } from '../jobs';
import { pathSettings } from '../settings';
import { workspaceRoots } from '../workspace';
import type { ResultKindHost } from './index';
import type { BarrierPath } from '../../results/path';

/** Whether the worker can draw a path's plane: it needs both checkpoints and the path's points (the straight line needs none). */
function drawable(d: BarrierPath): boolean {
  return d.a !== undefined && d.b !== undefined && (d.method === 'linear' || d.images !== undefined || (d.coefficients?.length ?? 0) > 0);
}

export function barrierPathKind(jobs: JobRunner): ResultKindHost<'barrierPath'> {
  return {
    kind: 'barrierPath',
    title: (file) => `Barrier ${path.basename(file).replace(/\.path\.json$/i, '').replace('__', ' ↔ ')}`,
    async load(file) {
      let data = readBarrierResult(file, 'barrierPath', workspaceRoots()).data;
      if (!data.plane && drawable(data)) {
        const job = jobs.start(
          { kind: 'importPath', file, roots: workspaceRoots(), planeGrid: pathSettings().planeGrid },
          { title: `Landscape: drawing ${path.basename(file)}`, progress: 'window' },
        );
        data = await job.result;
      }
      // The coefficients and images are for kernel PCA overlays and drawing; the panel draws from the profile and the plane.
      const { coefficients: _c, images: _i, ...shown } = data;
      return { title: `Barrier ${data.labelA} ↔ ${data.labelB}`, data: shown };
    },
  };
}

export const barrierMatrixKind: ResultKindHost<'barrierMatrix'> = {
  kind: 'barrierMatrix',
  title: (file) => `Barriers in ${path.basename(path.dirname(file))}`,
  async load(file) {
    const data = readBarrierResult(file, 'barrierMatrix', workspaceRoots()).data;
    return { title: `Barriers in ${path.basename(path.dirname(file))} (${data.files.length} minima)`, data };
  },
};
