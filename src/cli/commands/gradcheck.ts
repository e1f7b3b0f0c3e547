import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint } from '../../engine/evaluate';
import type { GradCheckProbe, GradCheckResult, HvpConsistency } from '../../engine/analysis';
import { gradcheckAnalysis } from '../../engine/checkpointAnalysis';
import type { CommandDef } from './types';
import { COMMON_FLAGS, DATASET_FLAG, SUBSET_FLAG, subsetFlag, emitResult, positiveInt, requireFile, checkOutputPath, checkpointAnalysisFiles, tensorMapOption } from './common-analysis';
import { objectiveForCheckpoint } from '../../engine/checkpointObjective';

const flags: FlagSpec[] = [
  { name: 'coordinates', type: 'int', description: 'random coordinates probed', defaultText: '20' },
  { name: 'directions', type: 'int', description: 'random unit directions probed', defaultText: '10' },
  { name: 'seed', type: 'int', description: 'seed of the coordinates and directions', defaultText: '0' },
  { name: 'tolerance', type: 'number', description: 'relative tolerance of a probe', defaultText: '0.01' },
  DATASET_FLAG,
  SUBSET_FLAG,
  ...COMMON_FLAGS,
];

function probeName(p: GradCheckProbe): string {
  return p.kind === 'coordinate' ? `θ[${p.index}]` : p.kind === 'direction' ? `direction ${p.direction}` : 'gradient';
}

export const gradcheckCommand: CommandDef = {
  name: 'gradcheck',
  usage: '<checkpoint> [--coordinates 20] [--directions 10] [--seed 0] [--json] [--out file.json]',
  summary: 'Check the autodiff gradient against central differences (float32-aware steps); flags ReLU kinks. Exit 0 with a PASS/FAIL verdict.',
  flags,
  fileArgs: checkpointAnalysisFiles(['--coordinates', '2', '--directions', '1']),
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'gradcheck');
    checkOutputPath(f.out as string | undefined);
    if (positionals.length !== 1) throw inputError('"landscape gradcheck" needs exactly one checkpoint file, e.g. landscape gradcheck runs/x/final.safetensors');
    const file = requireFile(positionals[0]);
    const coordinates = positiveInt(f.coordinates, 'coordinates', 0);
    const directions = positiveInt(f.directions, 'directions', 0);
    const seed = positiveInt(f.seed, 'seed', 0) ?? 0;
    if (f.tolerance !== undefined && !((f.tolerance as number) > 0)) throw inputError(`--tolerance must be a positive number, got ${f.tolerance}`);
    const backend = await initBackend(f.backend as string | undefined);
    const ck = await loadAnyCheckpoint(file, f.model as string | undefined, tensorMapOption(f));
    const obj = await objectiveForCheckpoint(ck, { dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset) });
    try {
      const r = await gradcheckAnalysis(ck, obj, { coordinates, directions, seed, tolerance: f.tolerance as number | undefined, signal });
      emitResult(io, f, r, () => {
        const lines = [
          `${file}: ${r.model} ${r.activation} (${r.dim} parameters), training loss ${fmt(r.loss)} on ${r.objective.dataset}; ${describeBackend(backend)}`,
          `${r.probes.length} probes (seed ${seed}), tolerance ${fmt(r.tolerance)}, measured loss noise ${fmt(r.relativeNoise)} relative; kinks by ${r.kinkMethod === 'detector' ? 'ReLU sign changes' : 'step dependence'}`,
          `max relative error ${fmt(r.maxRelError)} (smooth probes ${fmt(r.maxRelErrorSmooth)}), ${r.failures} failed, ${r.kinks} at ReLU kinks, ${r.unresolved} below float32 resolution`,
        ];
        const shown = r.probes
          .map((p, i) => ({ p, i }))
          .filter(({ p, i }) => p.status !== 'ok' || i === r.worst)
          .slice(0, 20);
        if (shown.length) {
          lines.push('');
          lines.push(table([['probe', 'analytic', 'numeric', 'rel. error', 'status'], ...shown.map(({ p }) => [probeName(p), fmt(p.analytic), fmt(p.numeric), fmt(p.relError), p.status + (p.crossings ? ` (${p.crossings} sign changes)` : '')])]));
        }
        if (r.hessian) lines.push(describeHessianConsistency(r.hessian));
        lines.push('', verdictLine(r));
        return lines;
      });
      return 0;
    } finally {
      obj.dispose();
    }
  },
};

/** The exact Hessian-vector products against central differences of the same gradient. */
function describeHessianConsistency(h: HvpConsistency): string {
  const kinks = h.probes.filter((p) => p.kink).length;
  const smooth = kinks < h.probes.length ? `max relative error ${fmt(h.maxRelErrorSmooth)} where no kink is crossed, ` : '';
  return (
    `exact Hessian-vector products against differences of the gradient: ${h.probes.length} directions, ` +
    `${smooth}${h.failures} failed${kinks ? `, ${kinks} across ReLU kinks (differences cannot match there)` : ''}`
  );
}

function verdictLine(r: GradCheckResult): string {
  const hvpFailures = r.hessian?.failures ?? 0;
  if (r.passed) {
    const kinkNote = r.kinks ? ` (${r.kinks} probe${r.kinks === 1 ? '' : 's'} straddle ReLU kinks, where differences cannot match)` : '';
    return `PASS: the gradient matches central differences${r.hessian ? ', and the Hessian-vector products match the gradient' : ''}${kinkNote}`;
  }
  if (r.failures === 0 && hvpFailures > 0) return `FAIL: the exact Hessian-vector products disagree with differences of the gradient along ${hvpFailures} direction${hvpFailures === 1 ? '' : 's'} without a kink to explain it`;
  return `FAIL: ${r.failures} probe${r.failures === 1 ? '' : 's'} disagree beyond tolerance without a kink to explain it`;
}
