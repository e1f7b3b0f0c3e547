import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import type { OptimizerName } from '../../engine/optim';
import { DEFAULT_THRESHOLD, MAX_CHILDREN, parseSpawnEpochs, runInstability, type InstabilityEvent } from '../../engine/instability';
import { THRESHOLD_RULE, type InstabilityResult, type InstabilitySpawn, type PairStatistics } from '../../results/instability';
import { PATH_DEFAULTS } from '../../engine/path/find';
import { trainConfigFromFlags, trainFlags } from './train';
import type { CommandDef } from './types';

/** Training flags that the analysis sets itself (folders, checkpoints, resuming). */
const ANALYSIS_OWNED = new Set(['out', 'resume', 'overwrite', 'json', 'checkpoint-every', 'stability-every']);

const flags: FlagSpec[] = [
  { name: 'spawn-epochs', type: 'string', required: true, description: 'epochs k, increasing, from 0 (the initial weights) to --epochs, at which children are spawned from the parent', metavar: 'k,k,…' },
  { name: 'children', type: 'int', description: `copies trained from each spawn point with different mini-batch orders (child c: batch seed --seed + c), 2 to ${MAX_CHILDREN}`, defaultText: '2' },
  { name: 'threshold', type: 'number', description: 'stable when every pair\'s barrier is at most this fraction of the mean of its two endpoint training losses', defaultText: String(DEFAULT_THRESHOLD) },
  { name: 'optimized', type: 'boolean', description: 'also measure the FourierPathFinder barrier (default path options, refined onto the saddle)' },
  { name: 'points', type: 'int', description: 'M: the straight line is measured at 10·(M − 1) + 1 evenly spaced t', defaultText: String(PATH_DEFAULTS.points) },
  ...trainFlags.filter((f) => !ANALYSIS_OWNED.has(f.name)),
  { name: 'out', type: 'string', description: 'analysis folder (parent run, children, barriers, instability.json); an interrupted analysis there is continued', defaultText: 'instability', metavar: 'dir' },
  { name: 'json', type: 'boolean', description: 'print the result as one JSON object instead of a table' },
];

export const instabilityCommand: CommandDef = {
  name: 'instability',
  usage: '--spawn-epochs 0,1,2,5,10 [--children 2] [--threshold 0.02] [--optimized] [--out dir] [train options]',
  summary: 'Instability analysis (Frankle et al. 2020): barrier between copies of a run spawned at epoch k, against k.',
  flags,
  fileArgs: {
    slots: [
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outDir' },
    ],
    quick: ['--model', '2-4-2', '--epochs', '1', '--spawn-epochs', '0,1', '--points', '3'],
  },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'instability');
    if (positionals.length) throw inputError(`unexpected argument "${positionals[0]}" for "landscape instability"`);
    const out = (f.out as string | undefined) ?? 'instability';
    const settled = { dataset: (f.dataset as string | undefined) ?? 'digits', optimizer: ((f.optimizer as string | undefined) ?? 'sgd') as OptimizerName, seed: (f.seed as number | undefined) ?? 0, out };
    const { out: _out, resume: _r, overwrite: _o, checkpointEvery: _c, stabilityEvery: _s, ...train } = trainConfigFromFlags(f, settled);
    const json = Boolean(f.json);
    const it = runInstability({
      train,
      spawnEpochs: parseSpawnEpochs(f.spawnEpochs as string),
      children: f.children as number | undefined,
      threshold: f.threshold as number | undefined,
      optimized: Boolean(f.optimized),
      points: f.points as number | undefined,
      out,
      signal,
    });
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      if (!json) printProgress(io, r.value);
      else if (r.value.type === 'done') io.out(JSON.stringify(r.value.result));
    }
    return 0;
  },
};

function printProgress(io: Io, e: InstabilityEvent): void {
  switch (e.type) {
    case 'run':
      if (e.reused) io.err(`${e.run}: reused (already finished)`);
      break;
    case 'train':
      if (e.event.type === 'start') io.err(`${e.run}: training`);
      if (e.event.type === 'epoch' && io.tty) io.status(`${e.run} epoch ${e.event.epoch} train ${fmt(e.event.trainLoss)} test ${fmt(e.event.testLoss)}`);
      if (e.event.type === 'done' && io.tty) io.status('');
      break;
    case 'spawn-done':
      io.err(`spawn epoch ${e.spawn.epoch}: straight-line barrier ${fmt(e.spawn.straight.max)}${e.reused ? ' (reused)' : ''}`);
      break;
    case 'done':
      for (const line of renderInstability(e.result)) io.out(line);
      io.out(`written to ${path.relative(process.cwd(), e.file) || e.file}`);
      break;
  }
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}

/** Barrier columns of one kind (straight or optimized): max (and mean when there are several pairs) with max/loss. */
function barrierCells(s: PairStatistics, pairs: number): string[] {
  return pairs > 1 ? [fmt(s.mean), fmt(s.max), percent(s.maxRelative)] : [fmt(s.max), percent(s.maxRelative)];
}

/**
 * Where on the straight line the largest barrier peaks: 0 or 1 means the line
 * rises monotonically from the lower end, so the barrier is half the gap
 * between the endpoint losses, not a ridge between them.
 */
function highestPoint(s: InstabilitySpawn): string {
  const top = s.pairs.reduce((a, b) => (b.straight.barrierFromMean > a.straight.barrierFromMean ? b : a));
  return top.identical ? '-' : top.straight.tAtMax.toFixed(2);
}

/** Below the threshold or not; the first stable spawn epoch is marked. */
function verdict(below: boolean, first: boolean): string {
  return below ? (first ? 'yes ← first' : 'yes') : 'no';
}

/** A bar for the straight-line barrier, scaled to the largest over k: the plot of barrier against k. */
function bar(x: number, largest: number, width = 24): string {
  return largest > 0 ? '█'.repeat(Math.round((width * x) / largest)) : '';
}

/** The table of k, barriers and the verdict, with a header and the first stable k. */
export function renderInstability(r: InstabilityResult): string[] {
  const pairs = r.spawns[0]?.pairs.length ?? 1;
  const kinds = r.config.optimized ? ['straight', 'optimized'] : ['straight'];
  const head = ['k', ...kinds.flatMap((k) => (pairs > 1 ? [`${k} mean`, `${k} max`, 'max/loss'] : [k, '/loss'])), 't at max', ...kinds.map((k) => (k === 'straight' ? 'below?' : 'opt. below?')), 'straight barrier against k'];
  const largest = Math.max(0, ...r.spawns.map((s) => s.straight.max));
  const rows = r.spawns.map((s: InstabilitySpawn) => [
    String(s.epoch),
    ...barrierCells(s.straight, pairs),
    ...(s.optimized ? barrierCells(s.optimized, pairs) : []),
    highestPoint(s),
    verdict(s.straight.belowThreshold, s.epoch === r.firstStableEpoch),
    ...(s.optimized ? [verdict(s.optimized.belowThreshold, s.epoch === r.firstStableEpochOptimized)] : []),
    bar(s.straight.max, largest),
  ]);
  const stable = (k: number | null | undefined, what: string) => (k === null || k === undefined ? `no spawn epoch is stable (${what})` : `first stable spawn epoch: ${k} (${what})`);
  return [
    `instability of ${r.model} on ${r.dataset.name} (${r.dataset.trainSize} training rows, ${r.paramCount} parameters), ${r.config.children} children per spawn epoch, ${r.config.epochs} epochs`,
    `parent: final train loss ${fmt(r.parent.trainLoss)}, test loss ${fmt(r.parent.testLoss)}; barrier = largest loss on the line minus the mean of its two endpoint losses`,
    '',
    table([head, ...rows]),
    '',
    `threshold ${r.config.threshold}: ${THRESHOLD_RULE}`,
    stable(r.firstStableEpoch, 'straight line'),
    ...(r.config.optimized ? [stable(r.firstStableEpochOptimized, 'optimized path')] : []),
    `runs trained ${r.trained.runs}, reused: parent ${r.reused.parent ? 'yes' : 'no'}, children ${r.reused.children}, barriers ${r.reused.barriers}`,
  ];
}
