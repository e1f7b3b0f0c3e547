/**
 * Nudged elastic band with a climbing image, as a cross-check of the Fourier
 * path: Henkelman & Jónsson 2000 (improved tangent, J. Chem. Phys. 113,
 * 9978) and Henkelman, Uberuaga & Jónsson 2000 (climbing image, ibid. 9901).
 *
 * M images, endpoints fixed, start on the straight line. All images go
 * through the objective in one batched call per iteration. The band moves by
 * quick-min (Jónsson, Mills & Jacobsen 1998): damped dynamics whose velocity is
 * projected onto the force at every step and zeroed when it points uphill,
 * with the time step grown while the motion is downhill and halved when it is
 * not. FIRE was tried first; its inertia across the band (velocity kept
 * perpendicular to the force) grew kinks near the flat minimum of the toy
 * landscape and the band never settled, which quick-min does not do.
 *
 * Scales: the objective's units are unknown (a network's loss, an energy), so
 * the spring constant and time step are set from the first iteration:
 * ℓ = ‖B − A‖/(M − 1) (initial spacing) and g₀ = RMS gradient norm of the
 * interior images. k = g₀/ℓ makes a spacing error of one segment pull with a
 * typical true force; the time unit √(ℓ/g₀) is the time a force g₀ takes to
 * move an image by about ℓ, and the highest spring mode (stiffness 4k) is
 * stable below that. No image moves more than ℓ/2 in one step. The spring
 * only spaces the images along the band; it does not change the converged
 * band's position across the landscape.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { throwIfAborted } from '../errors';
import { checkFinite, evenGrid } from './heights';
import type { BandOptimizer, PathIteration } from './types';
import { bandLbfgsMove, newBandLbfgs, resetBandLbfgs, type BandLbfgs } from './bandLbfgs';
/** Curvature pairs the band's L-BFGS keeps. */
const BAND_LBFGS_MEMORY = 8;

export interface NebRunOptions {
  points: number;
  /**
   * Starting images [M, dim], endpoints included (not disposed here). Absent:
   * the straight line. The spacing scale ℓ is then the band's mean segment
   * length instead of ‖B − A‖/(M − 1).
   */
  initial?: tf.Tensor2D;
  steps: number;
  spring?: number;
  climbFrom: number;
  signal?: AbortSignal;
  onIteration?: (it: PathIteration) => void | Promise<void>;
  batches?: (iteration: number) => Objective;
  /**
   * Stop earlier, once the climbing image's gradient norm is below top·g₀ and
   * the largest band force below band·g₀ (g₀ the first band's RMS gradient).
   */
  stopAt?: { top: number; band: number };
  /** Default 'quick-min'. */
  optimizer?: BandOptimizer;
}

export interface NebRun {
  /** Final images [M, dim], endpoints included; the caller disposes. */
  images: tf.Tensor2D;
  iterations: number;
  objectiveHistory: number[];
  heightHistory: number[];
  spring: number;
  /** Index of the climbing image at the end (−1 if it never climbed). */
  climbingImage: number;
  /** ‖g‖ at the highest interior image of the last band (NaN without interior images). */
  topGradNorm: number;
}

/** Time-step control: grow by STEP_UP after STEP_DELAY downhill steps, shrink by STEP_DOWN on an uphill one. */
const STEP_DELAY = 5;
const STEP_UP = 1.1;
const STEP_DOWN = 0.5;

/**
 * Coefficients (α, β) of the improved tangent τ = α·(R_{i+1} − R_i) + β·(R_i − R_{i−1})
 * from the energies of image i and its neighbours.
 */
export function improvedTangentWeights(vPrev: number, v: number, vNext: number): [number, number] {
  if (vNext > v && v > vPrev) return [1, 0];
  if (vNext < v && v < vPrev) return [0, 1];
  const dMax = Math.max(Math.abs(vNext - v), Math.abs(vPrev - v));
  const dMin = Math.min(Math.abs(vNext - v), Math.abs(vPrev - v));
  // A level neighbourhood gives no preference; the bisector keeps the tangent defined.
  if (dMax === 0) return [1, 1];
  return vNext > vPrev ? [dMax, dMin] : [dMin, dMax];
}

/** M images evenly spaced on the straight line from A to B. */
function straightBand(ab: tf.Tensor2D, m: number): tf.Tensor2D {
  const t = evenGrid(m);
  const lin = new Float32Array(m * 2);
  for (let i = 0; i < m; i++) {
    lin[2 * i] = t[i] === 1 ? 0 : 1 - t[i];
    lin[2 * i + 1] = t[i];
  }
  return tf.tidy(() => tf.matMul(tf.tensor2d(lin, [m, 2]), ab)) as tf.Tensor2D;
}

/** ℓ: ‖B − A‖/(M − 1) for the straight start, else the band's mean segment length. */
function bandSpacing(ab: tf.Tensor2D, images: tf.Tensor2D, m: number, fromLine: boolean): number {
  const len = tf.tidy(() => {
    if (fromLine) return tf.norm(tf.sub(tf.slice(ab, [1, 0], [1, -1]), tf.slice(ab, [0, 0], [1, -1])));
    return tf.sum(tf.norm(tf.sub(tf.slice(images, [1, 0], [m - 1, -1]), tf.slice(images, [0, 0], [m - 1, -1])), 'euclidean', 1));
  });
  const v = len.dataSync()[0];
  len.dispose();
  return v / Math.max(m - 1, 1);
}

/** Unit tangents τ̂ of the interior images, their true gradients g, g·τ̂, ‖g‖ and the spring lengths |τ+|, |τ−|. */
interface BandTangents {
  tHat: tf.Tensor2D;
  g: tf.Tensor2D;
  gPar: Float32Array;
  gNorm: Float32Array;
  /** [|τ+| for each interior image, then |τ−| for each]. */
  lens: Float32Array;
  /** Where the band kinks (see kinkSwitch): the spring's full vector k·(τ+ − τ−) without its part along τ̂ is added there; absent when straight everywhere. */
  kink?: { springPerp: tf.Tensor2D; weight: Float32Array };
}

/**
 * Jónsson, Mills & Jacobsen 1998's switching function f(φ) = ½(1 + cos(π·cos φ)) of the angle φ between
 * τ− and τ+ (1 for φ ≥ 90°): 0 on a straight band, rising where it kinks, so the perpendicular spring
 * straightens zigzags that the projected forces alone leave standing when a band starts far from the path.
 */
export function kinkSwitch(cosPhi: number): number {
  if (!(cosPhi > 0)) return 1;
  return 0.5 * (1 + Math.cos(Math.PI * Math.min(cosPhi, 1)));
}

/** Improved tangents from the neighbours' energies; spring lengths and gradient projections come back as O(M) numbers. */
function bandTangents(images: tf.Tensor2D, grads: tf.Tensor2D, v: Float64Array): BandTangents {
  const inner = images.shape[0] - 2;
  const dim = images.shape[1];
  const geo = tf.tidy(() => {
    const rc = tf.slice(images, [1, 0], [inner, dim]);
    const tp = tf.sub(tf.slice(images, [2, 0], [inner, dim]), rc);
    const tm = tf.sub(rc, tf.slice(images, [0, 0], [inner, dim]));
    return { tp, tm, lens: tf.stack([tf.norm(tp, 'euclidean', 1), tf.norm(tm, 'euclidean', 1), tf.sum(tf.mul(tp, tm), 1)]) };
  });
  const stats = geo.lens.dataSync() as Float32Array;
  geo.lens.dispose();
  const lens = stats.slice(0, 2 * inner);
  const weight = new Float32Array(inner);
  let kinked = false;
  for (let i = 0; i < inner; i++) {
    const denom = stats[i] * stats[inner + i];
    weight[i] = denom > 0 ? kinkSwitch(stats[2 * inner + i] / denom) : 0;
    if (weight[i] > 0) kinked = true;
  }
  const alphaBeta = new Float32Array(inner * 2);
  for (let i = 0; i < inner; i++) {
    const [al, be] = improvedTangentWeights(v[i], v[i + 1], v[i + 2]);
    alphaBeta[i] = al;
    alphaBeta[inner + i] = be;
  }
  const tang = tf.tidy(() => {
    const w = tf.tensor2d(alphaBeta, [2, inner]);
    const tau = tf.add(tf.mul(geo.tp, tf.reshape(tf.slice(w, [0, 0], [1, inner]), [inner, 1])), tf.mul(geo.tm, tf.reshape(tf.slice(w, [1, 0], [1, inner]), [inner, 1])));
    const n = tf.maximum(tf.norm(tau, 'euclidean', 1, true), 1e-30);
    const tHat = tf.div(tau, n) as tf.Tensor2D;
    const g = tf.slice(grads, [1, 0], [inner, dim]) as tf.Tensor2D;
    let springPerp: tf.Tensor2D | undefined;
    if (kinked) {
      const sv = tf.sub(geo.tp, geo.tm);
      springPerp = tf.keep(tf.sub(sv, tf.mul(tHat, tf.sum(tf.mul(sv, tHat), 1, true))) as tf.Tensor2D);
    }
    return { tHat, g: tf.keep(g), gPar: tf.sum(tf.mul(g, tHat), 1), gNorm: tf.norm(g, 'euclidean', 1), springPerp };
  });
  geo.tp.dispose();
  geo.tm.dispose();
  const gPar = tang.gPar.dataSync() as Float32Array;
  const gNorm = tang.gNorm.dataSync() as Float32Array;
  tang.gPar.dispose();
  tang.gNorm.dispose();
  return { tHat: tang.tHat, g: tang.g, gPar, gNorm, lens, ...(tang.springPerp ? { kink: { springPerp: tang.springPerp, weight } } : {}) };
}

/** The interior image with the highest energy (index among the interior images). */
function highestInterior(v: Float64Array, inner: number): number {
  let best = -Infinity;
  let climbing = -1;
  for (let i = 0; i < inner; i++) if (v[i + 1] > best) { best = v[i + 1]; climbing = i; }
  return climbing;
}

/**
 * F = −g + c·τ̂: c = g∥ + k(|τ+| − |τ−|) removes the true force along the band and adds the spring
 * along it; the climbing image instead gets its true force along the band reversed (c = 2·g∥).
 * Consumes the tangents' tensors.
 */
function nebForces(tg: BandTangents, k: number, climbing: number): tf.Tensor2D {
  const inner = tg.gPar.length;
  const c = new Float32Array(inner);
  for (let i = 0; i < inner; i++) c[i] = i === climbing ? 2 * tg.gPar[i] : tg.gPar[i] + k * (tg.lens[i] - tg.lens[inner + i]);
  const force = tf.tidy(() => {
    const f = tf.sub(tf.mul(tg.tHat, tf.tensor2d(c, [inner, 1])), tg.g);
    if (!tg.kink) return f;
    // The climbing image gets no spring at all.
    const w = Float32Array.from(tg.kink.weight, (x, i) => (i === climbing ? 0 : k * x));
    return tf.add(f, tf.mul(tg.kink.springPerp, tf.tensor2d(w, [inner, 1])));
  }) as tf.Tensor2D;
  tg.tHat.dispose();
  tg.g.dispose();
  tg.kink?.springPerp.dispose();
  return force;
}

/** The band's step scales, set from the first iteration (see the file comment). */
interface QuickMin {
  k: number;
  dt: number;
  dtMax: number;
  sinceUphill: number;
  g0: number;
  /** ℓ, the spacing scale; no image moves more than ℓ/2 in one step. */
  spacing: number;
}

function calibrate(q: QuickMin, gNorm: Float32Array): void {
  let ss = 0;
  for (const x of gNorm) ss += x * x;
  q.g0 = Math.sqrt(ss / gNorm.length);
  const gScale = q.g0 > 0 ? q.g0 : 1;
  const len = q.spacing > 0 ? q.spacing : 1;
  if (!Number.isFinite(q.k)) q.k = gScale / len;
  const timeUnit = Math.sqrt(len / gScale);
  q.dt = 0.1 * timeUnit;
  q.dtMax = 0.5 * timeUnit;
}

/** Largest and total squared force norm over the images, and the power F·v. */
function forceStats(force: tf.Tensor2D, velocity: tf.Tensor2D): { fMax: number; fss: number; power: number } {
  const inner = force.shape[0];
  const fStats = tf.tidy(() => tf.concat([tf.norm(force, 'euclidean', 1), tf.reshape(tf.sum(tf.mul(force, velocity)), [1])]));
  const fs = fStats.dataSync();
  fStats.dispose();
  let fMax = 0;
  let fss = 0;
  for (let i = 0; i < inner; i++) {
    fMax = Math.max(fMax, fs[i]);
    fss += fs[i] * fs[i];
  }
  return { fMax, fss, power: fs[inner] };
}

/**
 * One quick-min move: keep only the velocity along the force (none when moving uphill), adapt the
 * time step, cap the largest image move at ℓ/2. Returns the new images and velocity; disposes neither input.
 */
function quickMinMove(q: QuickMin, images: tf.Tensor2D, force: tf.Tensor2D, stats: { fss: number; power: number }): { images: tf.Tensor2D; velocity: tf.Tensor2D } {
  const [m, dim] = images.shape;
  const inner = m - 2;
  const fNorm = Math.sqrt(stats.fss);
  let mixF = 0;
  if (stats.power > 0) {
    mixF = fNorm > 0 ? stats.power / (fNorm * fNorm) : 0;
    if (q.sinceUphill >= STEP_DELAY) q.dt = Math.min(q.dt * STEP_UP, q.dtMax);
    q.sinceUphill++;
  } else {
    q.dt *= STEP_DOWN;
    q.sinceUphill = 0;
  }
  const stepDt = q.dt;
  const moved = tf.tidy(() => {
    const vel = tf.mul(force, mixF + stepDt);
    return { vel, dr: tf.mul(vel, stepDt), stepLen: tf.max(tf.norm(tf.mul(vel, stepDt), 'euclidean', 1)) };
  });
  const maxMove = moved.stepLen.dataSync()[0];
  moved.stepLen.dispose();
  const cap = q.spacing > 0 ? 0.5 * q.spacing : Infinity;
  const shrink = maxMove > cap ? cap / maxMove : 1;
  const next = tf.tidy(() => {
    const dr = shrink === 1 ? moved.dr : tf.mul(moved.dr, shrink);
    const mid = tf.add(tf.slice(images, [1, 0], [inner, dim]), dr);
    return tf.concat([tf.slice(images, [0, 0], [1, dim]), mid, tf.slice(images, [m - 1, 0], [1, dim])]) as tf.Tensor2D;
  });
  moved.dr.dispose();
  return { images: next, velocity: moved.vel as tf.Tensor2D };
}

/** One L-BFGS move of the interior images; the endpoints stay. Disposes neither input. */
function lbfgsMove(state: BandLbfgs, images: tf.Tensor2D, force: tf.Tensor2D): tf.Tensor2D {
  const [m, dim] = images.shape;
  const inner = m - 2;
  const mid = tf.slice(images, [1, 0], [inner, dim]);
  const x = mid.dataSync() as Float32Array;
  const d = bandLbfgsMove(state, x, force.dataSync() as Float32Array, inner);
  mid.dispose();
  return tf.tidy(() => {
    const moved = tf.add(tf.slice(images, [1, 0], [inner, dim]), tf.tensor2d(d, [inner, dim]));
    return tf.concat([tf.slice(images, [0, 0], [1, dim]), moved, tf.slice(images, [m - 1, 0], [1, dim])]) as tf.Tensor2D;
  });
}

/** Energies and gradients of all images in one batched call; throws on a non-finite energy. */
function bandEnergies(obj: Objective, images: tf.Tensor2D, t: Float64Array): { v: Float64Array; grads: tf.Tensor2D } {
  const { losses: lossT, grads } = batchLossAndGrad(obj, images);
  const v = Float64Array.from(lossT.dataSync());
  lossT.dispose();
  try {
    checkFinite(v, t, 'the elastic band');
  } catch (e) {
    grads.dispose();
    throw e;
  }
  return { v, grads };
}

export async function runNeb(fn: Objective, ab: tf.Tensor2D, o: NebRunOptions): Promise<NebRun> {
  const m = o.points;
  const dim = ab.shape[1];
  const inner = m - 2;
  const t = evenGrid(m);
  let images = o.initial ? tf.clone(o.initial) : straightBand(ab, m);
  let velocity: tf.Tensor2D | undefined = inner > 0 ? (tf.zeros([inner, dim]) as tf.Tensor2D) : undefined;
  const q: QuickMin = { k: o.spring ?? Number.NaN, dt: 0, dtMax: 0, sinceUphill: 0, g0: 0, spacing: bandSpacing(ab, images, m, !o.initial) };
  const objectiveHistory: number[] = [];
  const heightHistory: number[] = [];
  let iterations = 0;
  let climbing = -1;
  let topGradNorm = Number.NaN;
  let lbfgs: BandLbfgs | undefined;
  try {
    for (let it = 0; it <= o.steps; it++) {
      throwIfAborted(o.signal);
      const { v, grads } = bandEnergies(o.batches ? o.batches(it) : fn, images, t);
      let height = -Infinity;
      for (const x of v) height = Math.max(height, x);
      if (inner <= 0) {
        grads.dispose();
        objectiveHistory.push(0);
        heightHistory.push(height);
        break;
      }
      const tg = bandTangents(images, grads, v);
      grads.dispose();
      if (it === 0) calibrate(q, tg.gNorm);
      if (it === 0 && o.optimizer === 'lbfgs') lbfgs = newBandLbfgs(BAND_LBFGS_MEMORY, q.dt * q.dt, 0.5 * (q.spacing > 0 ? q.spacing : 1));
      const climbOn = it >= o.climbFrom;
      const wasClimbing = climbing;
      climbing = climbOn ? highestInterior(v, inner) : -1;
      // The climbing image's force follows another law than its neighbours': a new climber is a new problem.
      if (lbfgs && climbing !== wasClimbing) resetBandLbfgs(lbfgs);
      topGradNorm = tg.gNorm[highestInterior(v, inner)];
      const force = nebForces(tg, q.k, climbing);
      const { fMax, fss, power } = forceStats(force, velocity!);
      objectiveHistory.push(fMax);
      heightHistory.push(height);
      if (o.onIteration) {
        try {
          await o.onIteration({ iteration: it, height, bestHeight: height, objective: fMax, climbing: climbOn });
        } catch (e) {
          force.dispose();
          throw e;
        }
      }
      const scale = q.g0 > 0 ? q.g0 : 1;
      const converged = climbOn && (fMax <= 1e-5 * scale || (o.stopAt !== undefined && topGradNorm <= o.stopAt.top * scale && fMax <= o.stopAt.band * scale));
      if (it === o.steps || converged) {
        force.dispose();
        break;
      }
      if (lbfgs) {
        const next = lbfgsMove(lbfgs, images, force);
        force.dispose();
        images.dispose();
        images = next;
      } else {
        const next = quickMinMove(q, images, force, { fss, power });
        force.dispose();
        velocity!.dispose();
        velocity = next.velocity;
        images.dispose();
        images = next.images;
      }
      iterations++;
      await new Promise<void>((r) => setImmediate(r));
    }
  } catch (e) {
    images.dispose();
    throw e;
  } finally {
    velocity?.dispose();
  }
  return { images, iterations, objectiveHistory, heightHistory, spring: Number.isFinite(q.k) ? q.k : 0, climbingImage: climbing, topGradNorm };
}
