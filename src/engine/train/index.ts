/**
 * Training: `train` (loop.ts) yields events and keeps a run folder
 * (runFolder.ts writes it; runFolderRead.ts, runFolderView.ts and
 * lastRunRead.ts read it back).
 */
export * from './types';
export { resolveTrainConfig } from './config';
export { train, trainToEnd, type TrainOptions } from './loop';
export { checkOutFolder, nowIso } from './runFolder';
export { readRunJson } from './runFolderRead';
