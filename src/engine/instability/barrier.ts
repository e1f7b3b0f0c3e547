/**
 * The barrier between the children of one spawn epoch: for each pair, the
 * straight line's height above the mean of its two endpoint losses,
 *   max_t L((1 − t)·θa + t·θb) − (L(θa) + L(θb)) / 2,
 * on the training loss, over 10·(M − 1) + 1 evenly spaced t (findPath's
 * dense grid; t = 0 and 1 included, so it is never negative), and with
 * `optimized` also FourierPathFinder's barrier (default path options, the
 * climbing-image refinement onto the saddle included).
 */
import type { Objective } from '../objective';
import { evaluateValues } from '../objective';
import { findPath } from '../path/find';
import type { HeightSummary, PathOptions } from '../path/types';
import type { HeightNumbers } from '../../results/shapes';
import type { InstabilityPair, PairStatistics } from '../../results/instability';

export interface PairMeasureOptions {
  points: number;
  optimized: boolean;
  signal?: AbortSignal;
}

function heightNumbers(h: HeightSummary): HeightNumbers {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean };
}

function sameWeights(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

/**
 * Identical children: the line between them is one point, so the barrier is
 * 0 exactly. (Measured, (1 − t)·θ + t·θ rounds to neighbours of θ in float32
 * and would report rounding noise as a barrier.)
 */
function identicalPair(fn: Objective, a: number, b: number, theta: Float32Array, optimized: boolean): InstabilityPair {
  const loss = evaluateValues(fn, [theta])[0];
  const zero: HeightNumbers = { height: loss, tAtMax: 0, barrierFromA: 0, barrierFromB: 0, barrierFromMean: 0 };
  return { a, b, lossA: loss, lossB: loss, identical: true, straight: zero, ...(optimized ? { optimized: { ...zero, iterations: 0 } } : {}), profile: { t: [0, 1], straight: [loss, loss] } };
}

/** The barrier of children a and b (1-based numbers, for the record). */
export async function measurePair(fn: Objective, a: number, b: number, thetaA: Float32Array, thetaB: Float32Array, o: PairMeasureOptions): Promise<InstabilityPair> {
  if (sameWeights(thetaA, thetaB)) return identicalPair(fn, a, b, thetaA, o.optimized);
  const options: PathOptions = { points: o.points, signal: o.signal, ...(o.optimized ? {} : { method: 'linear' }) };
  const r = await findPath(fn, thetaA, thetaB, options);
  return {
    a,
    b,
    lossA: r.lossA,
    lossB: r.lossB,
    identical: false,
    straight: heightNumbers(r.linear),
    ...(o.optimized ? { optimized: { ...heightNumbers(r), iterations: r.iterations } } : {}),
    profile: { t: r.linear.profile.t, straight: r.linear.profile.loss, ...(o.optimized ? { optimizedT: r.profile.t, optimized: r.profile.loss } : {}) },
  };
}

/** Every pair of the children, in the order (1,2), (1,3), …, (2,3), … */
export async function measurePairs(fn: Objective, thetas: readonly Float32Array[], o: PairMeasureOptions): Promise<InstabilityPair[]> {
  const pairs: InstabilityPair[] = [];
  for (let i = 0; i < thetas.length; i++) {
    for (let j = i + 1; j < thetas.length; j++) pairs.push(await measurePair(fn, i + 1, j + 1, thetas[i], thetas[j], o));
  }
  return pairs;
}

/**
 * Mean and largest barrier over the pairs, and whether every pair is at most
 * `threshold` × the mean of its two endpoint losses.
 */
export function pairStatistics(pairs: readonly InstabilityPair[], pick: (p: InstabilityPair) => number, threshold: number): PairStatistics {
  const barriers = pairs.map(pick);
  const relative = pairs.map((p, i) => relativeBarrier(barriers[i], (p.lossA + p.lossB) / 2));
  const finite = relative.filter((r): r is number => r !== null);
  return {
    mean: barriers.reduce((s, x) => s + x, 0) / barriers.length,
    max: Math.max(...barriers),
    maxRelative: finite.length === relative.length ? Math.max(...finite) : null,
    belowThreshold: pairs.every((p, i) => barriers[i] <= threshold * ((p.lossA + p.lossB) / 2)),
  };
}

/** barrier / mean endpoint loss; null when the loss is 0 and the barrier is not. */
function relativeBarrier(barrier: number, meanLoss: number): number | null {
  if (barrier <= 0) return 0;
  return meanLoss > 0 ? barrier / meanLoss : null;
}
