/**
 * Training runs computed by queue workers (the study's RunRunner): every run
 * is a train-run job, all submitted at once so that N workers train N runs
 * side by side. Each finished run comes back as a zip of its folder, which is
 * unpacked into place atomically with what named the worker's folder (the
 * folder itself, an uploaded dataset's path, the backend the worker was held
 * to) put back as the local run would have written it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { computeError, inputError } from '../engine/errors';
import { writeFileAtomicSync } from '../engine/checkpoint/atomic';
import { decodeSafetensors, encodeSafetensors } from '../engine/checkpoint/safetensors';
import type { EpochEvent } from '../engine/train/types';
import type { LocalCompute, PendingRun, RunRunner, RunRunnerOptions } from '../engine/study/runRunner';
import { fetchBlob } from './blobs';
import type { QueueClient } from './client';
import { QUEUE_FORMAT } from './connection';
import type { DatasetRef } from './datasetRef';
import { gatherJobs } from './gatherJobs';
import { MAX_EPOCH_SECONDS, type TrainJob } from './jobKinds';
import { unpackFolderZip } from './folderZip';
import { putTrainConfig } from './trainConfigWire';

/** SOURCE_DATE_EPOCH as a local run would read it (src/engine/train/runFolder.ts nowIso), when it is usable. */
function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n <= MAX_EPOCH_SECONDS ? n : undefined;
}

async function trainPayload(client: QueueClient, run: PendingRun, compute: LocalCompute, refs: Map<string, DatasetRef>): Promise<TrainJob> {
  const sde = sourceDateEpoch();
  // Keys in the schema's order: the job id is the hash of this object's JSON.
  return {
    format: QUEUE_FORMAT,
    kind: 'train-run',
    config: await putTrainConfig(client.redis, run.config, refs),
    backend: compute.backend,
    threads: compute.threads,
    kernels: compute.kernels,
    ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
  };
}

/**
 * A safetensors file with its `dataset` metadata set to `dataset`, encoded
 * again by the writer every checkpoint comes from (deterministic: sorted
 * metadata and tensors), so it is byte for byte what a local run writes.
 */
export function withCheckpointDataset(bytes: Buffer, dataset: string, file: string): Buffer {
  const { tensors, metadata } = decodeSafetensors(bytes, file, { allowNonFinite: true });
  if (typeof metadata.dataset !== 'string' || metadata.dataset === dataset) return bytes;
  return encodeSafetensors([...tensors].map(([name, t]) => ({ name, ...t })), { ...metadata, dataset });
}

/** run.json as the local run writes it: this machine's folder, the dataset and backend as the config gave them. */
function localRunJson(dir: string, run: PendingRun, compute: LocalCompute): void {
  const file = path.join(dir, 'run.json');
  let doc: { status?: unknown; backend?: unknown; config?: Record<string, unknown> };
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof doc;
  } catch {
    throw inputError(`the queue returned run ${run.name} without a readable run.json`);
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.config !== 'object' || doc.config === null) throw inputError(`the queue returned run ${run.name} with a malformed run.json`);
  if (doc.status !== 'completed') throw computeError(`the queue returned run ${run.name} unfinished (status ${String(doc.status).slice(0, 40)})`);
  if (doc.backend !== compute.backend) throw computeError(`run ${run.name} was trained on the ${String(doc.backend).slice(0, 40)} backend, not this machine's ${compute.backend}`);
  // Assigning keeps each key where the worker's writer put it, which is where the local writer puts it.
  doc.config.out = path.resolve(run.config.out);
  doc.config.dataset = run.config.dataset;
  doc.config.backend = run.config.backend;
  writeFileAtomicSync(file, JSON.stringify(doc, null, 2) + '\n');
}

/** Every .safetensors file under `dir`. */
function checkpointFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.safetensors')).map((f) => path.join(dir, f));
}

/** Unpacks run k's zip into its folder, made exactly what a local `train` writes there. */
function installRun(zip: Buffer, run: PendingRun, compute: LocalCompute, ref: DatasetRef | undefined): void {
  unpackFolderZip(zip, run.config.out, 'run folder', (dir) => {
    localRunJson(dir, run, compute);
    // A checkpoint names an uploaded dataset by its absolute path (so `info` finds it again): the client's, not the worker's copy.
    if (ref?.blob) for (const f of checkpointFiles(dir)) writeFileAtomicSync(f, withCheckpointDataset(fs.readFileSync(f), path.resolve(run.config.dataset), f));
    // Training makes checkpoints/ even when it writes no periodic checkpoint; a zip of files does not carry an empty folder.
    fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  });
}

/** The epoch a worker reported, as the event a local run would have yielded for it. */
function epochEvent(progress: unknown): EpochEvent | undefined {
  const p = progress as Partial<Record<string, number>>;
  if (typeof p.epoch !== 'number' || typeof p.trainLoss !== 'number' || typeof p.testLoss !== 'number') return undefined;
  const num = (v: number | undefined) => (typeof v === 'number' ? v : NaN);
  const ev: EpochEvent = { type: 'epoch', epoch: p.epoch, step: num(p.step), trainLoss: p.trainLoss, testLoss: p.testLoss, gradNorm: num(p.gradNorm), lr: num(p.lr), time: num(p.time) };
  if (typeof p.accuracy === 'number') ev.accuracy = p.accuracy;
  if (typeof p.testAccuracy === 'number') ev.testAccuracy = p.testAccuracy;
  return ev;
}

export function queueRunRunner(client: QueueClient): RunRunner {
  return async (runs, opts) => {
    const refs = new Map<string, DatasetRef>();
    const payloads: TrainJob[] = [];
    for (const run of runs) payloads.push(await trainPayload(client, run, opts.compute, refs));
    const ids = await Promise.all(payloads.map((p) => client.ensure(p)));
    // Redis lost the job (restarted without persistence): upload its inputs again (no cached dataset ref) and re-add it.
    const resubmit = async (k: number) => void (await client.ensure(await trainPayload(client, runs[k], opts.compute, new Map())));
    await gatherRuns(client, runs, ids, opts, resubmit, refs);
  };
}

async function gatherRuns(client: QueueClient, runs: readonly PendingRun[], ids: string[], opts: RunRunnerOptions, resubmit: (k: number) => Promise<void>, refs: Map<string, DatasetRef>): Promise<void> {
  const failures: { k: number; message: string }[] = [];
  const shown = new Map<number, number>();
  await gatherJobs(client, ids, {
    signal: opts.signal,
    resubmit,
    onStarted: (k) => opts.onStart?.(k),
    onProgress: (k, progress) => {
      const ev = epochEvent(progress);
      if (!ev || shown.get(k) === ev.epoch) return;
      shown.set(k, ev.epoch);
      opts.onEpoch?.(k, ev);
    },
    onFinished: async (k, o) => {
      const ret = 'value' in o ? o.value : { error: { message: o.failedReason } };
      if ('error' in ret) {
        failures.push({ k, message: `run ${runs[k].name}: a queue worker could not train it: ${ret.error.message}` });
        return;
      }
      // Unpacked as soon as it is done, so an interrupted study keeps it.
      installRun(await fetchBlob(client.redis, ret.result), runs[k], opts.compute, refs.get(runs[k].config.dataset));
      opts.onDone?.(k);
    },
  });
  if (!failures.length) return;
  // The first run of the list that failed, whichever failed first: the same message every time.
  const first = failures.sort((a, b) => a.k - b.k)[0].message;
  throw computeError(failures.length === 1 ? first : `${first} (and ${failures.length - 1} other runs failed)`);
}
