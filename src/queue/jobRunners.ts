/**
 * What runs each job kind on a worker (the engine side of src/queue/jobKinds.ts,
 * kept apart so that the client never loads the engine).
 */
import type { JobContext, JobKindName, JobReturn, PairJob, SliceJob } from './jobKinds';
import { runPairJob } from './pairJob';
import { runSliceJob } from './sliceJob';

export const JOB_RUNNERS: { [K in JobKindName]: (payload: K extends 'path-pair' ? PairJob : SliceJob, ctx: JobContext) => Promise<JobReturn> } = {
  'path-pair': runPairJob,
  'slice-rows': runSliceJob,
};
