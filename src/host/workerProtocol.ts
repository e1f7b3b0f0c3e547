/**
 * Messages between the extension host and a compute worker (dist/worker.js,
 * one worker thread per job). Types only, plus the shared cancel-flag layout:
 * importing this file never loads tfjs.
 */
import type { TrainConfig, TrainEvent, RunJson } from '../engine/train';
import type { BackendLabel, CheckpointInfo, EvalResult } from '../protocol';

export interface ProbeResult {
  backend: BackendLabel;
  datasets: string[];
  optimizers: string[];
}

export type JobRequest =
  | { kind: 'train'; config: TrainConfig }
  | { kind: 'inspect'; file: string }
  | { kind: 'evaluate'; file: string }
  | { kind: 'probe' };

export type JobKind = JobRequest['kind'];

export interface JobResults {
  train: RunJson;
  inspect: CheckpointInfo;
  evaluate: EvalResult;
  probe: ProbeResult;
}

/** Passed as `workerData`. */
export interface WorkerInit {
  id: string;
  request: JobRequest;
  /** The landscape.backend setting ('auto' lets the engine choose). */
  backend: string;
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
  | { type: 'event'; event: TrainEvent }
  | { type: 'result'; result: JobResults[JobKind] }
  | { type: 'error'; kind: ErrorKind; message: string; stack?: string };

export const HISTOGRAM_BINS = 40;
