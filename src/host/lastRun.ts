/**
 * The side view's charts after a window reload. The live series lives only in
 * the extension host's memory, so a reload would leave the panel empty although
 * the last run's folder is on disk. When nothing is live, the newest run folder
 * is read back (src/engine/train/lastRunRead.ts, beside the code that writes
 * it) and shown as a finished run. No vscode, no tfjs.
 */
import type { LiveRun } from '../protocol';
import { finishedRun, readNewestRun, LAST_RUN_MAX_METRICS_BYTES, type FinishedRun, type LastRunOptions } from '../engine/train/lastRunRead';
import { upsertCheckpoints } from './runStore';

export { LAST_RUN_MAX_METRICS_BYTES, type LastRunOptions };

/** A finished run as the side view's live-run slot holds it; best.safetensors listed twice becomes one entry. */
function asLiveRun(run: FinishedRun): LiveRun {
  return { runId: `last:${run.runDir}`, ...run, checkpoints: upsertCheckpoints([], run.checkpoints) };
}

/** A run folder's files as a finished run for the side view; undefined when run.json is not a Landscape run. */
export function lastRunSnapshot(runDir: string, runJsonText: string, metricsText: string, opts: LastRunOptions = {}): LiveRun | undefined {
  const run = finishedRun(runDir, runJsonText, metricsText, opts);
  return run && asLiveRun(run);
}

/** The newest run folder directly under `runsRoot` as a finished run; undefined when there is none readable. */
export async function readLastRun(runsRoot: string, maxMetricsBytes = LAST_RUN_MAX_METRICS_BYTES): Promise<LiveRun | undefined> {
  const run = await readNewestRun(runsRoot, maxMetricsBytes);
  return run && asLiveRun(run);
}
