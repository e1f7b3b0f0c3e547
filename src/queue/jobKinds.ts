/**
 * The only work a queue worker does: a fixed set of job kinds, each with the
 * schema its payload must pass. A job of any other kind, or with a payload
 * that fails its schema, fails with the reason and runs nothing. Pure data:
 * the client (and the extension host's status item) use it without loading
 * the engine.
 */
import { createHash } from 'crypto';
import { S, type Infer } from '../schema';
import { inputError } from '../engine/errors';
import type { PairError } from '../engine/pool/pathTask';
import { QUEUE_FORMAT } from './connection';
import type { BlobCache } from './blobs';

const hash = S.string(64);

export const PairJobSchema = S.object({
  format: S.int(QUEUE_FORMAT, QUEUE_FORMAT),
  kind: S.literal('path-pair'),
  problem: hash,
  a: hash,
  b: hash,
  /** Return the path's points (coefficients, images, bend) too; without them a result is ~50× smaller. */
  points: S.optional(S.boolean()),
});
export type PairJob = Infer<typeof PairJobSchema>;

export const SliceJobSchema = S.object({
  format: S.int(QUEUE_FORMAT, QUEUE_FORMAT),
  kind: S.literal('slice-rows'),
  problem: hash,
  centre: hash,
  dirs: S.array(hash, 2),
  coeffs: hash,
  firstRow: S.int(0, 1 << 20),
  rows: S.int(1, 1 << 20),
  batchSize: S.int(1, 1 << 20),
});
export type SliceJob = Infer<typeof SliceJobSchema>;

/** How the client's own thread computes; a worker trains the same way so that the run's bytes are the same. */
export const KERNEL_FLAVOURS = ['relaxed-simd', 'simd', 'off'] as const;
export type KernelFlavour = (typeof KERNEL_FLAVOURS)[number];
/** The last second a SOURCE_DATE_EPOCH can name (9999-12-31T23:59:59Z). */
export const MAX_EPOCH_SECONDS = 253_402_300_799;

export const TrainJobSchema = S.object({
  format: S.int(QUEUE_FORMAT, QUEUE_FORMAT),
  kind: S.literal('train-run'),
  /** The run's TrainConfig without its folder, its dataset as a DatasetRef (src/queue/trainConfigWire.ts). */
  config: hash,
  /** The backend the client's local run would train on (its config may say 'auto' or nothing). */
  backend: S.oneOf(['tensorflow', 'wasm', 'cpu'] as const),
  /** The kernel threads of the client's local run: dense kernels' last bits depend on it. */
  threads: S.int(1, 256),
  /** Relaxed (fused multiply-add) or plain SIMD kernels, or none (LANDSCAPE_FAST=0): each gives other last bits. */
  kernels: S.oneOf(KERNEL_FLAVOURS),
  /** The client's SOURCE_DATE_EPOCH, which fixes the timestamps in run.json and the checkpoints. */
  sourceDateEpoch: S.optional(S.int(0, MAX_EPOCH_SECONDS)),
});
export type TrainJob = Infer<typeof TrainJobSchema>;

/** Each job kind's payload. */
export interface JobPayloads {
  'path-pair': PairJob;
  'slice-rows': SliceJob;
  'train-run': TrainJob;
}
export type AnyJob = JobPayloads[keyof JobPayloads];

/** What a finished job leaves in BullMQ: its result's blob, or the error of a computation that failed for good. */
export type JobReturn = { result: string } | { error: PairError };

export interface JobContext {
  blobs: BlobCache;
  /** Stores a result and returns its hash. */
  putResult(value: unknown): Promise<string>;
  /** Stores raw result bytes and returns their hash. */
  putBytes(bytes: Uint8Array): Promise<string>;
  /** Reports progress for the client's display: a pair's iteration and heights, a run's epoch and losses. */
  progress(p: Readonly<Record<string, number>>): void;
  /** Kernel threads a job may use: this worker's share of the cores. */
  threads: number;
}

/** The job kinds and their payload schemas; the worker's table of what runs them is src/queue/jobRunners.ts. */
export const JOB_SCHEMAS = { 'path-pair': PairJobSchema, 'slice-rows': SliceJobSchema, 'train-run': TrainJobSchema } as const;
export type JobKindName = keyof typeof JOB_SCHEMAS;

/** Checks a job's payload against its kind's schema; throws an input error naming what is wrong. */
export function checkJobPayload(data: unknown): { kind: JobKindName; payload: AnyJob } {
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(JOB_SCHEMAS, kind)) {
    throw inputError(`refused a job of unknown kind ${JSON.stringify(kind)?.slice(0, 60)}; this worker runs ${Object.keys(JOB_SCHEMAS).join(', ')}`);
  }
  const err = JOB_SCHEMAS[kind as JobKindName].check(data, 'job');
  if (err) throw inputError(`refused a malformed ${kind} job: ${err}`);
  return { kind: kind as JobKindName, payload: data as AnyJob };
}

/** The job's id: a hash of what it computes, so the same work is never queued twice and a re-run finds it done. */
export function jobId(payload: AnyJob): string {
  // Every field is a hash, a number or a fixed word, so the payload's JSON (keys in schema order) names the work exactly.
  const h = createHash('sha256').update(JSON.stringify(payload)).digest('hex');
  return `${payload.kind}-${h.slice(0, 40)}`;
}
