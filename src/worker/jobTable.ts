/**
 * Every job the compute worker runs, as one table: the kind, the check of
 * its request (the host built it, but it crossed a thread boundary as plain
 * data) and the engine call that answers it. Adding a job is adding a row;
 * the types make its request, its events and its result agree.
 */
import type { JobEvents, JobKind, JobRequest, JobResults } from './protocol';
import { evaluate, inspect, probe } from './checkpointJobs';
import { studyJob, trainJob } from './streamJobs';
import { runInstabilityJob } from './instabilityJob';
import { importCliPath, runBarriersJob, runPathJob } from './barriers';
import { runGradcheckJob, runHessianJob, runKpcaJob, runKpcaOverlayJob, runSliceJob, runTrajectorySliceJob } from './analysis';

export type JobRequestOf<K extends JobKind> = Extract<JobRequest, { kind: K }>;

/** What a job gets from the thread it runs on. */
export interface JobContext<K extends JobKind> {
  /** The landscape.backend setting ('auto' lets the engine choose). */
  backend: string;
  /** The landscape.queue setting, when set: barrier pairs and the study's runs and paths go to its workers. */
  queue?: string;
  signal: AbortSignal;
  emit(event: JobEvents[K]): void;
  /** A line for the Landscape log (the worker's stdout goes there). */
  log(line: string): void;
}

export interface JobHandler<K extends JobKind> {
  /** Checks the request's shape; the engine checks the values. */
  check(req: Record<string, unknown>): JobRequestOf<K>;
  run(req: JobRequestOf<K>, ctx: JobContext<K>): Promise<JobResults[K]>;
}

/** The type of one request field: 'strings' is a string array; a trailing '?' makes it optional. */
type FieldType = 'string' | 'number' | 'boolean' | 'strings' | 'numbers' | 'object';
type Shape = Record<string, FieldType | `${FieldType}?`>;

function hasType(v: unknown, t: FieldType): boolean {
  if (t === 'strings') return Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (t === 'numbers') return Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof v === t;
}

function shaped<K extends JobKind>(kind: K, shape: Shape): (req: Record<string, unknown>) => JobRequestOf<K> {
  return (req) => {
    for (const [field, spec] of Object.entries(shape)) {
      const optional = spec.endsWith('?');
      const t = (optional ? spec.slice(0, -1) : spec) as FieldType;
      const v = req[field];
      if (optional && v === undefined) continue;
      if (!hasType(v, t)) throw new Error(`malformed ${kind} job request: "${field}" must be ${optional ? 'absent or ' : ''}a ${t === 'strings' ? 'list of strings' : t === 'numbers' ? 'list of numbers' : t}`);
    }
    return req as JobRequestOf<K>;
  };
}

export const JOBS: { [K in JobKind]: JobHandler<K> } = {
  train: { check: shaped('train', { config: 'object' }), run: (req, ctx) => trainJob(req.config, ctx) },
  inspect: { check: shaped('inspect', { file: 'string' }), run: (req) => inspect(req.file) },
  evaluate: { check: shaped('evaluate', { file: 'string' }), run: (req, ctx) => evaluate(req.file, ctx.backend) },
  probe: { check: shaped('probe', {}), run: (_req, ctx) => probe(ctx.backend) },
  path: { check: shaped('path', { a: 'string', b: 'string', out: 'string', settings: 'object' }), run: runPathJob },
  barriers: { check: shaped('barriers', { files: 'strings', folder: 'string', out: 'string', selection: 'string', settings: 'object' }), run: runBarriersJob },
  study: { check: shaped('study', { out: 'string', preset: 'string' }), run: studyJob },
  importPath: { check: shaped('importPath', { file: 'string', roots: 'strings', planeGrid: 'number' }), run: importCliPath },
  kpca: { check: shaped('kpca', { files: 'strings', out: 'string', settings: 'object' }), run: runKpcaJob },
  kpcaOverlay: { check: shaped('kpcaOverlay', { file: 'string', source: 'string', input: 'string', roots: 'strings' }), run: runKpcaOverlayJob },
  hessian: { check: shaped('hessian', { file: 'string', out: 'string', k: 'number', traceSamples: 'number', lr: 'number?', density: 'boolean?', perLayer: 'boolean?' }), run: runHessianJob },
  gradcheck: { check: shaped('gradcheck', { file: 'string', out: 'string' }), run: runGradcheckJob },
  slice: { check: shaped('slice', { slice: 'string', files: 'strings', out: 'string', points: 'number' }), run: runSliceJob },
  instability: { check: shaped('instability', { train: 'object', spawnEpochs: 'numbers', children: 'number', out: 'string' }), run: runInstabilityJob },
  trajectorySlice: { check: shaped('trajectorySlice', { run: 'string', out: 'string', points: 'number' }), run: runTrajectorySliceJob },
};

/** Runs `request` through its row of the table. */
export async function runJob<K extends JobKind>(request: JobRequestOf<K> | { kind: string }, ctx: JobContext<K>): Promise<JobResults[K]> {
  const kind = request.kind;
  if (!Object.prototype.hasOwnProperty.call(JOBS, kind)) throw new Error(`unknown job kind "${kind}"`);
  const handler = JOBS[kind as K] as JobHandler<K>;
  return handler.run(handler.check(request as unknown as Record<string, unknown>), ctx);
}
