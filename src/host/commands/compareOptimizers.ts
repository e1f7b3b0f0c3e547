import type { Services } from '../services';

/** Landscape: Compare Optimizers — the optimizer study (SGD against L-BFGS), then its report. */
export async function compareOptimizers(s: Services): Promise<void> {
  await s.study.start();
}
