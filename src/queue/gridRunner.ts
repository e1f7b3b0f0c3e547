/**
 * A slice's grid evaluated by queue workers: the grid is cut into blocks of
 * whole batches (so every point is computed in the batch it would be in
 * locally), each block a job, and the values are put back in grid order.
 */
import { computeError } from '../engine/errors';
import type { GridRowEvaluator, GridTask } from '../engine/analysis/slices';
import type { PathProblem } from '../engine/pool/pathTask';
import { fetchBlob, putBlob } from './blobs';
import type { QueueClient } from './client';
import { QUEUE_FORMAT } from './connection';
import { gatherJobs } from './gatherJobs';
import type { SliceJob } from './jobKinds';
import { putPairProblem } from './pairProblem';
import { float64FromBytes } from './sliceJob';

/** Batches per job: enough work per job that the queue's overhead stays small. */
const BATCHES_PER_JOB = 4;

type ObjectiveProblem = Pick<PathProblem, 'backend' | 'spec' | 'recipe'>;

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function blockPayloads(client: QueueClient, problem: ObjectiveProblem, task: GridTask): Promise<SliceJob[]> {
  const problemHash = await putPairProblem(client.redis, { ...problem, thetas: [], path: {} });
  const centre = await putBlob(client.redis, bytesOf(task.centre));
  const dirs = await Promise.all(task.dirs.map((d) => putBlob(client.redis, bytesOf(d))));
  const k = task.dirs.length;
  const block = task.batchSize * BATCHES_PER_JOB;
  const jobs: SliceJob[] = [];
  for (let first = 0; first < task.coeffs.length; first += block) {
    const rows = Math.min(block, task.coeffs.length - first);
    const flat = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) flat.set(task.coeffs[first + r], r * k);
    const coeffs = await putBlob(client.redis, bytesOf(flat));
    jobs.push({ format: QUEUE_FORMAT, kind: 'slice-rows', problem: problemHash, centre, dirs, coeffs, firstRow: first, rows, batchSize: task.batchSize });
  }
  return jobs;
}

export function queueGridRows(client: QueueClient, problem: ObjectiveProblem): GridRowEvaluator {
  return async (task) => {
    const payloads = await blockPayloads(client, problem, task);
    const ids = await Promise.all(payloads.map((p) => client.ensure(p)));
    const values = new Float64Array(task.coeffs.length);
    let done = 0;
    await gatherJobs(client, ids, {
      signal: task.signal,
      resubmit: async (k) => void (await client.ensure((await blockPayloads(client, problem, task))[k])),
      onFinished: async (k, o) => {
        const p = payloads[k];
        if ('failedReason' in o) throw computeError(`a queue worker could not evaluate grid points ${p.firstRow + 1}–${p.firstRow + p.rows}: ${o.failedReason}`);
        if ('error' in o.value) throw computeError(o.value.error.message);
        const block = float64FromBytes(await fetchBlob(client.redis, o.value.result), 'a grid block from the queue');
        if (block.length !== p.rows) throw computeError(`the queue returned ${block.length} values for a block of ${p.rows} grid points`);
        values.set(block, p.firstRow);
        done += p.rows;
        task.onProgress?.(done, values.length);
      },
    });
    return values;
  };
}
