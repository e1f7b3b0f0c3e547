/**
 * What runs each job kind on a worker (the engine side of src/queue/jobKinds.ts,
 * kept apart so that the client never loads the engine).
 */
import type { AnyJob, JobContext, JobKindName, JobPayloads, JobReturn } from './jobKinds';
import { runPairJob } from './pairJob';
import { runSliceJob } from './sliceJob';
import { runTrainJob } from './trainJob';

export const JOB_RUNNERS: { [K in JobKindName]: (payload: JobPayloads[K], ctx: JobContext) => Promise<JobReturn> } = {
  'path-pair': runPairJob,
  'slice-rows': runSliceJob,
  'train-run': runTrainJob,
};

/** Runs a payload that checkJobPayload passed for `kind` (which is what makes the cast sound). */
export function runJobOfKind(kind: JobKindName, payload: AnyJob, ctx: JobContext): Promise<JobReturn> {
  return (JOB_RUNNERS[kind] as (p: AnyJob, c: JobContext) => Promise<JobReturn>)(payload, ctx);
}
