import * as fs from 'fs';
import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint, OpenedCheckpoint } from '../../engine/evaluate';
import { KERNELS, KernelName, kernelPCA } from '../../engine/analysis';
import type { CommandDef } from './types';
import { COMMON_FLAGS, checkpointsInFolder, emitResult, expandCheckpointArgs, metaNumber, positiveInt, shortLabels, checkOutputPath } from './common-analysis';

const flags: FlagSpec[] = [
  { name: 'kernel', type: 'string', description: 'kernel', choices: KERNELS, defaultText: 'rbf' },
  { name: 'gamma', type: 'number', description: 'γ of the rbf, polynomial and sigmoid kernels', defaultText: '1/P (P = parameters: 2σ² = P for rbf)' },
  { name: 'degree', type: 'int', description: 'degree of the polynomial kernel', defaultText: '3' },
  { name: 'coef0', type: 'number', description: 'coef0 of the polynomial and sigmoid kernels', defaultText: '1' },
  { name: 'components', type: 'int', description: 'components kept', defaultText: '2' },
  { name: 'trajectory', type: 'string', description: "project a run's checkpoints (checkpoints/epoch-NNNN) into the fitted map as an overlay", metavar: 'run-dir' },
  ...COMMON_FLAGS,
];

/** One checkpoint's place in the map, with what its metadata says about it. */
export interface KpcaPoint {
  file: string;
  label: string;
  /** The run folder (holding run.json) the checkpoint belongs to, by name. */
  run?: string;
  optimizer?: string;
  epoch?: number;
  model: string;
  /** Train loss and accuracy recorded in the metadata. */
  loss?: number;
  accuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  coords: number[];
}

function runOf(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  if (path.basename(dir) === 'checkpoints' && !fs.existsSync(path.join(dir, 'run.json'))) dir = path.dirname(dir);
  return fs.existsSync(path.join(dir, 'run.json')) ? path.basename(dir) : undefined;
}

function pointOf(ck: OpenedCheckpoint, label: string, coords: number[]): KpcaPoint {
  const m = ck.meta;
  const p: KpcaPoint = { file: ck.file, label, model: ck.specString, coords };
  const run = runOf(ck.file);
  if (run) p.run = run;
  if (m.optimizer) p.optimizer = m.optimizer;
  const numbers: [keyof KpcaPoint, string][] = [
    ['epoch', 'epoch'],
    ['loss', 'trainLoss'],
    ['accuracy', 'trainAccuracy'],
    ['testLoss', 'testLoss'],
    ['testAccuracy', 'testAccuracy'],
  ];
  for (const [k, key] of numbers) {
    const v = metaNumber(m, key);
    if (v !== undefined) (p as unknown as Record<string, number>)[k] = v;
  }
  return p;
}

/** A run's trajectory checkpoints in epoch order: checkpoints/*.safetensors, or the folder's own files. */
function trajectoryFiles(dir: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw inputError('--trajectory folder not found; check the path of the run folder', dir);
  }
  if (!st.isDirectory()) throw inputError('--trajectory needs a run folder (with checkpoints/epoch-NNNN.safetensors), not a file', dir);
  const sub = path.join(dir, 'checkpoints');
  const files = fs.existsSync(sub) ? checkpointsInFolder(sub) : checkpointsInFolder(dir);
  if (files.length === 0) throw inputError('has no checkpoints to project; train with --checkpoint-every k to save a trajectory', dir);
  return files;
}

export const kpcaCommand: CommandDef = {
  name: 'kpca',
  usage: '<checkpoints… | folder> [--kernel rbf] [--components 2] [--trajectory run-dir] [--json] [--out file.json]',
  summary: 'Kernel PCA map of checkpoints (solutions), with explained variance; optionally a run\'s trajectory projected into it.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoints', required: true },
      { at: '--trajectory', kind: 'runDir' },
      { at: '--out', kind: 'outFile' },
    ],
    quick: [],
  },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'kpca');
    checkOutputPath(f.out as string | undefined);
    if (positionals.length === 0) throw inputError('"landscape kpca" needs checkpoint files or a folder of them, e.g. landscape kpca runs/');
    const components = positiveInt(f.components, 'components') ?? 2;
    const files = expandCheckpointArgs(positionals);
    const backend = await initBackend(f.backend as string | undefined);
    const model = f.model as string | undefined;
    const cks: OpenedCheckpoint[] = [];
    for (const file of files) cks.push(await loadAnyCheckpoint(file, model));
    const names = cks.map((c) => c.file);
    const res = await kernelPCA(
      cks.map((c) => c.theta),
      {
        kernel: (f.kernel as KernelName | undefined) ?? 'rbf',
        gamma: f.gamma as number | undefined,
        degree: f.degree as number | undefined,
        coef0: f.coef0 as number | undefined,
        components,
        names,
        signal,
      },
    );
    const labels = shortLabels(names);
    const points = cks.map((ck, i) => pointOf(ck, labels[i], res.projections[i]));

    let trajectory: { run: string; folder: string; points: KpcaPoint[] } | undefined;
    if (f.trajectory !== undefined) {
      const dir = f.trajectory as string;
      const tfiles = trajectoryFiles(dir);
      const tcks: OpenedCheckpoint[] = [];
      for (const file of tfiles) tcks.push(await loadAnyCheckpoint(file, model));
      // Epoch order, not name order: checkpoints from other tools need not be zero-padded.
      tcks.sort((a, b) => (metaNumber(a.meta, 'epoch') ?? Infinity) - (metaNumber(b.meta, 'epoch') ?? Infinity));
      const coords = res.transform(
        tcks.map((c) => c.theta),
        tcks.map((c) => c.file),
      );
      const tlabels = shortLabels(tcks.map((c) => c.file));
      trajectory = { run: path.basename(path.resolve(dir)), folder: dir, points: tcks.map((ck, i) => pointOf(ck, tlabels[i], coords[i])) };
    }

    const result = {
      command: 'kpca',
      backend: backend.name,
      kernel: res.kernel,
      components: res.components,
      n: res.n,
      dim: res.dim,
      eigenvalues: res.eigenvalues,
      explainedVariance: res.explainedVariance,
      spectrum: res.spectrum,
      warnings: res.warnings,
      points,
      ...(trajectory ? { trajectory } : {}),
    };
    emitResult(io, f, result, () => {
      const k = res.kernel;
      const params = [k.gamma !== undefined ? `γ = ${fmt(k.gamma)}` : '', k.degree !== undefined ? `degree ${k.degree}` : '', k.coef0 !== undefined ? `coef0 ${fmt(k.coef0)}` : '']
        .filter(Boolean)
        .join(', ');
      const pcs = Array.from({ length: res.components }, (_, c) => `PC${c + 1}`);
      const lines = [
        `kernel PCA of ${res.n} checkpoints (${res.dim} parameters), ${k.kernel} kernel${params ? ` (${params})` : ''}; ${describeBackend(backend)}`,
        `explained variance: ${pcs.map((p, c) => `${p} ${(100 * res.explainedVariance[c]).toFixed(1)} %`).join(', ')}`,
        '',
      ];
      const row = (p: KpcaPoint) => [p.label, p.run ?? '-', p.optimizer ?? '-', p.epoch === undefined ? '-' : String(p.epoch), fmt(p.loss), fmt(p.testAccuracy, 3), ...p.coords.map((x) => fmt(x))];
      const head = ['checkpoint', 'run', 'optimizer', 'epoch', 'train loss', 'test acc', ...pcs];
      lines.push(table([head, ...points.map(row)]));
      if (trajectory) {
        lines.push('', `trajectory of ${trajectory.run} (${trajectory.points.length} checkpoints, projected with the fitted centring)`);
        lines.push(table([head, ...trajectory.points.map(row)]));
      }
      for (const w of res.warnings) lines.push(`warning: ${w}`);
      return lines;
    });
    return 0;
  },
};
