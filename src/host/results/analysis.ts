/**
 * Analysis results (kernel PCA, Hessian spectrum, gradient check, slice),
 * read from disk: the extension's own files, or the JSON the CLI wrote with
 * --out, converted as is (nothing is recomputed either way).
 */
import * as path from 'path';
import { inputError } from '../../engine/errors';
import { analysisFromJson, readAnalysisResult, type AnalysisData, type AnalysisKind } from '../analysisFiles';
import { readJsonResult, resultKindOf } from '../cliResults';
import { workspaceRoots } from '../workspace';
import type { ResultKindHost } from './index';

const NAMES: Record<AnalysisKind, string> = { kpca: 'Kernel PCA', hessian: 'Hessian', gradcheck: 'Gradient check', slice: 'Slice' };

function titleOf(d: AnalysisData): string {
  switch (d.kind) {
    case 'kpca':
      return `Kernel PCA (${d.points.length} checkpoints)`;
    case 'hessian':
      return `Hessian ${d.checkpoint.label}`;
    case 'gradcheck':
      return `Gradient check ${d.checkpoint.label}`;
    case 'slice':
      return `Slice ${d.checkpoints[0]?.label ?? ''} (${d.sliceKind})`;
  }
}

export function analysisKind<K extends AnalysisKind>(kind: K): ResultKindHost<K> {
  return {
    kind,
    title: (file) => `${NAMES[kind]} ${path.basename(file).replace(/\.json$/i, '')}`,
    async load(file) {
      const doc = readJsonResult(file);
      const found = resultKindOf(doc, file);
      if (found !== kind) throw inputError(`holds a ${found} result, not ${NAMES[kind].toLowerCase()}`, file);
      const data = (
        'landscapeResult' in doc
          ? readAnalysisResult(file, kind).data
          : analysisFromJson(doc, { file, roots: workspaceRoots(), writtenBy: `landscape ${kind} (${path.basename(file)})` })
      ) as Extract<AnalysisData, { kind: K }>;
      return { title: titleOf(data), data };
    },
  };
}
