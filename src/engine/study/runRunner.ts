/**
 * Who trains the study's runs instead of this thread (e.g. the job queue,
 * src/queue/trainRunner.ts). Types only, so that the engine names the
 * contract and a runner implements it without either importing the other.
 */
import type { BackendName } from '../backend';
import type { EpochEvent, TrainConfig } from '../train/types';

export interface PendingRun {
  /** e.g. "sgd-s1", for messages. */
  name: string;
  /** The run's configuration; the finished run folder must end up at `config.out`, as a local `train` would have written it. */
  config: TrainConfig;
}

/**
 * How a run on this thread would compute. Training's last bits depend on it
 * (dense kernels add their threads' partial sums, relaxed SIMD fuses
 * multiply-adds), so a runner elsewhere must compute the same way for the
 * run to be the one a local study writes.
 */
export interface LocalCompute {
  backend: BackendName;
  /** Kernel threads of a run on this thread. */
  threads: number;
  /** The fast kernels' flavour, or 'off' (LANDSCAPE_FAST=0, or kernels that do not load here). */
  kernels: 'relaxed-simd' | 'simd' | 'off';
}

export interface RunRunnerOptions {
  compute: LocalCompute;
  signal?: AbortSignal;
  /** Run k (an index into the runs given) started somewhere. */
  onStart?(k: number): void;
  /** Run k's latest finished epoch, for display. */
  onEpoch?(k: number, ev: EpochEvent): void;
  /** Run k's folder is complete at its `config.out`. */
  onDone?(k: number): void;
}

/**
 * Trains every run (all at once, as far as the runner can) and resolves when
 * each folder is in place; rejects when any run failed, after the others
 * finished. A cancel stops waiting; folders already in place stay.
 */
export type RunRunner = (runs: readonly PendingRun[], opts: RunRunnerOptions) => Promise<void>;
