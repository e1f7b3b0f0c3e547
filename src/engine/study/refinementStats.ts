/**
 * How much the refinement (climbing-image band onto the saddle) lowered the
 * barrier height H on the study's pairs: before − after, absolute and
 * relative to the optimised path's barrier above the mean endpoint loss,
 * and how many tops the Hessian certified as index-1 saddles.
 */
import type { StudyBarrier } from './study';

export interface RefinementStats {
  /** Pairs that were refined. */
  pairs: number;
  /** Pairs whose refined band was kept (it came out no higher). */
  kept: number;
  meanLowered: number;
  maxLowered: number;
  /** lowered / (optimised H − mean endpoint loss), the share of the barrier removed. */
  meanRelative: number;
  maxRelative: number;
  /** Tops with exactly one negative Hessian eigenvalue. */
  indexOne: number;
}

export function refinementStats(barriers: readonly StudyBarrier[]): RefinementStats | undefined {
  const refined = barriers.filter((b) => b.refinement);
  if (!refined.length) return undefined;
  const lowered = refined.map((b) => b.refinement!.lowered);
  const relative = refined.map((b) => {
    const barrier = b.refinement!.optimizedHeight - (b.lossA + b.lossB) / 2;
    return barrier > 0 ? b.refinement!.lowered / barrier : 0;
  });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    pairs: refined.length,
    kept: refined.filter((b) => b.refinement!.kept).length,
    meanLowered: mean(lowered),
    maxLowered: Math.max(...lowered),
    meanRelative: mean(relative),
    maxRelative: Math.max(...relative),
    indexOne: refined.filter((b) => b.refinement!.saddle?.negativeEigenvalues === 1).length,
  };
}

/** One sentence for the report and the terminal summary. */
export function describeRefinement(s: RefinementStats | undefined, fmt: (x: number) => string): string {
  if (!s) return 'Paths were not refined (--refine none): the heights are the plain FourierPathFinder\'s.';
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  return (
    `The climbing-image refinement lowered H on ${s.kept} of ${s.pairs} pairs: by ${fmt(s.meanLowered)} on average (${pct(s.meanRelative)} of the optimized barrier), ` +
    `at most ${fmt(s.maxLowered)} (${pct(s.maxRelative)}); ${s.indexOne} of ${s.pairs} tops are certified index-1 saddles (one negative Hessian eigenvalue).`
  );
}
