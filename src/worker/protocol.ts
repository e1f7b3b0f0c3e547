/**
 * Messages between the extension host and a compute worker (dist/worker.js,
 * one worker thread per job). Types only, plus the shared cancel-flag layout:
 * importing this file never loads tfjs.
 */
import type { TrainConfig, TrainEvent, RunJson } from '../engine/train';
import type { StudyEvent, StudyPreset } from '../engine/study/study';
import type { BackendLabel, CheckpointDetails, EvalResult, HeightNumbers, KERNEL_NAMES, ResultData, SLICE_KIND_NAMES } from '../protocol';

export type { SliceKindName } from '../results/slice';
import type { SliceKindName } from '../results/slice';
export type KernelName = (typeof KERNEL_NAMES)[number];

/** Kernel PCA settings (landscape.kpca.*). */
export interface KpcaJobSettings {
  kernel: KernelName;
  components: number;
}

/** Progress of the analysis jobs (kpca, kpcaOverlay, hessian, gradcheck, slice). */
export type AnalysisJobEvent =
  | { type: 'setup'; backend: string; dataset?: string; text: string }
  | { type: 'progress'; text: string; done: number; total: number };

/** What an analysis job tells the host: the result file it wrote, one line about it, and the result itself (its kind's type from src/results). */
export interface AnalysisJobResult {
  file: string;
  summary: string;
  seconds: number;
  /** The result as saved in `file` (paths absolute); for an overlay, the map it was added to. */
  result?: ResultData;
}

export interface ProbeResult {
  backend: BackendLabel;
  datasets: string[];
  optimizers: string[];
}

/** Path-finder settings of a barrier job (the landscape.path.* settings). */
export interface PathJobSettings {
  /** M, path points (endpoints included). */
  points: number;
  /** Adam steps. */
  steps: number;
  /** Side of the loss grid drawn under the path in its plane; 0 for none. */
  planeGrid: number;
  /** landscape.path.method: FourierPathFinder (default) or a Garipov curve with one trained bend. */
  method?: 'fourier' | 'bezier' | 'polychain';
}

export type JobRequest =
  | { kind: 'train'; config: TrainConfig }
  | { kind: 'inspect'; file: string }
  | { kind: 'evaluate'; file: string }
  | { kind: 'probe' }
  /** The path between two minima, saved as `out` (a .path.json). */
  | { kind: 'path'; a: string; b: string; out: string; settings: PathJobSettings }
  /** Every pair (or "random:N") of `files`, saved as `out` (barriers.json in `folder`). */
  | { kind: 'barriers'; files: string[]; folder: string; out: string; selection: string; settings: PathJobSettings }
  /** The optimizer study (landscape study) into `out`. */
  | { kind: 'study'; out: string; preset: StudyPreset }
  /** A `landscape path --out` file drawn for the path panel (its plane; the path is not searched again). */
  | { kind: 'importPath'; file: string; roots: string[]; planeGrid: number }
  /** Kernel PCA of checkpoints, saved as `out` (a .kpca.json). */
  | { kind: 'kpca'; files: string[]; out: string; settings: KpcaJobSettings }
  /**
   * Project a run's trajectory (`input` a run folder) or points along a path
   * (`input` a .path.json or a `landscape path --out` file) into the saved map
   * `file`, and add them to it as an overlay.
   */
  | { kind: 'kpcaOverlay'; file: string; source: 'trajectory' | 'path'; input: string; roots: string[] }
  /** Top-k Hessian eigenvalues, the trace (traceSamples > 0) and the stability verdict (η from the metadata, else `lr`). */
  | { kind: 'hessian'; file: string; out: string; k: number; traceSamples: number; lr?: number; density?: boolean; perLayer?: boolean }
  | { kind: 'gradcheck'; file: string; out: string }
  /** A slice of `slice` kind through `files` (1 to 3 checkpoints), `points` per axis. */
  | { kind: 'slice'; slice: SliceKindName; files: string[]; out: string; points: number }
  /** An instability analysis (landscape instability) of the experiment `train`, in the folder `out`. */
  | { kind: 'instability'; train: Record<string, unknown>; spawnEpochs: number[]; children: number; out: string }
  /** The trajectory plane of the run folder `run` (landscape slice --plane trajectory), `points` per axis. */
  | { kind: 'trajectorySlice'; run: string; out: string; points: number };

export type JobKind = JobRequest['kind'];

/** Progress of the path and barriers jobs; `index` numbers the pair (0 for a single path). */
export type PathJobEvent =
  | { type: 'setup'; backend: string; dataset: string; minima: number; pairs: number; steps: number }
  | { type: 'pair-start'; index: number; total: number; a: string; b: string }
  | { type: 'iteration'; index: number; iteration: number; height: number; bestHeight: number }
  | { type: 'pair-done'; index: number; total: number; optimized: HeightNumbers; straight: HeightNumbers }
  | { type: 'surface'; points: number };

/** The study's events as the worker forwards them: the final result stays on disk (study.json). */
export type StudyJobEvent = Exclude<StudyEvent, { type: 'done' }>;

export interface PathJobResult {
  file: string;
  optimized: HeightNumbers;
  straight: HeightNumbers;
  iterations: number;
  seconds: number;
}

export interface BarriersJobResult {
  file: string;
  minima: number;
  pairs: number;
  /** The highest and lowest barrier above the mean endpoint loss over the computed pairs. */
  maxBarrier: number | null;
  minBarrier: number | null;
  seconds: number;
}

export interface StudyJobResult {
  studyJson: string;
  reportHtml: string;
  summary: string[];
  verdicts: { claim: string; reproduced: boolean }[];
}

export interface JobResults {
  train: RunJson;
  inspect: CheckpointDetails;
  evaluate: EvalResult;
  probe: ProbeResult;
  path: PathJobResult;
  barriers: BarriersJobResult;
  study: StudyJobResult;
  importPath: Extract<ResultData, { kind: 'barrierPath' }>;
  kpca: AnalysisJobResult;
  kpcaOverlay: AnalysisJobResult;
  hessian: AnalysisJobResult;
  gradcheck: AnalysisJobResult;
  slice: AnalysisJobResult;
  trajectorySlice: AnalysisJobResult;
  instability: AnalysisJobResult;
}

/** What each job streams while it runs. */
export interface JobEvents {
  train: TrainEvent;
  inspect: never;
  evaluate: never;
  probe: never;
  path: PathJobEvent;
  barriers: PathJobEvent;
  study: StudyJobEvent;
  importPath: never;
  kpca: AnalysisJobEvent;
  kpcaOverlay: AnalysisJobEvent;
  hessian: AnalysisJobEvent;
  gradcheck: AnalysisJobEvent;
  slice: AnalysisJobEvent;
  trajectorySlice: AnalysisJobEvent;
  instability: AnalysisJobEvent;
}

/** Passed as `workerData`. */
export interface WorkerInit {
  id: string;
  request: JobRequest;
  /** The landscape.backend setting ('auto' lets the engine choose). */
  backend: string;
  /** The landscape.tfjsNodePath setting: a folder holding tfjs-node, for the "tensorflow" backend. */
  tfjsNodePath?: string;
  /** The landscape.queue setting: the Redis of a BullMQ queue whose workers compute barrier pairs. */
  queue?: string;
  /**
   * One Int32 the host sets to 1 to cancel. The worker's training loop polls it
   * between mini-batches, so a cancel lands mid-epoch even though the loop never
   * yields to the worker's message queue there.
   */
  cancelFlag: SharedArrayBuffer;
}

export type HostToWorker = { type: 'cancel' };

export type ErrorKind = 'input' | 'compute' | 'cancelled' | 'internal';

export type WorkerToHost =
  | { type: 'event'; event: JobEvents[JobKind] }
  | { type: 'result'; result: JobResults[JobKind] }
  | { type: 'error'; kind: ErrorKind; message: string; stack?: string };

export const HISTOGRAM_BINS = 40;
