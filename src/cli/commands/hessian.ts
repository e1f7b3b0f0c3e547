import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { computeError, inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint } from '../../engine/evaluate';
import { HvpMode, hessianTopEigenvalues, hessianTrace } from '../../engine/analysis';
import { optimizerStability } from '../../engine/trainingStability';
import type { CommandDef } from './types';
import { COMMON_FLAGS, DATASET_FLAG, emitResult, positiveInt, requireFile, checkOutputPath } from './common-analysis';
import { objectiveForCheckpoint } from '../../engine/checkpointObjective';

const flags: FlagSpec[] = [
  { name: 'k', type: 'int', description: 'how many top eigenvalues', defaultText: '1' },
  { name: 'iterations', type: 'int', description: 'maximum Lanczos steps (Hessian-vector products)', defaultText: 'max(20, 3k + 10)' },
  { name: 'trace', type: 'boolean', description: "also estimate the trace (Hutchinson's estimator)" },
  { name: 'samples', type: 'int', description: 'Rademacher probes for --trace', defaultText: '64' },
  { name: 'seed', type: 'int', description: 'seed of the Lanczos start vector and the trace probes', defaultText: '0' },
  { name: 'hvp', type: 'string', description: 'Hessian-vector products', choices: ['auto', 'autodiff', 'finite-difference'], defaultText: 'auto' },
  { name: 'lr', type: 'number', description: 'learning rate η for the stability verdict (plain gradient descent)', defaultText: "the checkpoint's optimizer and learning rate" },
  DATASET_FLAG,
  ...COMMON_FLAGS,
];

/** The learning rate and momentum the checkpoint was trained with, from its hyperparameters metadata. */
function recordedHyperparameters(meta: Record<string, string>, file: string): { lr?: number; momentum?: number; l2?: number } {
  if (!meta.hyperparameters) return {};
  let hp: unknown;
  try {
    hp = JSON.parse(meta.hyperparameters);
  } catch {
    throw inputError('has unreadable hyperparameters metadata (not JSON); pass --lr', file);
  }
  const o = typeof hp === 'object' && hp !== null ? (hp as Record<string, unknown>) : {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { lr: num(o.lr), momentum: num(o.momentum), l2: num(o.l2) };
}

export const hessianCommand: CommandDef = {
  name: 'hessian',
  usage: '<checkpoint> [--k 1] [--iterations n] [--trace] [--samples 64] [--seed 0] [--hvp auto] [--lr η] [--json] [--out file.json]',
  summary: 'Top Hessian eigenvalues (Lanczos), optional trace (Hutchinson), and the stability verdict against 2/η.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoint', required: true },
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outFile' },
    ],
    quick: ['--iterations', '3'],
  },
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
    const backend = await initBackend(f.backend as string | undefined);
    const ck = await loadAnyCheckpoint(file, f.model as string | undefined);
    const obj = await objectiveForCheckpoint(ck, { dataset: f.dataset as string | undefined });
    try {
      const hvp = (f.hvp as HvpMode | undefined) ?? 'auto';
      const eig = await hessianTopEigenvalues(obj.objective, ck.theta, { k, iterations, seed, hvp, signal });
      const bad = eig.eigenvalues.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw computeError(`eigenvalue ${bad + 1} is not finite (${eig.eigenvalues[bad]})`, file);
      const trace = f.trace ? await hessianTrace(obj.objective, ck.theta, { samples, seed, hvp, signal }) : undefined;
      if (trace && !(Number.isFinite(trace.trace) && Number.isFinite(trace.standardError))) throw computeError(`the trace estimate is not finite (${trace.trace})`, file);

      const fromFlag = f.lr !== undefined;
      const hp = fromFlag ? { lr: f.lr as number } : recordedHyperparameters(ck.meta, file);
      const optimizer = fromFlag ? 'gd' : ck.meta.optimizer;
      // Training descended the loss plus (l2/2)‖θ‖², whose Hessian is shifted by l2.
      const l2 = fromFlag ? 0 : (hp.l2 ?? 0);
      const stability = {
        ...optimizerStability(eig.eigenvalues[0] + l2, optimizer, hp),
        ...(l2 > 0 ? { l2 } : {}),
        lrSource: fromFlag ? 'flag' : hp.lr !== undefined ? 'metadata' : 'none',
        optimizer: fromFlag ? 'gradient descent (--lr)' : (optimizer ?? null),
      };

      const result = {
        command: 'hessian',
        file,
        backend: backend.name,
        model: ck.specString,
        dim: ck.theta.length,
        objective: { dataset: obj.dataset, split: obj.split, samples: obj.trainSize, loss: eig.loss },
        eigenvalues: eig.eigenvalues,
        errorEstimates: eig.errorEstimates,
        residuals: eig.residuals,
        iterations: eig.iterations,
        converged: eig.converged,
        restarts: eig.restarts,
        hvp: eig.hvp,
        ...(eig.hvpFallbackReason ? { hvpFallbackReason: eig.hvpFallbackReason } : {}),
        ...(eig.hvpCheck ? { hvpCheck: eig.hvpCheck } : {}),
        ...(eig.fdStep !== undefined ? { fdStep: eig.fdStep } : {}),
        seed,
        k,
        ...(trace ? { trace: { estimate: trace.trace, standardError: trace.standardError, samples: trace.samples, hvp: trace.hvp, seed: trace.seed } } : {}),
        stability,
      };
      emitResult(io, f, result, () => {
        const lines = [
          `${file}: ${ck.specString} (${ck.theta.length} parameters), training loss ${fmt(eig.loss)} on ${obj.dataset} (${obj.trainSize} samples); ${describeBackend(backend)}`,
          `Hessian-vector products: ${eig.hvp}${eig.hvpFallbackReason ? ` (${eig.hvpFallbackReason})` : ''}`,
          `Lanczos: ${eig.iterations} iterations, ${eig.converged ? 'converged' : 'not converged (raise --iterations)'}, seed ${seed}`,
          '',
          table([['', 'eigenvalue', '± error estimate', 'residual'], ...eig.eigenvalues.map((v, i) => [`λ${i + 1}`, fmt(v), fmt(eig.errorEstimates[i]), fmt(eig.residuals[i])])]),
        ];
        if (trace) lines.push('', `trace ≈ ${fmt(trace.trace)} ± ${fmt(trace.standardError)} (standard error, ${trace.samples} Rademacher samples)`);
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
