/**
 * Analysis results (kernel PCA, Hessian spectrum, gradient check, slice),
 * read from disk: the extension's own files, or the JSON the CLI wrote with
 * --out, read by the same reader (nothing is recomputed either way).
 */
import * as path from 'path';
import { readAnalysisResult, type AnalysisData, type AnalysisKind } from '../analysisFiles';
import { workspaceRoots } from '../workspace';
import type { ResultKindHost } from './index';

const NAMES: Record<AnalysisKind, string> = { kpca: 'Kernel PCA', hessian: 'Hessian', gradcheck: 'Gradient check', slice: 'Slice' };

function titleOf(d: AnalysisData): string {
  switch (d.kind) {
    case 'kpca':
      return `Kernel PCA (${d.points.length} checkpoints)`;
    case 'hessian':
      return `Hessian ${d.label}`;
    case 'gradcheck':
      return `Gradient check ${d.label}`;
    case 'slice':
      return `Slice ${d.label} (${d.request.kind})`;
  }
}

export function analysisKind<K extends AnalysisKind>(kind: K): ResultKindHost<K> {
  return {
    kind,
    title: (file) => `${NAMES[kind]} ${path.basename(file).replace(/\.json$/i, '')}`,
    async load(file) {
      const data = readAnalysisResult(file, kind, workspaceRoots()).data;
      return { title: titleOf(data), data };
    },
  };
}
