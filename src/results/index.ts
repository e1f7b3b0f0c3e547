/**
 * Every result kind in one place. Each kind's module (path.ts, barriers.ts,
 * kpca.ts, hessian.ts, gradcheck.ts, slice.ts, trainingRun.ts, study.ts)
 * holds its schema, its type (inferred from the schema, so the two cannot
 * drift apart), its format version and its file name. The result panels are
 * sent exactly `ResultData`; reopening a file validates it against the same
 * schema (src/host/analysisFiles.ts, src/results/barrierFiles.ts). For every kind but
 * the training run (kernel PCA, Hessian, gradient check, slice, one path, all
 * pairs) it is also what the engine builds and the CLI writes (format 2).
 *
 * Browser-safe (no Node imports): the protocol and the webviews use it.
 */
import { S, type Infer } from '../schema';
import { BARRIERS_FORMAT_VERSION, BarrierMatrixSchema } from './barriers';
import { GRADCHECK_FORMAT_VERSION, GradcheckSchema } from './gradcheck';
import { HESSIAN_FORMAT_VERSION, HessianSchema } from './hessian';
import { KPCA_FORMAT_VERSION, KpcaSchema } from './kpca';
import { BarrierPathSchema, PATH_FORMAT_VERSION } from './path';
import { SLICE_FORMAT_VERSION, SliceSchema } from './slice';
import { RUN_FORMAT_VERSION, TrainingRunSchema } from './trainingRun';
import { INSTABILITY_FORMAT_VERSION, InstabilitySchema } from './instability';

/** What a result panel shows, one variant per kind. */
export const ResultDataSchema = S.tagged('kind', {
  trainingRun: TrainingRunSchema,
  barrierPath: BarrierPathSchema,
  barrierMatrix: BarrierMatrixSchema,
  kpca: KpcaSchema,
  hessian: HessianSchema,
  gradcheck: GradcheckSchema,
  slice: SliceSchema,
  instability: InstabilitySchema,
});
export type ResultData = Infer<typeof ResultDataSchema>;
export type ResultKind = ResultData['kind'];
export const RESULT_KINDS = Object.keys(ResultDataSchema.variants) as ResultKind[];
export type ResultOf<K extends ResultKind> = Extract<ResultData, { kind: K }>;

/** The current format version of each kind; a file of a later version is refused with a clear message. */
export const FORMAT_VERSIONS: Record<ResultKind, number> = {
  trainingRun: RUN_FORMAT_VERSION,
  barrierPath: PATH_FORMAT_VERSION,
  barrierMatrix: BARRIERS_FORMAT_VERSION,
  kpca: KPCA_FORMAT_VERSION,
  hessian: HESSIAN_FORMAT_VERSION,
  gradcheck: GRADCHECK_FORMAT_VERSION,
  slice: SLICE_FORMAT_VERSION,
  instability: INSTABILITY_FORMAT_VERSION,
};

export type { BarrierPath, BarrierPathView, PathPlane } from './path';
export type { BarrierMatrix, BarrierMatrixView, BarrierPair, PairResult, TreeMerge, TreeNodeData } from './barriers';
export type { KpcaData, KpcaOverlay, KpcaPoint } from './kpca';
export type { HessianData } from './hessian';
export type { GradcheckData, GradProbe } from './gradcheck';
export type { SliceAxis, SliceData, SliceKindName } from './slice';
export type { TrainingRunData, RunStatus, CheckpointInfo } from './trainingRun';
export type { InstabilityResult } from './instability';
export type { AnalysisRef, CheckpointRef, EpochPoint, HeightNumbers, MinimumRef, StabilityPoint } from './shapes';
