/** Barrier results: one path (<A>__<B>.path.json) and all pairs (barriers.json), read from disk. */
import * as path from 'path';
import { inputError } from '../../engine/errors';
import { readBarrierResult } from '../barrierFiles';
import type { ResultKindHost } from './index';

export const barrierPathKind: ResultKindHost<'barrierPath'> = {
  kind: 'barrierPath',
  title: (file) => `Barrier ${path.basename(file).replace(/\.path\.json$/i, '').replace('__', ' ↔ ')}`,
  async load(file) {
    const r = readBarrierResult(file);
    if (r.data.kind !== 'barrierPath') throw inputError(`holds a ${r.data.kind} result, not one path`, file);
    return { title: `Barrier ${r.data.a.label} ↔ ${r.data.b.label}`, data: r.data };
  },
};

export const barrierMatrixKind: ResultKindHost<'barrierMatrix'> = {
  kind: 'barrierMatrix',
  title: (file) => `Barriers in ${path.basename(path.dirname(file))}`,
  async load(file) {
    const r = readBarrierResult(file);
    if (r.data.kind !== 'barrierMatrix') throw inputError(`holds a ${r.data.kind} result, not all-pairs barriers`, file);
    return { title: `Barriers in ${path.basename(path.dirname(file))} (${r.data.minima.length} minima)`, data: r.data };
  },
};
