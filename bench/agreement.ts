/**
 * The agreement printed beside W5 (issue "Exact numbers"): λmax and the trace
 * of the Hessian at the fixture's point A, from our default Hessian-vector
 * products, against PyTorch's double backward on the same network and rows.
 *
 * Both sides compute quantities that do not depend on random start vectors,
 * so the comparison measures the products and nothing else:
 *   λmax   Lanczos with full reorthogonalisation run to convergence
 *          (AGREEMENT_LANCZOS_STEPS steps, far past what the top eigenvalue needs);
 *   trace  exact, Σᵢ eᵢᵀ H eᵢ over all P unit vectors (not Hutchinson).
 * Not timed: it runs once, after W5's rounds.
 */
import { networkObjective, toDevice } from '../src/engine/model/network';
import { hessianTopEigenvalues } from '../src/engine/analysis/hessian';
import { hessianVectorProduct } from '../src/engine/analysis/hvp';
import type { Fixture } from './fixture';

export const AGREEMENT_LANCZOS_STEPS = 100;
/** The target: relative difference to PyTorch at most this. */
export const AGREEMENT_TARGET = 1e-4;
const UNIT_BATCH = 64;

export interface HessianNumbers {
  lambdaMax: number;
  trace: number;
  /** How the products were formed (ours: 'exact' by default with the fast kernels). */
  hvp: string;
}

export async function ourHessianNumbers(fx: Fixture): Promise<HessianNumbers> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.spec, dev);
  try {
    const top = await hessianTopEigenvalues(f, fx.a, { k: 1, iterations: AGREEMENT_LANCZOS_STEPS, tol: 0 });
    return { lambdaMax: top.eigenvalues[0], trace: exactTrace(f, fx.a, fx.dim), hvp: top.hvp };
  } finally {
    dev.dispose();
  }
}

/** Σᵢ (H eᵢ)ᵢ, products in batches of unit vectors. */
function exactTrace(f: Parameters<typeof hessianVectorProduct>[0], theta: Float32Array, dim: number): number {
  const op = hessianVectorProduct(f, theta);
  try {
    let sum = 0;
    for (let start = 0; start < dim; start += UNIT_BATCH) {
      const count = Math.min(UNIT_BATCH, dim - start);
      const units = Array.from({ length: count }, (_, r) => {
        const e = new Float64Array(dim);
        e[start + r] = 1;
        return e;
      });
      op.apply(units).forEach((hv, r) => (sum += hv[start + r]));
    }
    return sum;
  } finally {
    op.dispose();
  }
}

export interface Agreement {
  ours: HessianNumbers;
  torch: HessianNumbers;
  lambdaMaxRelDiff: number;
  traceRelDiff: number;
  withinTarget: boolean;
}

export function compareHessianNumbers(ours: HessianNumbers, torch: HessianNumbers): Agreement {
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);
  const lambdaMaxRelDiff = rel(ours.lambdaMax, torch.lambdaMax);
  const traceRelDiff = rel(ours.trace, torch.trace);
  return { ours, torch, lambdaMaxRelDiff, traceRelDiff, withinTarget: lambdaMaxRelDiff <= AGREEMENT_TARGET && traceRelDiff <= AGREEMENT_TARGET };
}

export function describeAgreement(a: Agreement): string {
  const e = (x: number) => x.toExponential(1);
  return (
    `W5 agreement with PyTorch's double backward (${AGREEMENT_LANCZOS_STEPS} Lanczos steps; exact trace over all P unit vectors; our products: ${a.ours.hvp}): ` +
    `λmax ${a.ours.lambdaMax.toPrecision(8)} vs ${a.torch.lambdaMax.toPrecision(8)} (rel. ${e(a.lambdaMaxRelDiff)}), ` +
    `trace ${a.ours.trace.toPrecision(8)} vs ${a.torch.trace.toPrecision(8)} (rel. ${e(a.traceRelDiff)}): ` +
    (a.withinTarget ? `within the ${e(AGREEMENT_TARGET)} target` : `OUTSIDE the ${e(AGREEMENT_TARGET)} target`)
  );
}
