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
import { HEAP_START, type DenseKernels, type HostData, type RunResult } from './kernels';

/** Below this many multiply-adds per call a second thread costs more than it saves. */
const PARALLEL_MIN_MACS = 2_000_000;
/** Rows are grouped into at most about this many chunks (jobs for the threads). */
const TARGET_CHUNKS = 16;
/** A tile's activations (values and gradients of every layer) aim to fit in this many bytes. */
const TILE_BYTES = 3 * 2 ** 20;
const MAX_TILE = 64;

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
    if (data.n < 1) throw computeError('fast kernels: no rows to evaluate');
    const prepared = this.prepare(net, data.n);
    const { program } = prepared;
    const tile = prepared.wholeBatch ? data.n : program.tile;
    const chunk = tile * Math.max(1, Math.ceil(Math.ceil(data.n / tile) / TARGET_CHUNKS));
    const chunks = Math.ceil(data.n / chunk);
    const threads = m * data.n * prepared.macsPerRow * (wantGrad ? 3 : 1) >= PARALLEL_MIN_MACS ? this.dense.ensureWorkers(this.dense.threads) : 1;
    const byChunk = m === 1;
    const slots = byChunk ? chunks : m;
    const regions = this.regions(program, data, P, m, slots, threads, net.buffers?.length ?? 0);
    const kept = this.dense.claimMemory(regions.end, this);
    this.load(net, program, data, regions, tile, chunk, kept);
    const buf = this.dense.memory.buffer;
    new Float32Array(buf, regions.thetas, m * P).set(thetas.subarray(0, m * P));
    new Int32Array(buf, regions.counter, 1)[0] = 0;
    const job = (j: number) => [HEAP_START, regions.scratch + j * program.scratchBytes, regions.thetas, 0, m, regions.counter, regions.losses, regions.grads, wantGrad ? 1 : 0, byChunk ? 1 : 0];
    this.dense.dispatch(threads, 3, job);
    return this.collect(buf, regions, m, P, slots, byChunk, wantGrad, data.n);
  }

  /** The program for this network, compiled once per architecture, loss and BatchNorm mode. */
  private prepare(net: CnnNetwork, rows: number): Prepared {
    const wholeBatch = !net.buffers && hasBatchNorm(net.arch);
    const key = `${net.arch.text}|${net.loss}|${net.buffers ? 'running' : 'batch'}|${wholeBatch ? rows : ''}`;
    let p = this.programs.get(key);
    if (!p) {
      const compile = (tile: number, bn: CnnBatchNorm) => compileCnn(net.arch.shapes.nodes, inputShapeOf(net.arch), net.arch.layout, net.loss, tile, bn);
      const bn: CnnBatchNorm = net.buffers ? 'running' : 'batch';
      const perRow = compile(1, bn).scratchBytes;
      const tile = wholeBatch ? rows : Math.max(1, Math.min(MAX_TILE, Math.floor(TILE_BYTES / perRow)));
      p = { program: compile(tile, bn), wholeBatch, macsPerRow: macsPerRow(net.arch) };
      this.programs.set(key, p);
    }
    return p;
  }

  private regions(program: CnnProgram, data: HostData, P: number, m: number, slots: number, threads: number, bufferFloats: number) {
    const cfg = HEAP_START;
    const x = cfg + align(program.words.length * 4);
    const y = x + align(data.x.length * 4);
    const buffers = y + align(data.n * program.outPadded * 4);
    const thetas = buffers + align(bufferFloats * 4);
    const losses = thetas + align(m * P * 4);
    const grads = losses + align(slots * 16);
    const counter = grads + align(slots * P * 4);
    const scratch = counter + 64;
    return { cfg, x, y, buffers, thetas, losses, grads, counter, scratch, end: scratch + threads * program.scratchBytes };
  }

  /** Writes the program and, when they changed, the rows and targets. */
  private load(net: CnnNetwork, program: CnnProgram, data: HostData, r: ReturnType<CnnKernels['regions']>, tile: number, chunk: number, kept: boolean): void {
    const buf = this.dense.memory.buffer;
    const cfg = new Int32Array(buf, r.cfg, program.words.length);
    cfg.set(program.words);
    const words: Partial<Record<keyof typeof HEADER, number>> = {
      tile, chunk, rows: data.n, ntotal: data.n, x: r.x, xStride: data.x.length / data.n, y: r.y, buffers: r.buffers,
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

  private collect(buf: ArrayBuffer, r: ReturnType<CnnKernels['regions']>, m: number, P: number, slots: number, byChunk: boolean, wantGrad: boolean, n: number): RunResult {
    // Two f64 per slot: the loss summed over rows and the rows predicted right.
    const sums = new Float64Array(buf, r.losses, 2 * slots);
    const losses = new Float64Array(m);
    const accuracy = new Float64Array(m);
    if (byChunk) {
      let total = 0;
      let right = 0;
      for (let c = 0; c < slots; c++) {
        total += sums[2 * c];
        right += sums[2 * c + 1];
      }
      losses[0] = total / n;
      accuracy[0] = right / n;
    } else {
      for (let i = 0; i < m; i++) {
        losses[i] = sums[2 * i] / n;
        accuracy[i] = sums[2 * i + 1] / n;
      }
    }
    if (!wantGrad) return { losses, accuracy };
    const grads = new Float32Array(buf, r.grads, m * P).slice();
    if (byChunk) {
      for (let c = 1; c < slots; c++) {
        const part = new Float32Array(buf, r.grads + c * P * 4, P);
        for (let i = 0; i < P; i++) grads[i] += part[i];
      }
    }
    return { losses, grads, accuracy };
  }
}

function hasBatchNorm(arch: ArchModel): boolean {
  return arch.layout.bufferCount > 0;
}

function inputShapeOf(arch: ArchModel): number[] {
  return arch.inputShape;
}

/** Multiply-adds of one row's forward pass (convolutions and dense layers), to decide on threads. */
function macsPerRow(arch: ArchModel): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  return arch.layout.params.filter((t) => t.role === 'weight' && t.shape.length >= 2).reduce((sum, t) => {
    const out = t.owner.output;
    return sum + size(t.shape) * (out.length === 3 ? out[1] * out[2] : 1);
  }, 0);
}
