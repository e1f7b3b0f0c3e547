import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, progressBar } from '../output';
import { runStudy, STUDY_PRESETS, StudyPreset, summaryLines } from '../../engine/study';
import { BACKEND_CHOICES, describeBackend, initBackend } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { checkOutFolder } from '../../engine/train';
import { PATH_REFINES, type PathRefine } from '../../engine/path/types';
import { SUBSET_FLAG, subsetFlag } from './common-analysis';
import type { CommandDef } from './types';
import { QUEUE_FLAG, withQueue } from './queueOption';

const flags: FlagSpec[] = [
  { name: 'preset', type: 'string', description: 'size of the study', choices: STUDY_PRESETS, defaultText: 'default (under 10 min on 2 cores); quick: under 2 min' },
  { name: 'model', type: 'string', description: 'model spec: dense widths, a layer spec or a built-in name (lenet, cnn-digits, resnet20)', defaultText: '64-32-32-10 (no biases)', metavar: 'spec' },
  { name: 'dataset', type: 'string', description: 'dataset every run trains on', defaultText: 'digits', metavar: 'name|path' },
  SUBSET_FLAG,
  { name: 'seeds', type: 'int', description: 'runs per optimizer (overrides the preset)' },
  { name: 'epochs', type: 'int', description: 'epochs per run (overrides the preset)' },
  { name: 'pairs', type: 'int', description: 'random pairs per optimizer (overrides the preset)' },
  { name: 'path-steps', type: 'int', description: 'FourierPathFinder steps (overrides the preset)' },
  { name: 'refine', type: 'string', description: 'refinement of each path: climb (onto the saddle) or none (the paper\'s plain algorithm)', choices: PATH_REFINES, defaultText: 'climb' },
  { name: 'jobs', type: 'int', description: 'worker threads for the path searches', defaultText: 'one per core' },
  { ...QUEUE_FLAG, description: 'send the training runs and path searches as jobs to a BullMQ queue in Redis, where `landscape worker --queue` processes take them (also LANDSCAPE_QUEUE)' },
  { name: 'backend', type: 'string', description: 'tfjs backend', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'out', type: 'string', description: 'study folder; an interrupted study there is resumed', defaultText: 'study', metavar: 'dir' },
  { name: 'json', type: 'boolean', description: 'one JSON object per event on stdout' },
];

export const studyCommand: CommandDef = {
  name: 'study',
  usage: '[--preset quick|default] [--refine climb|none] [--out study] [--json]',
  summary: 'The optimizer study: SGD against L-BFGS minima, their barriers and kernel-PCA map, with a report.',
  flags,
  fileArgs: { slots: [{ at: '--out', kind: 'outDir' }] },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'study');
    if (positionals.length) throw inputError(`unexpected argument "${positionals[0]}" for "landscape study"`);
    const out = (f.out as string | undefined) ?? 'study';
    checkOutFolder(out);
    const json = Boolean(f.json);
    const backend = await initBackend(f.backend as string | undefined);
    if (!json) io.err(`landscape study: ${describeBackend(backend)}`);
    return withQueue(f, io, json, (queue) => printStudy(io, json, runStudy({
      out,
      preset: f.preset as StudyPreset | undefined,
      seeds: f.seeds as number | undefined,
      epochs: f.epochs as number | undefined,
      pairsPerGroup: f.pairs as number | undefined,
      pathSteps: f.pathSteps as number | undefined,
      refine: f.refine as PathRefine | undefined,
      model: f.model as string | undefined,
      dataset: f.dataset as string | undefined,
      subset: subsetFlag(f.subset),
      jobs: f.jobs as number | undefined,
      pairRunner: queue?.runner,
      runRunner: queue?.runRunner,
      backend: f.backend as string | undefined,
      signal,
    })));
  },
};

/** Prints the study's events as they come: one JSON object each with --json, else progress lines and the summary. */
async function printStudy(io: Io, json: boolean, it: ReturnType<typeof runStudy>): Promise<number> {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      const e = r.value;
      if (json) {
        // Training epochs are many and small; pass them through flattened.
        if (e.type === 'train') io.out(JSON.stringify({ ...e.event, type: 'train', event: e.event.type, run: e.run, ...(e.event.type === 'start' ? { backend: e.event.backend.name } : {}) }));
        else if (e.type === 'done') io.out(JSON.stringify({ type: 'done', studyJson: e.studyJson, reportHtml: e.reportHtml, verdicts: e.result.verdicts }));
        else io.out(JSON.stringify(e));
        continue;
      }
      switch (e.type) {
        case 'phase':
          if (io.tty) io.status('');
          io.err(`== ${e.message}`);
          break;
        case 'run-start':
          if (e.reused) io.err(`run ${e.index + 1}/${e.total} ${e.run}: reused (already finished)`);
          break;
        case 'train':
          if (e.event.type === 'epoch' && io.tty) io.status(`${e.run} epoch ${e.event.epoch} train ${fmt(e.event.trainLoss)} test ${fmt(e.event.testLoss)}`);
          if (e.event.type === 'done') {
            if (io.tty) io.status('');
            io.err(`run ${e.run}: done`);
          }
          break;
        case 'path-start':
          if (e.reused) io.err(`path ${e.index + 1}/${e.total} ${e.pair}: reused`);
          break;
        case 'path-iteration':
          if (io.tty) io.status(`${e.pair} ${progressBar(e.iteration, e.steps, 20)} height ${fmt(e.height)} best ${fmt(e.bestHeight)}`);
          break;
        case 'path-done':
          if (io.tty) io.status('');
          io.err(`path ${e.pair}: straight ${fmt(e.barrier.straight.height)}, optimized ${fmt(e.barrier.optimized.height)} (barrier ${fmt(e.barrier.optimized.barrierFromMean)})`);
          break;
        case 'done':
          io.out('');
          for (const l of summaryLines(e.result)) io.out(l);
          io.out('');
          io.out(`report: ${path.relative(process.cwd(), e.reportHtml) || e.reportHtml}`);
          io.out(`numbers: ${path.relative(process.cwd(), e.studyJson) || e.studyJson}`);
          io.out(`checkpoints: ${path.join(path.relative(process.cwd(), path.dirname(e.studyJson)) || '.', 'runs')}/<optimizer>-s<seed>/{best,final}.safetensors`);
          break;
      }
    }
    return 0;
}
