/**
 * Host side of the convolutional-network kernels (conv.as, compiled to a
 * program by cnnProgram.ts): lays the data, parameter vectors, results and
 * per-thread scratch out in the dense kernels' shared WebAssembly memory and
 * runs the program on one or both cores.
 *
 * Work splits into jobs that threads claim: whole parameter vectors when
 * there are several, chunks of rows when there is one. A chunk is a fixed
 * run of tiles (a function of the row count and the tile only), its
 * gradient is reduced on its own and chunks are summed in order either way,
 * so the numbers are the same for any thread count.
 */
import { computeError } from '../errors';
import type { ArchModel } from '../model/archModel';
import type { LossName } from '../model/spec';
import { compileCnn, HEADER, type CnnBatchNorm, type CnnProgram } from './cnnProgram';
import { HEAP_START, type DenseKernels, type HostData, type HvpProduct, type HvpSession, type RunResult } from './kernels';

/** Below this many multiply-adds per call a second thread costs more than it saves. */
const PARALLEL_MIN_MACS = 2_000_000;
/** Rows are grouped into at most about this many chunks (jobs for the threads). */
const TARGET_CHUNKS = 16;
/** ... and at least this many rows each, so small batches do not pay for many partial gradients. */
const MIN_CHUNK_ROWS = 32;
/** A tile's activations (values and gradients of every layer) aim to fit in this many bytes. */
const TILE_BYTES = 3 * 2 ** 20;
const MAX_TILE = 64;
/**
 * Groups a batch normalised as a whole is cut into (see convLockstep.as):
 * one per core of the machines we target, and a function of nothing else,
 * so the numbers do not depend on the thread count.
 */
const LOCKSTEP_GROUPS = 2;
/** The module's memory stops at 2 GiB (32768 pages); stay clear of it with a clear error. */
const MAX_BYTES = 1.9 * 2 ** 30;

const align = (n: number, a = 64) => Math.ceil(n / a) * a;

export interface CnnNetwork {
  arch: ArchModel;
  loss: LossName;
  /** BatchNorm's running statistics (PyTorch's eval mode); without them BatchNorm uses the rows' statistics. */
  buffers?: Float32Array;
}

interface Prepared {
  program: CnnProgram;
  /** True when a BatchNorm layer normalises with the rows' statistics: every row then depends on all of them. */
  wholeBatch: boolean;
  macsPerRow: number;
}

export class CnnKernels {
  private readonly programs = new Map<string, Prepared>();
  private loaded: { data: HostData; key: string } | undefined;

  constructor(private readonly dense: DenseKernels) {}

  /** Mean losses and optionally gradients [M × P] of M parameter vectors (row-major) on `data`. */
  run(net: CnnNetwork, data: HostData, thetas: Float32Array, m: number, wantGrad: boolean): RunResult {
    const P = net.arch.layout.paramCount;
    if (thetas.length < m * P) throw computeError(`fast kernels: ${thetas.length} values for ${m} parameter vectors of ${P}`);
    if (this.prepare(net, data.n).wholeBatch) return this.runLockstep(net, data, thetas, m, wantGrad);
    const byChunk = m === 1;
    const call = this.setup(net, data, { vectors: m, slots: (chunks) => (byChunk ? chunks : m), work: m * (wantGrad ? 3 : 1), twins: false });
    new Float32Array(this.dense.memory.buffer, call.r.thetas, m * P).set(thetas.subarray(0, m * P));
    const { r, threads, scratchBytes } = call;
    const job = (j: number) => [HEAP_START, r.scratch + j * scratchBytes, r.thetas, 0, m, r.counter, r.losses, r.grads, wantGrad ? 1 : 0, byChunk ? 1 : 0];
    this.dense.dispatch(threads, 3, job);
    // By chunk: one vector whose chunks are its groups; by vector: one group each.
    return sumGroups(this.dense.memory.buffer, r, m, P, byChunk ? call.slots : 1, wantGrad, data.n);
  }

  /**
   * BatchNorm on the rows' statistics: the rows of each vector are cut into
   * LOCKSTEP_GROUPS groups that the threads run in step (convLockstep.as),
   * and the groups' results are summed here in group order.
   */
  private runLockstep(net: CnnNetwork, data: HostData, thetas: Float32Array, m: number, wantGrad: boolean): RunResult {
    const P = net.arch.layout.paramCount;
    const groups = Math.min(LOCKSTEP_GROUPS, data.n);
    const call = this.setup(net, data, { vectors: m, slots: () => m * groups, work: m * (wantGrad ? 3 : 1), twins: false, groups });
    const { r, scratchBytes } = call;
    const threads = Math.min(call.threads, groups);
    const buf = this.dense.memory.buffer;
    new Float32Array(buf, r.thetas, m * P).set(thetas.subarray(0, m * P));
    // The barrier's two words and its abort flag (convLockstep.as).
    new Int32Array(buf, r.counter, 3).fill(0);
    const job = (j: number) => [HEAP_START, r.scratch, scratchBytes, r.thetas, m, j, threads, r.losses, wantGrad ? r.grads : 0, r.counter];
    this.dense.dispatch(threads, 5, job, r.counter + 8);
    return sumGroups(this.dense.memory.buffer, r, m, P, groups, wantGrad, data.n);
  }

  /** Whether exact Hessian-vector products run here: not through BatchNorm with the rows' statistics. */
  hasHvp(net: CnnNetwork): boolean {
    return net.buffers !== undefined || !hasBatchNorm(net.arch);
  }

  /** Hessian-vector products at θ: exact ones (cnn_hvp) and central differences of gradients. */
  hvpSession(net: CnnNetwork, data: HostData, theta: ArrayLike<number>): HvpSession {
    const at = Float32Array.from(theta);
    const P = at.length;
    return {
      product: (v) => this.product(net, data, at, Float32Array.from(v)),
      difference: (v, h) => {
        const pts = new Float32Array(2 * P);
        for (let i = 0; i < P; i++) {
          pts[i] = at[i] + h * v[i];
          pts[P + i] = at[i] - h * v[i];
        }
        const r = this.run(net, data, pts, 2, true);
        const diff = new Float64Array(P);
        for (let i = 0; i < P; i++) diff[i] = r.grads![i] - r.grads![P + i];
        return { diff, losses: [r.losses[0], r.losses[1]] };
      },
    };
  }

  private product(net: CnnNetwork, data: HostData, theta: Float32Array, v: Float32Array): HvpProduct {
    if (!this.hasHvp(net)) throw computeError('exact Hessian-vector products through BatchNorm with batch statistics run on tfjs, not in the kernels');
    const P = theta.length;
    const call = this.setup(net, data, { vectors: 2, slots: (chunks) => chunks, work: 7, twins: true });
    const { r, threads, scratchBytes } = call;
    const buf = this.dense.memory.buffer;
    new Float32Array(buf, r.thetas, P).set(theta);
    new Float32Array(buf, r.thetas + P * 4, P).set(v);
    const job = (j: number) => [HEAP_START, r.scratch + j * scratchBytes, r.thetas, r.thetas + P * 4, r.counter, r.losses, r.grads];
    this.dense.dispatch(threads, 4, job);
    const view = this.dense.memory.buffer;
    const sums = new Float64Array(view, r.losses, call.slots);
    const hv = new Float64Array(P);
    let loss = 0;
    for (let c = 0; c < call.slots; c++) {
      loss += sums[c];
      const part = new Float32Array(view, r.grads + c * P * 4, P);
      for (let i = 0; i < P; i++) hv[i] += part[i];
    }
    return { hv, loss: loss / data.n };
  }

  /**
   * One call's memory: the program, rows and targets (kept from the last
   * call when unchanged), parameter vectors, result slots and each thread's
   * scratch (twice over, with twins, for the tangents of Hessian products).
   */
  private setup(net: CnnNetwork, data: HostData, o: { vectors: number; slots: (chunks: number) => number; work: number; twins: boolean; groups?: number }) {
    if (data.n < 1) throw computeError('fast kernels: no rows to evaluate');
    const features = net.arch.inputShape.reduce((a, b) => a * b, 1);
    const outputs = net.arch.shapes.output[0];
    if (data.x.length !== data.n * features || data.y.length !== data.n * outputs) {
      throw computeError(`fast kernels: ${net.arch.text} takes ${features} inputs and ${outputs} targets per row; the data has ${data.x.length / data.n} and ${data.y.length / data.n}`);
    }
    const P = net.arch.layout.paramCount;
    const prepared = this.prepare(net, data.n);
    const { program } = prepared;
    const tile = prepared.wholeBatch ? Math.ceil(data.n / (o.groups ?? 1)) : program.tile;
    const chunk = tile * Math.max(1, Math.ceil(Math.ceil(data.n / tile) / TARGET_CHUNKS), Math.ceil(MIN_CHUNK_ROWS / tile));
    const slots = o.slots(Math.ceil(data.n / chunk));
    const threads = data.n * prepared.macsPerRow * o.work >= PARALLEL_MIN_MACS ? this.dense.ensureWorkers(this.dense.threads) : 1;
    const scratchBytes = program.scratchBytes * (o.twins ? 2 : 1);
    const r = this.regions(program, data, P, o.vectors, slots, Math.max(threads, o.groups ?? 1), scratchBytes, net.buffers?.length ?? 0);
    if (r.end > MAX_BYTES) {
      throw computeError(
        `fast kernels: ${data.n} rows of ${net.arch.text} need ${(r.end / 2 ** 30).toFixed(1)} GB at once` +
          (prepared.wholeBatch ? ' (BatchNorm with batch statistics holds every row\'s activations); use fewer rows (--subset)' : ''),
      );
    }
    const kept = this.dense.claimMemory(r.end, this);
    this.load(net, program, data, r, { tile, chunk, groups: o.groups ?? 1 }, kept);
    new Int32Array(this.dense.memory.buffer, r.counter, 1)[0] = 0;
    return { r, threads, scratchBytes, slots };
  }

  /** The program for this network, compiled once per architecture, loss and BatchNorm mode. */
  private prepare(net: CnnNetwork, rows: number): Prepared {
    const wholeBatch = !net.buffers && hasBatchNorm(net.arch);
    const key = `${net.arch.text}|${net.loss}|${net.buffers ? 'running' : 'batch'}|${wholeBatch ? rows : ''}`;
    let p = this.programs.get(key);
    if (!p) {
      const compile = (tile: number, bn: CnnBatchNorm) => compileCnn(net.arch.shapes.nodes, net.arch.inputShape, net.arch.layout, net.loss, tile, bn);
      const bn: CnnBatchNorm = net.buffers ? 'running' : 'batch';
      const perRow = compile(1, bn).scratchBytes;
      const tile = wholeBatch ? Math.ceil(rows / Math.min(LOCKSTEP_GROUPS, rows)) : Math.max(1, Math.min(MAX_TILE, Math.floor(TILE_BYTES / perRow)));
      p = { program: compile(tile, bn), wholeBatch, macsPerRow: macsPerRow(net.arch) };
      this.programs.set(key, p);
    }
    return p;
  }

  private regions(program: CnnProgram, data: HostData, P: number, m: number, slots: number, threads: number, scratchBytes: number, bufferFloats: number) {
    const cfg = HEAP_START;
    const x = cfg + align(program.words.length * 4);
    const y = x + align(data.x.length * 4);
    const buffers = y + align(data.n * program.outPadded * 4);
    const thetas = buffers + align(bufferFloats * 4);
    const losses = thetas + align(m * P * 4);
    const grads = losses + align(slots * 16);
    const counter = grads + align(slots * P * 4);
    const scratch = counter + 64;
    return { cfg, x, y, buffers, thetas, losses, grads, counter, scratch, end: scratch + threads * scratchBytes };
  }

  /** Writes the program and, when they changed, the rows and targets. */
  private load(net: CnnNetwork, program: CnnProgram, data: HostData, r: ReturnType<CnnKernels['regions']>, split: { tile: number; chunk: number; groups: number }, kept: boolean): void {
    const buf = this.dense.memory.buffer;
    const cfg = new Int32Array(buf, r.cfg, program.words.length);
    cfg.set(program.words);
    const words: Partial<Record<keyof typeof HEADER, number>> = {
      ...split, rows: data.n, ntotal: data.n, x: r.x, xStride: data.x.length / data.n, y: r.y, buffers: r.buffers, twin: program.scratchBytes,
    };
    for (const [k, v] of Object.entries(words)) cfg[HEADER[k as keyof typeof HEADER]] = v;
    if (net.buffers) new Float32Array(buf, r.buffers, net.buffers.length).set(net.buffers);
    const key = `${r.x}|${program.outPadded}`;
    // Our rows stay in memory until someone else claims it.
    if (kept && this.loaded && this.loaded.data === data && this.loaded.key === key) return;
    new Float32Array(buf, r.x, data.x.length).set(data.x);
    const yOut = new Float32Array(buf, r.y, data.n * program.outPadded);
    yOut.fill(0);
    const w = data.y.length / data.n;
    for (let i = 0; i < data.n; i++) yOut.set(data.y.subarray(i * w, (i + 1) * w), i * program.outPadded);
    this.loaded = { data, key };
  }
}

function hasBatchNorm(arch: ArchModel): boolean {
  return arch.layout.bufferCount > 0;
}

/** Multiply-adds of one row's forward pass (convolutions and dense layers), to decide on threads. */
function macsPerRow(arch: ArchModel): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  return arch.layout.params.filter((t) => t.role === 'weight' && t.shape.length >= 2).reduce((sum, t) => {
    const out = t.owner.output;
    return sum + size(t.shape) * (out.length === 3 ? out[1] * out[2] : 1);
  }, 0);
}

/**
 * Losses, accuracies and gradients of m vectors from their slots, `groups`
 * consecutive slots per vector (its chunks or lockstep groups, or 1), summed
 * in slot order.
 */
function sumGroups(buf: ArrayBuffer, r: { losses: number; grads: number }, m: number, P: number, groups: number, wantGrad: boolean, n: number): RunResult {
  const sums = new Float64Array(buf, r.losses, 2 * m * groups);
  const losses = new Float64Array(m);
  const accuracy = new Float64Array(m);
  const grads = wantGrad ? new Float32Array(m * P) : undefined;
  for (let i = 0; i < m; i++) {
    let loss = 0;
    let right = 0;
    for (let g = 0; g < groups; g++) {
      loss += sums[2 * (i * groups + g)];
      right += sums[2 * (i * groups + g) + 1];
    }
    losses[i] = loss / n;
    accuracy[i] = right / n;
    if (!grads) continue;
    const out = grads.subarray(i * P, (i + 1) * P);
    out.set(new Float32Array(buf, r.grads + i * groups * P * 4, P));
    for (let g = 1; g < groups; g++) {
      const part = new Float32Array(buf, r.grads + (i * groups + g) * P * 4, P);
      for (let k = 0; k < P; k++) out[k] += part[k];
    }
  }
  return { losses, grads, accuracy };
}
