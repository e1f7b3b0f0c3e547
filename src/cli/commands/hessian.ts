import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint } from '../../engine/evaluate';
import { HVP_MODES, type HvpMode } from '../../engine/analysis';
import { hessianAnalysis } from '../../engine/checkpointAnalysis';
import type { CommandDef } from './types';
import { COMMON_FLAGS, DATASET_FLAG, SUBSET_FLAG, subsetFlag, emitResult, positiveInt, requireFile, checkOutputPath, checkpointAnalysisFiles, tensorMapOption } from './common-analysis';
import { objectiveForCheckpoint } from '../../engine/checkpointObjective';
import { densityLines, perLayerLines } from './hessianText';

const flags: FlagSpec[] = [
  { name: 'k', type: 'int', description: 'how many top eigenvalues', defaultText: '1' },
  { name: 'iterations', type: 'int', description: 'maximum Lanczos steps (Hessian-vector products) for the top eigenvalues, and per layer with --per-layer', defaultText: 'max(20, 3k + 10); 30 per layer' },
  { name: 'trace', type: 'boolean', description: "also estimate the trace (Hutchinson's estimator)" },
  { name: 'samples', type: 'int', description: 'Rademacher probes for --trace, and per layer with --per-layer', defaultText: '64' },
  { name: 'density', type: 'boolean', description: 'also the eigenvalue density by stochastic Lanczos quadrature (Gaussian-broadened Ritz values of --runs random start vectors)' },
  { name: 'runs', type: 'int', description: 'start vectors (Lanczos runs) for --density', defaultText: '8' },
  { name: 'steps', type: 'int', description: 'Lanczos steps per run for --density', defaultText: '60' },
  { name: 'sigma', type: 'number', description: 'Gaussian broadening of the --density', defaultText: "1 % of the Ritz values' span" },
  { name: 'per-layer', type: 'boolean', description: "also each layer's top eigenvalue and trace of its diagonal Hessian block (weight and bias together)" },
  { name: 'seed', type: 'int', description: 'seed of the Lanczos start vectors and the probes', defaultText: '0' },
  { name: 'hvp', type: 'string', description: 'Hessian-vector products', choices: [...HVP_MODES], defaultText: 'auto' },
  { name: 'lr', type: 'number', description: 'learning rate η for the stability verdict (plain gradient descent)', defaultText: "the checkpoint's optimizer and learning rate" },
  DATASET_FLAG,
  SUBSET_FLAG,
  ...COMMON_FLAGS,
];

/** --density with its --runs, --steps and --sigma (which need it), checked. */
function densityFlags(f: Record<string, unknown>): { runs: number; steps: number; sigma?: number } | undefined {
  if (!f.density) {
    const stray = ['runs', 'steps', 'sigma'].find((n) => f[n] !== undefined);
    if (stray) throw inputError(`--${stray} sets up the eigenvalue density; add --density`);
    return undefined;
  }
  const runs = positiveInt(f.runs, 'runs', 2) ?? 8;
  const steps = positiveInt(f.steps, 'steps') ?? 60;
  const sigma = f.sigma as number | undefined;
  if (sigma !== undefined && !(sigma > 0 && Number.isFinite(sigma))) throw inputError(`--sigma must be a positive number, got ${sigma}`);
  return { runs, steps, ...(sigma !== undefined ? { sigma } : {}) };
}

export const hessianCommand: CommandDef = {
  name: 'hessian',
  usage: '<checkpoint> [--k 1] [--iterations n] [--trace] [--samples 64] [--density [--runs 8] [--steps 60] [--sigma s]] [--per-layer] [--seed 0] [--hvp auto] [--lr η] [--json] [--out file.json]',
  summary: 'Top Hessian eigenvalues (Lanczos), optional trace (Hutchinson), eigenvalue density (SLQ) and per-layer curvature, and the stability verdict against 2/η.',
  flags,
  fileArgs: checkpointAnalysisFiles(['--iterations', '3']),
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'hessian');
    checkOutputPath(f.out as string | undefined);
    if (positionals.length !== 1) throw inputError('"landscape hessian" needs exactly one checkpoint file, e.g. landscape hessian runs/x/final.safetensors');
    const file = requireFile(positionals[0]);
    const k = positiveInt(f.k, 'k') ?? 1;
    const iterations = positiveInt(f.iterations, 'iterations');
    const samples = positiveInt(f.samples, 'samples', 2);
    const seed = positiveInt(f.seed, 'seed', 0) ?? 0;
    if (f.lr !== undefined && !((f.lr as number) > 0)) throw inputError(`--lr must be a positive number, got ${f.lr}`);
    const density = densityFlags(f);
    const backend = await initBackend(f.backend as string | undefined);
    const ck = await loadAnyCheckpoint(file, f.model as string | undefined, tensorMapOption(f));
    const obj = await objectiveForCheckpoint(ck, { dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset) });
    try {
      const a = await hessianAnalysis(ck, obj, {
        k,
        iterations,
        traceSamples: f.trace ? (samples ?? 64) : 0,
        seed,
        hvp: (f.hvp as HvpMode | undefined) ?? 'auto',
        ...(f.lr !== undefined ? { lr: { value: f.lr as number, source: 'flag' as const } } : {}),
        ...(density ? { density } : {}),
        ...(f.perLayer ? { perLayer: { iterations, samples } } : {}),
        signal,
      });
      const { stability, trace } = a;
      const l2 = stability.l2 ?? 0;
      emitResult(io, f, a, () => {
        const lines = [
          `${file}: ${a.model} (${a.dim} parameters), training loss ${fmt(a.objective.loss)} on ${a.objective.dataset} (${a.objective.samples} samples); ${describeBackend(backend)}`,
          `Hessian-vector products: ${a.hvp}${a.hvpFallbackReason ? ` (${a.hvpFallbackReason})` : ''}`,
          ...(a.hvpCheckNote ? [`step-halving check: ${a.hvpCheckNote}`] : []),
          `Lanczos: ${a.iterations} iterations, ${a.converged ? 'converged' : 'not converged (raise --iterations)'}, seed ${seed}`,
          '',
          table([['', 'eigenvalue', '± error estimate', 'residual'], ...a.eigenvalues.map((v, i) => [`λ${i + 1}`, fmt(v), fmt(a.errorEstimates[i]), fmt(a.residuals[i])])]),
        ];
        if (trace) lines.push('', `trace ≈ ${fmt(trace.estimate)} ± ${fmt(trace.standardError)} (standard error, ${trace.samples} Rademacher samples)`);
        if (a.density) lines.push('', ...densityLines(a.density, a.dim));
        if (a.perLayer) lines.push('', ...perLayerLines(a.perLayer));
        const lrText = stability.lr !== undefined ? `η = ${fmt(stability.lr)} (${stability.lrSource === 'flag' ? '--lr' : `${stability.optimizer}, from the metadata`})` : 'no η';
        lines.push('', `stability (${lrText}): ${stability.verdict === 'not-applicable' ? 'no verdict: ' : ''}${stability.message}`);
        if (stability.threshold !== undefined) lines.push(`λmax${l2 > 0 ? ` + l2` : ""} ${fmt(stability.lambdaMax)} against the ${stability.limit === 2 ? '2/η' : `${fmt(stability.limit, 3)}/η`} line ${fmt(stability.threshold)}`);
        return lines;
      });
      return 0;
    } finally {
      obj.dispose();
    }
  },
};
