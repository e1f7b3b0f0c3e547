/**
 * Host side of the fused dense-network kernels (kernels.as): loads the
 * WebAssembly module, lays out its shared memory, and runs a batch of
 * parameter vectors over a dataset, optionally on several threads.
 *
 * Threads split the work: with many parameter vectors each thread takes
 * whole vectors (then the numbers do not depend on the thread count); with
 * few (training, line searches) each takes a share of the data rows into its
 * own partial losses and gradients, which are then summed, so the numbers
 * depend on the thread count but are deterministic for a given one. The calls are
 * synchronous (the Objective interface is), so the workers are driven
 * through Atomics.wait / Atomics.notify on a shared control block rather
 * than messages; the main thread computes its own share meanwhile.
 */
import * as os from 'os';
import { Worker, isMainThread } from 'worker_threads';
import { computeError } from '../errors';
import type { ModelSpec } from '../model/spec';
import { paramCount, paramLayout } from '../model/spec';
import * as v8 from 'v8';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './wasm-binary';

const ACTIVATION_CODE: Record<ModelSpec['activation'], number> = { linear: 0, relu: 1, tanh: 2, sigmoid: 3, softplus: 4, elu: 5 };
const PAGE = 65536;
/** The module's own static data (math tables) lives below this; the host's regions start here. */
export const HEAP_START = PAGE;
const CFG_BYTES = 4096;
const CFG_LAYER0 = 16;
const LAYER_WORDS = 16;
/** Below this many multiply-adds per call, waking a second thread costs more than it saves. */
const PARALLEL_MIN_MACS = 2_000_000;
/** Hessian-vector products split the rows into at most this many chunks, which threads claim as they go. */
const HVP_CHUNKS = 16;
/** Control block per worker slot, in i32 words. */
const SLOT = 16;

// The project compiles without the DOM library, which is where TypeScript
// declares WebAssembly; these are the few members used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  net_run(cfg: number, scratch: number, thetas: number, m0: number, m1: number, r0: number, r1: number, losses: number, grads: number, grad: number): void;
  net_basis(cfg: number, scratch: number, basis: number, nb: number, r0: number, r1: number): void;
  net_hvp(cfg: number, sp: number, sm: number, sd: number, thetas: number, counter: number, chunkRows: number, losses: number, out: number, outStride: number): void;
  net_rop(cfg: number, sp: number, sm: number, sd: number, thetas: number, counter: number, chunkRows: number, losses: number, out: number, outStride: number): void;
  gemm_nn(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, m: number, k: number, n: number, acc: number): void;
  cnn_run(cfg: number, scratch: number, thetas: number, m0: number, m1: number, counter: number, losses: number, grads: number, wantGrad: number, byChunk: number): void;
  cnn_hvp(cfg: number, scratch: number, theta: number, v: number, counter: number, losses: number, out: number): void;
  cnn_lockstep(cfg: number, scratch: number, stride: number, thetas: number, m: number, thread: number, threads: number, losses: number, grads: number, sync: number): void;
}

/** The kernel each `dispatch` op number runs; the worker threads index the same table. */
const KERNEL_ENTRIES = ['net_run', 'net_hvp', 'net_rop', 'cnn_run', 'cnn_hvp', 'cnn_lockstep'] as const;
export type KernelOp = 0 | 1 | 2 | 3 | 4 | 5;

/** Host-side copy of a dataset as the kernels read it. */
export interface HostData {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

interface Layout {
  spec: ModelSpec;
  dim: number;
  macsPerRow: number;
  tile: number;
  cfgWords: Int32Array;
  scratchBytes: number;
  outPadded: number;
}

const round4 = (n: number) => Math.ceil(n / 4) * 4;
const align = (n: number, a = 64) => Math.ceil(n / a) * a;

function makeLayout(spec: ModelSpec): Layout {
  const L = spec.layers.length - 1;
  const w = spec.layers;
  const pw = w.map((v, i) => (i === 0 ? v : round4(v)));
  const maxPw = Math.max(...pw.slice(1));
  // Rows per tile: enough to amortise the loops, few enough that a tile's activations stay in cache.
  const tile = Math.max(16, Math.min(256, Math.floor(16384 / maxPw / 4) * 4));
  const cfg = new Int32Array(CFG_BYTES / 4);
  const entries = paramLayout(spec);
  let off = 0;
  const take = (bytes: number) => {
    const at = off;
    off += align(bytes);
    return at;
  };
  let macs = 0;
  for (let l = 0; l < L; l++) {
    const K = pw[l];
    const N = pw[l + 1];
    macs += w[l] * w[l + 1];
    const base = CFG_LAYER0 + l * LAYER_WORDS;
    const we = entries.find((e) => e.layer === l && e.kind === 'weight')!;
    const be = entries.find((e) => e.layer === l && e.kind === 'bias');
    cfg[base + 0] = K;
    cfg[base + 1] = w[l];
    cfg[base + 2] = N;
    cfg[base + 3] = w[l + 1];
    cfg[base + 4] = we.offset;
    cfg[base + 5] = be ? be.offset : -1;
    cfg[base + 6] = take(K * N * 4);
    cfg[base + 7] = l > 0 ? take(N * K * 4) : 0;
    cfg[base + 8] = take(N * 4);
    cfg[base + 9] = take(K * N * 4);
    cfg[base + 10] = take(N * 4);
    cfg[base + 11] = l > 0 ? take(tile * K * 4) : 0;
  }
  cfg[13] = take(tile * pw[L] * 4);
  cfg[14] = take(tile * maxPw * 4);
  cfg[15] = take(tile * maxPw * 4);
  cfg[0] = L;
  cfg[1] = ACTIVATION_CODE[spec.activation];
  cfg[2] = spec.loss === 'cross-entropy' ? 0 : 1;
  cfg[3] = spec.bias ? 1 : 0;
  cfg[5] = paramCount(spec);
  cfg[6] = tile;
  cfg[9] = w[0];
  cfg[11] = pw[L];
  cfg[12] = w[L];
  if (CFG_LAYER0 + L * LAYER_WORDS > cfg.length) throw computeError(`network too deep for the fast kernels (${L} layers)`);
  return { spec, dim: paramCount(spec), macsPerRow: macs, tile, cfgWords: cfg.slice(0, CFG_LAYER0 + L * LAYER_WORDS), scratchBytes: align(off), outPadded: pw[L] };
}

/**
 * Targets with each row padded to whole SIMD vectors (zeros in the padding).
 * Built in ordinary memory and copied in one piece: element-wise writes into
 * the shared memory are several times slower.
 */
function paddedTargets(y: Float32Array, n: number, w: number, pw: number): Float32Array {
  if (pw === w) return y;
  const p = new Float32Array(n * pw);
  for (let r = 0; r < n; r++) for (let c = 0; c < w; c++) p[r * pw + c] = y[r * w + c];
  return p;
}

/** Where the dataset of n rows lies, after the configuration block: x, then padded y, then `end`, the first free byte. */
function dataRegions(lay: Layout, n: number): { xAt: number; yAt: number; end: number } {
  const xAt = HEAP_START + CFG_BYTES;
  const yAt = xAt + align(n * lay.cfgWords[9] * 4);
  return { xAt, yAt, end: yAt + align(n * lay.outPadded * 4) };
}

/**
 * The relaxed-SIMD build (fused multiply-adds) where the engine accepts it,
 * else the plain SIMD build. Node 20's V8 has relaxed SIMD behind a flag
 * that only gates validation of the new instructions; it is switched on
 * here (LANDSCAPE_RELAXED_SIMD=0 keeps it off). Electron's newer V8 ships it.
 */
function loadModule(): { module: WasmModule; relaxed: boolean } {
  if (process.env.LANDSCAPE_RELAXED_SIMD !== '0') {
    const bytes = decodeBase64(KERNELS_RELAXED_WASM_BASE64);
    if (!wasm.validate(bytes)) {
      try {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch {
        // not settable here: use the plain build
      }
    }
    if (wasm.validate(bytes)) {
      try {
        return { module: new wasm.Module(bytes), relaxed: true };
      } catch {
        // fall through to the plain build
      }
    }
  }
  return { module: new wasm.Module(decodeBase64(KERNELS_WASM_BASE64)), relaxed: false };
}

function decodeBase64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/**
 * The worker's whole program: instantiate the module on the shared memory,
 * then serve jobs posted in its control slot. Kept free of closures and
 * imports other than worker_threads, because it runs from source (eval),
 * so no extra file has to ship beside the bundles.
 */
/**
 * Wakes every thread in step with one that trapped (convLockstep.as): sets
 * the abort flag at byte `flagAt` of the shared memory, then bumps the
 * barrier's generation word before it, so a thread waiting there wakes,
 * sees the flag and traps instead of waiting for ever. The workers' source
 * (WORKER_SOURCE) has its own copy.
 */
function raiseAbort(heap: Int32Array, flagAt: number): void {
  const flag = flagAt >> 2;
  Atomics.store(heap, flag, 1);
  Atomics.add(heap, flag - 1, 1);
  Atomics.notify(heap, flag - 1);
}

const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, slot, seq } = workerData;
const c = new Int32Array(control);
const b = slot * ${SLOT};
let kernels;
try {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  kernels = ${JSON.stringify(KERNEL_ENTRIES)}.map((name) => ex[name]);
  Atomics.store(c, b + 2, 1);
} catch (e) {
  Atomics.store(c, b + 2, -1);
}
Atomics.notify(c, b + 2);
// The sequence number the main thread had when it made this worker: the
// first job is the next one (reading it from the slot instead could miss a
// job posted the moment this worker said it was ready).
let seen = seq;
// raiseAbort below, written out: this source is evaluated as it stands, outside the bundle.
function raiseAbort(heap, flagAt) {
  Atomics.store(heap, flagAt >> 2, 1);
  Atomics.add(heap, (flagAt >> 2) - 1, 1);
  Atomics.notify(heap, (flagAt >> 2) - 1);
}
while (kernels) {
  Atomics.wait(c, b, seen);
  seen = Atomics.load(c, b);
  if (seen < 0) break;
  let status = 0;
  try {
    // Word 14 names the kernel (an index into KERNEL_ENTRIES); words 4–13 are its arguments, extra ones ignored.
    kernels[c[b + 14]](c[b + 4], c[b + 5], c[b + 6], c[b + 7], c[b + 8], c[b + 9], c[b + 10], c[b + 11], c[b + 12], c[b + 13]);
  } catch (e) {
    status = 1;
    // Word 15: the kernel's abort flag in the shared memory (0: none), so threads in step with this one stop too.
    if (c[b + 15]) raiseAbort(new Int32Array(memory.buffer), c[b + 15]);
  }
  Atomics.store(c, b + 3, status);
  Atomics.store(c, b + 1, seen);
  Atomics.notify(c, b + 1);
}
`;

/** ∇f(θ + h·v) − ∇f(θ − h·v) and the losses f(θ ± h·v). */
export interface HvpDifference {
  diff: Float64Array;
  losses: [number, number];
}

/** H·v at θ, exact up to float32 rounding, and f(θ). */
export interface HvpProduct {
  hv: Float64Array;
  loss: number;
}

/** Hessian-vector products at one θ (see DenseKernels.hvpSession). */
export interface HvpSession {
  /** Central difference of gradients ∇f(θ + h·v) − ∇f(θ − h·v). */
  difference(v: ArrayLike<number>, h: number): HvpDifference;
  /** The exact product H·v (forward-over-reverse). */
  product(v: ArrayLike<number>): HvpProduct;
}

export interface RunResult {
  /** Mean loss per parameter vector, float64. */
  losses: Float64Array;
  /** Gradients [M × P], when asked for. */
  grads?: Float32Array;
  /** Fraction of rows whose largest output is the target's largest (the convolutional kernels report it). */
  accuracy?: Float64Array;
}

export class DenseKernels {
  readonly memory: WasmMemory;
  /** Whether the fused multiply-add (relaxed SIMD) build is in use. */
  readonly relaxed: boolean;
  private readonly module: WasmModule;
  private readonly exports: KernelExports;
  private readonly layouts = new Map<string, Layout>();
  private loaded: { data: HostData; layout: Layout } | undefined;
  /** Who else last wrote past HEAP_START (see claimMemory); undefined when the dense kernels did. */
  private memoryOwner: object | undefined;
  private workers: Worker[] = [];
  private control: Int32Array | undefined;
  private seq = 0;
  /** Bumped whenever memory past the data may have been rewritten (see hvpSession). */
  private epoch = 0;
  private wantThreads: number;

  constructor(threads: number) {
    const loaded = loadModule();
    this.module = loaded.module;
    this.relaxed = loaded.relaxed;
    this.memory = new wasm.Memory({ initial: 16, maximum: 32768, shared: true });
    this.exports = new wasm.Instance(this.module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    this.wantThreads = Math.max(1, Math.floor(threads));
  }

  /** Threads a large call uses (the main thread included). */
  get threads(): number {
    return this.wantThreads;
  }

  setThreads(n: number): void {
    this.wantThreads = Math.max(1, Math.floor(n));
    if (this.workers.length > this.wantThreads - 1) this.stopWorkers();
  }

  layout(spec: ModelSpec): Layout {
    const key = `${spec.layers.join('-')}|${spec.activation}|${spec.loss}|${spec.bias}`;
    let l = this.layouts.get(key);
    if (!l) {
      l = makeLayout(spec);
      this.layouts.set(key, l);
    }
    return l;
  }

  /**
   * Losses (and gradients) of the M parameter vectors in `thetas` (row-major
   * [M × P]) on `data`. The data is copied into the module's memory only when
   * it differs from the previous call's.
   */
  run(spec: ModelSpec, data: HostData, thetas: Float32Array, m: number, wantGrad: boolean): RunResult {
    const P = this.layout(spec).dim;
    if (thetas.length < m * P) throw computeError(`fast kernels: ${thetas.length} values for ${m} parameter vectors of ${P}`);
    return this.execute(spec, data, m, wantGrad, { thetas });
  }

  /**
   * The same for the M combinations θ_m = Σ_k coeffs[m, k]·basis_k (basis
   * [K × P], coeffs [M × K], row-major): slices and paths are such
   * combinations. Layer 0 is then computed once per basis vector, X·W₀(basis_k),
   * and combined per point, instead of one product with X per point.
   */
  runCombination(spec: ModelSpec, data: HostData, basis: Float32Array, coeffs: Float32Array, m: number, wantGrad: boolean): RunResult {
    const P = this.layout(spec).dim;
    const k = Math.floor(basis.length / P);
    if (k < 1 || basis.length !== k * P || coeffs.length < m * k) {
      throw computeError(`fast kernels: a basis of ${basis.length} values and ${coeffs.length} coefficients do not fit ${m} combinations of vectors of ${P}`);
    }
    return this.execute(spec, data, m, wantGrad, { basis, coeffs, k });
  }

  private execute(
    spec: ModelSpec,
    data: HostData,
    m: number,
    wantGrad: boolean,
    src: { thetas: Float32Array } | { basis: Float32Array; coeffs: Float32Array; k: number },
  ): RunResult {
    const lay = this.layout(spec);
    const P = lay.dim;
    const n = data.n;
    const nb = 'k' in src ? src.k : 0;
    const n0 = lay.cfgWords[CFG_LAYER0 + 2];
    const macs = m * n * lay.macsPerRow * (wantGrad ? 3 : 1);
    const threads = macs >= PARALLEL_MIN_MACS && n >= 8 ? this.ensureWorkers(this.wantThreads) : 1;
    // Many vectors: each thread takes whole vectors (no partial sums, and the
    // numbers do not depend on the thread count). Few: each takes a share of the rows.
    const byPoints = threads > 1 && m >= 2 * threads;
    const parts = threads > 1 && !byPoints ? threads : 1;
    const cfgAt = HEAP_START;
    const scratchAt = dataRegions(lay, n).end;
    const thetasAt = scratchAt + threads * lay.scratchBytes;
    const lossesAt = thetasAt + align(m * P * 4);
    const gradsAt = lossesAt + parts * align(m * 8);
    const basisAt = gradsAt + (wantGrad ? parts * align(m * P * 4) : 0);
    const coeffsAt = basisAt + align(nb * P * 4);
    const uAt = coeffsAt + align(m * nb * 4);
    const end = uAt + align(nb * n * n0 * 4);
    const cfg = this.configure(lay, data, end);
    const buf = this.memory.buffer;
    // Everything past the data is rewritten below: cached layer-0 products of hvp sessions are gone.
    this.epoch++;
    if ('thetas' in src) {
      new Float32Array(buf, thetasAt, m * P).set(src.thetas.subarray(0, m * P));
    } else {
      new Float32Array(buf, basisAt, nb * P).set(src.basis);
      new Float32Array(buf, coeffsAt, m * nb).set(src.coeffs.subarray(0, m * nb));
      cfg[7] = nb;
      cfg[CFG_LAYER0 + 12] = uAt;
      cfg[CFG_LAYER0 + 13] = coeffsAt;
      // The parameter vectors themselves (layers past the first need them), and the basis products.
      this.exports.gemm_nn(coeffsAt, nb, basisAt, P, thetasAt, P, m, nb, P, 0);
      this.exports.net_basis(cfgAt, scratchAt, basisAt, nb, 0, n);
    }
    const gradFlag = wantGrad ? 1 : 0;
    // Thread j's job: [points m0, m1) × [rows r0, r1), and where its losses and gradients go.
    const job = (j: number): number[] => {
      const share = (total: number) => [Math.floor((total * j) / threads), Math.floor((total * (j + 1)) / threads)];
      const [m0, m1] = byPoints ? share(m) : [0, m];
      const [r0, r1] = byPoints ? [0, n] : share(n);
      const part = byPoints ? 0 : j;
      return [cfgAt, scratchAt + j * lay.scratchBytes, thetasAt, m0, m1, r0, r1, lossesAt + part * align(m * 8), gradsAt + part * align(m * P * 4), gradFlag];
    };
    this.dispatch(threads, 0, job);
    const view = this.memory.buffer;
    const losses = new Float64Array(m);
    for (let j = 0; j < parts; j++) {
      const part = new Float64Array(view, lossesAt + j * align(m * 8), m);
      for (let i = 0; i < m; i++) losses[i] += part[i];
    }
    let grads: Float32Array | undefined;
    if (wantGrad) {
      grads = new Float32Array(view, gradsAt, m * P).slice();
      for (let j = 1; j < parts; j++) {
        const part = new Float32Array(view, gradsAt + j * align(m * P * 4), m * P);
        for (let i = 0; i < grads.length; i++) grads[i] += part[i];
      }
    }
    return { losses, grads };
  }

  /**
   * Hessian-vector products of a dense network at a fixed θ on the kernels:
   * exact ones (`product`, net_rop's forward-over-reverse pass) and central
   * differences of gradients (`difference`, net_hvp). Layer 0's product with
   * θ is made once here and reused by every call at this θ.
   */
  hvpSession(spec: ModelSpec, data: HostData, theta: ArrayLike<number>): HvpSession {
    const lay = this.layout(spec);
    const P = lay.dim;
    if (theta.length !== P) throw computeError(`fast kernels: a parameter vector of ${theta.length} values for a network of ${P}`);
    const th = Float32Array.from(theta);
    const rows = new Float32Array(3 * P);
    // Which memory epoch and address hold U = X·W₀(θ) + b₀(θ), when it is there.
    let cached: { epoch: number; uAt: number } | undefined;
    const checkDirection = (v: ArrayLike<number>): void => {
      if (v.length !== P) throw computeError(`fast kernels: a direction of ${v.length} values for a network of ${P}`);
    };
    // Runs `op` over the rows in chunks with `thetaRows` (θ first) in place; returns the chunks' shares summed in f64.
    const pass = (op: 1 | 2, thetaRows: Float32Array, macsUnits: number): { sum: Float64Array; losses: [number, number] } => {
      const n = data.n;
      const n0 = lay.cfgWords[CFG_LAYER0 + 2];
      const threads = n * lay.macsPerRow * macsUnits >= PARALLEL_MIN_MACS && n >= 8 ? this.ensureWorkers(this.wantThreads) : 1;
      const scratchAt = dataRegions(lay, n).end;
      // Chunks of whole tiles, as many as the rows give up to HVP_CHUNKS; a
      // function of the data and network only, so the numbers do not depend on the threads.
      const chunkRows = lay.tile * Math.ceil(n / (HVP_CHUNKS * lay.tile));
      const chunks = Math.ceil(n / chunkRows);
      const outStride = align(P * 4);
      const thetasAt = scratchAt + 3 * threads * lay.scratchBytes;
      const counterAt = thetasAt + align(3 * P * 4);
      const lossesAt = counterAt + 64;
      const outAt = lossesAt + align(chunks * 16);
      const uAt = outAt + chunks * outStride;
      this.configure(lay, data, uAt + align(n * n0 * 4))[CFG_LAYER0 + 12] = uAt;
      if (!cached || cached.epoch !== this.epoch || cached.uAt !== uAt) {
        new Float32Array(this.memory.buffer, thetasAt, P).set(th);
        this.exports.net_basis(HEAP_START, scratchAt, thetasAt, 1, 0, n);
        cached = { epoch: ++this.epoch, uAt };
      }
      // Built in ordinary memory and copied once: element-wise writes to shared memory are slow.
      new Float32Array(this.memory.buffer, thetasAt, thetaRows.length).set(thetaRows);
      Atomics.store(new Int32Array(this.memory.buffer, counterAt, 1), 0, 0);
      const scratch = (j: number, which: number) => scratchAt + (3 * j + which) * lay.scratchBytes;
      this.dispatch(threads, op, (j) => [HEAP_START, scratch(j, 0), scratch(j, 1), scratch(j, 2), thetasAt, counterAt, chunkRows, lossesAt, outAt, outStride]);
      const view = this.memory.buffer;
      const sum = new Float64Array(P);
      const losses: [number, number] = [0, 0];
      const l = new Float64Array(view, lossesAt, 2 * chunks);
      for (let c = 0; c < chunks; c++) {
        losses[0] += l[2 * c];
        losses[1] += l[2 * c + 1];
        const part = new Float32Array(view, outAt + c * outStride, P);
        for (let i = 0; i < P; i++) sum[i] += part[i];
      }
      return { sum, losses };
    };
    return {
      difference: (v: ArrayLike<number>, h: number): HvpDifference => {
        checkDirection(v);
        // θ ± d rounded once from float64, as a caller forming the points itself would.
        for (let i = 0; i < P; i++) {
          const d = h * v[i];
          rows[i] = th[i] + d;
          rows[P + i] = th[i] - d;
          rows[2 * P + i] = d;
        }
        // A pair of gradients less the two layer-0 products saved: about 5 of a forward pass's 6 units per row.
        const { sum, losses } = pass(1, rows, 5);
        return { diff: sum, losses };
      },
      product: (v: ArrayLike<number>): HvpProduct => {
        checkDirection(v);
        rows.set(th);
        for (let i = 0; i < P; i++) rows[P + i] = v[i];
        // Forward, R-forward, backward and R-backward: about 8 units per row beyond layer 0.
        const { sum, losses } = pass(2, rows.subarray(0, 2 * P), 8);
        return { hv: sum, loss: losses[0] };
      },
    };
  }

  /**
   * Grows the memory to `end` bytes, writes the configuration block for this
   * network and dataset, and copies the dataset in unless the previous call
   * left it there. Returns the configuration block for the caller's additions.
   */
  private configure(lay: Layout, data: HostData, end: number): Int32Array {
    this.reserve(end);
    this.memoryOwner = undefined;
    const { xAt, yAt } = dataRegions(lay, data.n);
    const buf = this.memory.buffer;
    const cfg = new Int32Array(buf, HEAP_START, lay.cfgWords.length);
    cfg.set(lay.cfgWords);
    cfg[4] = data.n;
    cfg[8] = xAt;
    cfg[10] = yAt;
    if (this.loaded && this.loaded.data === data && this.loaded.layout === lay) return cfg;
    new Float32Array(buf, xAt, data.x.length).set(data.x);
    new Float32Array(buf, yAt, data.n * lay.outPadded).set(paddedTargets(data.y, data.n, lay.cfgWords[12], lay.outPadded));
    this.loaded = { data, layout: lay };
    return cfg;
  }

  /**
   * Runs job(j) on thread j, 0 being this one and the rest the workers, and
   * waits for all of them. `op` names the kernel: 0 net_run, 1 net_hvp, 2 net_rop.
   * `abortFlagAt`: for kernels whose threads wait for each other, the byte
   * address of their abort flag, raised when a thread traps.
   */
  dispatch(threads: number, op: KernelOp, job: (j: number) => number[], abortFlagAt = 0): void {
    if (threads > 1) {
      const c = this.control!;
      this.seq++;
      for (let j = 1; j < threads; j++) {
        const b = (j - 1) * SLOT;
        c.set(job(j), b + 4);
        c[b + 14] = op;
        c[b + 15] = abortFlagAt;
        Atomics.store(c, b, this.seq);
        Atomics.notify(c, b);
      }
    }
    let failure: unknown;
    try {
      const a = job(0);
      (this.exports[KERNEL_ENTRIES[op]] as (...args: number[]) => void)(...a);
    } catch (e) {
      failure = e;
      if (abortFlagAt && threads > 1) raiseAbort(new Int32Array(this.memory.buffer), abortFlagAt);
    }
    if (threads > 1) {
      const c = this.control!;
      for (let j = 1; j < threads; j++) {
        const b = (j - 1) * SLOT;
        // Wait on the value just compared: re-reading it for the wait could see
        // the worker's final store and then sleep through its only notify.
        for (let done = Atomics.load(c, b + 1); done !== this.seq; done = Atomics.load(c, b + 1)) Atomics.wait(c, b + 1, done, 1000);
        if (Atomics.load(c, b + 3) !== 0) failure ??= new Error(`worker ${j} trapped`);
      }
    }
    if (failure) throw computeError(`fast network kernel failed: ${failure instanceof Error ? failure.message : String(failure)}`);
  }

  /**
   * Hands the memory past HEAP_START to another user of this module (the
   * convolutional kernels): grows it to `bytes` and forgets what the dense
   * kernels had loaded there. Returns whether `owner` was the last to claim
   * it (and the dense kernels have not written since), so what it loaded is still there.
   */
  claimMemory(bytes: number, owner: object): boolean {
    this.reserve(bytes);
    this.loaded = undefined;
    this.epoch++;
    const kept = this.memoryOwner === owner;
    this.memoryOwner = owner;
    return kept;
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw computeError(`fast kernels: cannot grow memory to ${(bytes / 2 ** 20).toFixed(0)} MB; evaluate fewer points at once`);
    }
  }

  /** Starts workers up to `threads − 1`; returns how many threads are usable (1 if workers cannot start). */
  ensureWorkers(threads: number): number {
    if (threads <= 1) return 1;
    if (this.workers.length >= threads - 1) return threads;
    try {
      if (!this.control) this.control = new Int32Array(new SharedArrayBuffer(4 * SLOT * 64));
      const c = this.control;
      while (this.workers.length < threads - 1) {
        const slot = this.workers.length;
        c.fill(0, slot * SLOT, (slot + 1) * SLOT);
        // A fresh worker starts from the current sequence number, so it waits for the next job.
        c[slot * SLOT] = this.seq;
        c[slot * SLOT + 1] = this.seq;
        const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.module, memory: this.memory, control: c.buffer, slot, seq: this.seq } });
        w.unref();
        w.on('error', () => undefined);
        this.workers.push(w);
        if (Atomics.wait(c, slot * SLOT + 2, 0, 10_000) === 'timed-out' || Atomics.load(c, slot * SLOT + 2) !== 1) {
          throw new Error('worker did not start');
        }
      }
      return threads;
    } catch {
      this.stopWorkers();
      this.wantThreads = 1;
      return 1;
    }
  }

  private stopWorkers(): void {
    const c = this.control;
    this.workers.forEach((w, slot) => {
      if (c) {
        Atomics.store(c, slot * SLOT, -1);
        Atomics.notify(c, slot * SLOT);
      }
      void w.terminate();
    });
    this.workers = [];
  }

  dispose(): void {
    this.stopWorkers();
  }
}

/** Default thread count: LANDSCAPE_THREADS, else every core on the main thread and one inside worker threads. */
export function defaultThreads(): number {
  const env = Number(process.env.LANDSCAPE_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return isMainThread ? Math.max(1, Math.min(cores, 8)) : 1;
}
