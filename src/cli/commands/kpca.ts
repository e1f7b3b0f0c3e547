import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint, OpenedCheckpoint } from '../../engine/evaluate';
import { KERNELS, KernelName } from '../../engine/analysis';
import { kpcaAnalysis } from '../../engine/checkpointAnalysis';
import type { CommandDef } from './types';
import type { KpcaData, KpcaOverlay } from '../../results/kpca';
import { COMMON_FLAGS, emitResult, expandCheckpointArgs, positiveInt, checkOutputPath, tensorMapOption } from './common-analysis';

const flags: FlagSpec[] = [
  { name: 'kernel', type: 'string', description: 'kernel', choices: KERNELS, defaultText: 'rbf' },
  { name: 'gamma', type: 'number', description: 'γ of the rbf, polynomial and sigmoid kernels', defaultText: '1/P (P = parameters: 2σ² = P for rbf)' },
  { name: 'degree', type: 'int', description: 'degree of the polynomial kernel', defaultText: '3' },
  { name: 'coef0', type: 'number', description: 'coef0 of the polynomial and sigmoid kernels', defaultText: '1' },
  { name: 'components', type: 'int', description: 'components kept', defaultText: '2' },
  { name: 'trajectory', type: 'string', description: "project a run's checkpoints (checkpoints/epoch-NNNN) into the fitted map as an overlay", metavar: 'run-dir' },
  ...COMMON_FLAGS,
];

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
    const mapped = tensorMapOption(f);
    for (const file of files) cks.push(await loadAnyCheckpoint(file, model, mapped));
    const r = await kpcaAnalysis(cks, {
      kernel: (f.kernel as KernelName | undefined) ?? 'rbf',
      gamma: f.gamma as number | undefined,
      degree: f.degree as number | undefined,
      coef0: f.coef0 as number | undefined,
      components,
      trajectory: f.trajectory as string | undefined,
      model,
      signal,
    });
    emitResult(io, f, r, () => renderKpca(r, describeBackend(backend)));
    return 0;
  },
};

function renderKpca(r: KpcaData, backend: string): string[] {
  const k = r.kernel;
  const params = [k.gamma !== undefined ? `γ = ${fmt(k.gamma)}` : '', k.degree !== undefined ? `degree ${k.degree}` : '', k.coef0 !== undefined ? `coef0 ${fmt(k.coef0)}` : '']
    .filter(Boolean)
    .join(', ');
  const pcs = Array.from({ length: r.components }, (_, c) => `PC${c + 1}`);
  const lines = [
    `kernel PCA of ${r.n} checkpoints (${r.dim} parameters), ${k.kernel} kernel${params ? ` (${params})` : ''}; ${backend}`,
    `explained variance: ${pcs.map((p, c) => `${p} ${(100 * r.explainedVariance[c]).toFixed(1)} %`).join(', ')}`,
    '',
  ];
  const row = (p: KpcaOverlay['points'][number]) => [p.label, p.run ?? '-', p.optimizer ?? '-', p.epoch === undefined ? '-' : String(p.epoch), fmt(p.loss), fmt(p.testAccuracy, 3), ...p.coords.map((x) => fmt(x))];
  const head = ['checkpoint', 'run', 'optimizer', 'epoch', 'train loss', 'test acc', ...pcs];
  lines.push(table([head, ...r.points.map(row)]));
  for (const t of r.overlays) {
    lines.push('', `${t.label} (${t.points.length} checkpoints, projected with the fitted centring)`);
    lines.push(table([head, ...t.points.map(row)]));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines;
}
