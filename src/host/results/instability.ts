/** The instability analysis result (`<folder>/instability.json`, from `landscape instability` or the extension's command). */
import * as path from 'path';
import { inputError } from '../../engine/errors';
import { InstabilitySchema, INSTABILITY_FORMAT_VERSION } from '../../results/instability';
import { readJsonResult } from '../../results/resultKind';
import { validate } from '../../schema';
import type { ResultKindHost } from './index';

export const instabilityKind: ResultKindHost<'instability'> = {
  kind: 'instability',
  title: (file) => `Instability ${path.basename(path.dirname(file))}`,
  async load(file) {
    const doc = readJsonResult(file);
    if (typeof doc.formatVersion === 'number' && doc.formatVersion > INSTABILITY_FORMAT_VERSION) {
      throw inputError(`was written by a newer Landscape (instability format ${doc.formatVersion}; this one reads up to ${INSTABILITY_FORMAT_VERSION})`, file);
    }
    const v = validate(InstabilitySchema, doc, 'instability');
    if (!v.ok) throw inputError(`is not an instability analysis: ${v.error}`, file);
    return { title: `Instability of ${v.value.model} on ${v.value.dataset.name}`, data: v.value };
  },
};
