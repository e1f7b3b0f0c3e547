/**
 * The fast path for dense networks: fused, batched forward/backward kernels
 * in WebAssembly SIMD (kernels.as), behind the engine's Objective interface.
 *
 * `networkObjective` returns a FastObjective whenever the kernels load. Its
 * `evaluate` stays an ordinary, differentiable tfjs objective while a
 * gradient tape is recording (so tf.grad through it, and second derivatives,
 * work as before) and runs the kernels otherwise; `batchLossAndGrad`,
 * `lossAndGrad` and the optimizers call `fast.run` directly for losses and
 * gradients. tfjs stays the general path and the reference the parity tests
 * compare against. LANDSCAPE_FAST=0 turns the fast path off.
 */
import { tf } from '../backend';
import { computeError } from '../errors';
import type { ModelSpec } from '../model/spec';
import type { Objective } from '../objective';
import { DenseKernels, defaultThreads, type HostData, type HvpSession, type RunResult } from './kernels';
import { CnnKernels } from './cnnKernels';
import { kernelsDecline } from './cnnSupport';

export type { HostData, HvpDifference, HvpProduct, HvpSession, RunResult } from './kernels';

/** Host-array entry points of a fast objective. */
export interface FastPath {
  readonly spec: ModelSpec;
  /** Losses (float64) and optionally gradients [M × P] of M parameter vectors given row-major. */
  run(thetas: Float32Array, m: number, wantGrad: boolean): RunResult;
  /**
   * The same for θ_m = Σ_k coeffs[m, k]·basis_k (basis [K × P], coeffs
   * [M × K]): the first layer is computed once per basis vector, so grids and
   * paths, which are such combinations, cost less per point.
   */
  runCombination(basis: Float32Array, coeffs: Float32Array, m: number, wantGrad: boolean): RunResult;
  /**
   * Hessian-vector products at a fixed θ in the kernels: exact ones
   * (forward-over-reverse) and central differences of gradients. Absent
   * for networks with BatchNorm on batch statistics, whose exact products
   * run on tfjs (autodiff).
   */
  hvp?(theta: ArrayLike<number>): HvpSession;
}

/** An objective with a fast path: `evaluate` as usual, plus `fast` for host-side losses and gradients. */
export interface FastObjective extends Objective {
  readonly fast: FastPath;
}

export function isFastObjective(f: Objective): f is FastObjective {
  return typeof (f as Partial<FastObjective>).fast?.run === 'function';
}

/**
 * Whether tfjs is recording operations for a gradient. Then results must be
 * built from tfjs ops, so the fast path steps aside. If tfjs ever stops
 * exposing this, the answer is yes: the tfjs path is always correct.
 */
export function tapeIsRecording(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

/** A fast objective whose kernels also make Hessian-vector products (not through BatchNorm on batch statistics), usable right now. */
export function hasKernelHvp(f: Objective): f is FastObjective & { fast: Required<FastPath> } {
  return usableFast(f) && typeof f.fast.hvp === 'function';
}

/** A fast objective that may be used right now (no gradient tape is recording through it). */
export function usableFast(f: Objective): f is FastObjective {
  return isFastObjective(f) && !tapeIsRecording();
}

let kernels: DenseKernels | null | undefined;
let loadError: string | undefined;
let forcedOff = false;

function envDisabled(): boolean {
  const v = (process.env.LANDSCAPE_FAST ?? '').trim().toLowerCase();
  return v === '0' || v === 'false' || v === 'off' || v === 'no';
}

/** The shared kernel instance, or null when the fast path is off or the module cannot load here. */
export function fastKernels(): DenseKernels | null {
  if (forcedOff || envDisabled()) return null;
  if (kernels === undefined) {
    try {
      kernels = new DenseKernels(defaultThreads());
    } catch (e) {
      kernels = null;
      loadError = e instanceof Error ? e.message : String(e);
    }
  }
  return kernels;
}

/** Turn the fast path on or off for this process (tests compare both paths). */
export function setFastEnabled(on: boolean): void {
  forcedOff = !on;
}

/** Threads the kernels use for large calls (the calling thread included). */
export function setFastThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw computeError(`fast kernels: thread count must be a whole number ≥ 1, got ${n}`);
  fastKernels()?.setThreads(n);
}

export interface FastInfo {
  enabled: boolean;
  threads: number;
  /** Bytes of the kernels' WebAssembly memory (it only grows). */
  memoryBytes: number;
  /** 'relaxed-simd' (fused multiply-add) or 'simd'. */
  simd?: 'relaxed-simd' | 'simd';
  /** Why the kernels are not in use, when they are not. */
  reason?: string;
}

export function fastInfo(): FastInfo {
  const k = fastKernels();
  if (!k) return { enabled: false, threads: 1, memoryBytes: 0, reason: forcedOff || envDisabled() ? 'turned off (LANDSCAPE_FAST=0)' : loadError };
  return { enabled: true, threads: k.threads, memoryBytes: k.memory.buffer.byteLength, simd: k.relaxed ? 'relaxed-simd' : 'simd' };
}

/**
 * The fast path of a dense network on fixed data, or null when the kernels
 * are unavailable. `data` is read lazily (on the first call), so a caller
 * may pass tensors' contents through a getter.
 */
export function fastPathFor(spec: ModelSpec, data: () => HostData): FastPath | null {
  if (spec.arch) return cnnFastPath(spec, data);
  const k = fastKernels();
  if (!k) return null;
  let host: HostData | undefined;
  return {
    spec,
    run(thetas: Float32Array, m: number, wantGrad: boolean): RunResult {
      host ??= data();
      return k.run(spec, host, thetas, m, wantGrad);
    },
    runCombination(basis: Float32Array, coeffs: Float32Array, m: number, wantGrad: boolean): RunResult {
      host ??= data();
      return k.runCombination(spec, host, basis, coeffs, m, wantGrad);
    },
    hvp(theta: ArrayLike<number>): HvpSession {
      host ??= data();
      return k.hvpSession(spec, host, theta);
    },
  };
}

let cnn: CnnKernels | undefined;

/** The shared convolutional kernels (on the dense kernels' module and threads), or null when those do not load. */
function cnnKernels(): CnnKernels | null {
  const k = fastKernels();
  return k ? (cnn ??= new CnnKernels(k)) : null;
}

/**
 * Why the kernels do not compute this model although they may be on (a layer
 * they lack), or undefined. Such a model's objective is the tfjs one.
 */
export function kernelsDeclineReason(spec: ModelSpec): string | undefined {
  return spec.arch ? kernelsDecline(spec.arch.shapes.nodes.map((s) => s.node)) : undefined;
}

/**
 * Loss and accuracy of one layer-grammar parameter vector on host rows, in
 * the kernels; `buffers` are BatchNorm's running statistics (eval mode).
 * Null when the kernels are unavailable.
 */
export function fastEvaluateLayered(spec: ModelSpec, data: HostData, theta: Float32Array, buffers?: Float32Array): { loss: number; accuracy: number } | null {
  const kernels = cnnKernels();
  if (!kernels || !spec.arch || kernelsDeclineReason(spec)) return null;
  const r = kernels.run({ arch: spec.arch, loss: spec.loss, buffers }, data, theta, 1, false);
  return { loss: r.losses[0], accuracy: r.accuracy![0] };
}

/** The layer-grammar path: conv.as through CnnKernels, BatchNorm with the rows' statistics. */
function cnnFastPath(spec: ModelSpec, data: () => HostData): FastPath | null {
  const kernels = cnnKernels();
  if (!kernels || !spec.arch || kernelsDeclineReason(spec)) return null;
  const net = { arch: spec.arch, loss: spec.loss };
  let host: HostData | undefined;
  const run = (thetas: Float32Array, m: number, wantGrad: boolean): RunResult => kernels.run(net, (host ??= data()), thetas, m, wantGrad);
  const path: FastPath = {
    spec,
    run,
    runCombination(basis: Float32Array, coeffs: Float32Array, m: number, wantGrad: boolean): RunResult {
      return run(combine(basis, coeffs, m), m, wantGrad);
    },
  };
  // BatchNorm with the rows' statistics has no R form in the kernels: its exact products stay on tfjs.
  if (kernels.hasHvp(net)) path.hvp = (theta) => kernels.hvpSession(net, (host ??= data()), theta);
  return path;
}

/** θ_m = Σ_k coeffs[m, k]·basis_k, row-major [M × P]. */
function combine(basis: Float32Array, coeffs: Float32Array, m: number): Float32Array {
  const nb = coeffs.length / m;
  const P = basis.length / nb;
  const out = new Float32Array(m * P);
  for (let i = 0; i < m; i++) {
    const row = out.subarray(i * P, (i + 1) * P);
    for (let j = 0; j < nb; j++) {
      const c = coeffs[i * nb + j];
      const b = basis.subarray(j * P, (j + 1) * P);
      for (let p = 0; p < P; p++) row[p] += c * b[p];
    }
  }
  return out;
}
