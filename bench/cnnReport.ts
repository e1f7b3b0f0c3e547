/**
 * What the benchmark prints beside W7–W10: the agreement of the two
 * implementations at the initial weights (same network, same vector, same
 * rows: the losses should agree to float32 rounding, about 1e-6 relative),
 * the batched PyTorch variant of W8, and W10's eigenvalues on both sides.
 * BatchNorm in train mode subtracts batch means in its backward pass, so
 * ResNet-20's float32 gradients differ at the 1e-3 level between any two
 * implementations (PyTorch's float32 against its float64: 1.7e-3); the
 * gradient line shows that scale next to the difference.
 */
import { fmtMs, fmtNum } from './stats';

/** The loss alone decides; the gradients are shown (their float32 sums over 2,000 rows differ a little more). */
export const CNN_AGREEMENT_TARGET = 1e-5;

export interface ModelAgreement {
  model: string;
  rows: number;
  ours: { loss: number; gradNorm: number };
  torch: { loss: number; gradNorm: number };
  lossRelDiff: number;
  /** ‖g − g_torch‖ / ‖g_torch‖ (NaN when the reference's gradient could not be read). */
  gradRelDiff: number;
  /** PyTorch's float32 gradient against its float64 one: what rounding alone moves. */
  torchFloat32Error: number;
}

export interface CnnAgreement {
  models: ModelAgreement[];
  withinTarget: boolean;
  /** E.g. LeNet's data was missing on one side. */
  notes: string[];
}

type Info = Record<string, number | string | boolean | undefined>;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);

function numbersOf(info: Info, model: string): ModelAgreement['ours'] & { rows: number; gradRelDiff: number } | undefined {
  const get = (k: string) => Number(info[`${model}.${k}`] ?? NaN);
  if (!Number.isFinite(get('loss'))) return undefined;
  return { loss: get('loss'), gradNorm: get('gradNorm'), rows: get('rows'), gradRelDiff: get('gradRelDiff') };
}

/** `ours` from the child's 'cnn-agreement' task, `torch` from reference_cnn.py's CNNcheck. */
export function compareCnnNumbers(ours: Info, torch: Info): CnnAgreement {
  const models: ModelAgreement[] = [];
  const notes: string[] = [];
  for (const model of ['lenet', 'resnet20']) {
    const o = numbersOf(ours, model);
    const t = numbersOf(torch, model);
    if (!o || !t) {
      notes.push(`${model}: ${String(ours[`${model}.error`] ?? 'no numbers from ' + (o ? 'PyTorch' : 'our side'))}`);
      continue;
    }
    models.push({
      model,
      rows: o.rows,
      ours: o,
      torch: t,
      lossRelDiff: rel(o.loss, t.loss),
      gradRelDiff: o.gradRelDiff,
      torchFloat32Error: Number(torch[`${model}.gradFloat32Error`] ?? NaN),
    });
  }
  return { models, notes, withinTarget: models.length > 0 && models.every((m) => m.lossRelDiff <= CNN_AGREEMENT_TARGET) };
}

export function describeCnnAgreement(a: CnnAgreement): string[] {
  const e = (x: number) => x.toExponential(1);
  const lines = a.models.map(
    (m) =>
      `  ${m.model} (${m.rows} rows): loss ${m.ours.loss.toPrecision(8)} vs ${m.torch.loss.toPrecision(8)} (rel. ${e(m.lossRelDiff)}), ` +
      `gradient ‖g − g_torch‖/‖g_torch‖ = ${Number.isFinite(m.gradRelDiff) ? e(m.gradRelDiff) : 'n/a'} ` +
      `(PyTorch's own float32 gradient is ${Number.isFinite(m.torchFloat32Error) ? e(m.torchFloat32Error) : 'n/a'} from float64)`,
  );
  const verdict = a.models.length === 0 ? 'not compared' : a.withinTarget ? `losses within the ${e(CNN_AGREEMENT_TARGET)} target` : `a loss OUTSIDE the ${e(CNN_AGREEMENT_TARGET)} target`;
  return [`W7–W10 agreement with PyTorch at the initial weights (same flat vector, same rows): ${verdict}`, ...lines, ...a.notes.map((n) => `  ${n}`)];
}

/** W8 against the vmap-batched PyTorch iteration. */
export function describeW8b(b: { medianMs: number; ratio: number }): string {
  return `W8 against PyTorch batched with functorch.vmap (all 20 points in one call, W8b): ${fmtMs(b.medianMs)}, ours/PyTorch ${fmtNum(b.ratio)}`;
}

/** W10's λmax on both sides: Lanczos from different random starts, so equal only once both have converged. */
export function describeW10(ours: Info, torch: Info | undefined): string {
  const lam = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v).toPrecision(6) : 'n/a');
  const t = torch ? `PyTorch ${lam(torch.eigenvalue)} (double backward)` : 'PyTorch n/a';
  return `W10 λmax after 20 Lanczos steps: ours ${lam(ours.eigenvalue)} (${String(ours.hvp ?? '?')} products) vs ${t}`;
}
