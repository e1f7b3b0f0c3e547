/**
 * Compiles a layer-grammar architecture into the instruction program that
 * conv.as interprets: five sections (pack the parameter vector, clear the
 * packed gradients, forward + loss over a tile, backward over a tile, write
 * the gradients back) and the byte layout of one thread's scratch memory.
 * The op numbers and argument positions are conv.as's; keep them in step.
 */
import type { ArchLayout } from '../model/arch/layout';
import type { NodeShapes } from '../model/arch/shapes';
import { DEFAULT_BN_EPS } from '../model/arch/types';
import type { LossName } from '../model/spec';

export const HEADER_WORDS = 32;
export const INSTRUCTION_WORDS = 28;
/** The column buffer every convolution shares: whole images of columns up to about this many bytes. */
const COLS_BYTES = 512 * 1024;
export const HEADER = { tile: 10, chunk: 11, rows: 12, ntotal: 13, dim: 14, x: 15, xStride: 16, y: 17, yStride: 18, loss: 19, out: 20, buffers: 21, twin: 22, groups: 23 } as const;

const OP = {
  packConv: 1, packVec: 2, zero: 3, unpackConv: 4, unpackVec: 5,
  input: 10, conv: 11, maxpool: 12, avgpool: 13, gap: 14, act: 15, bn: 16, add: 17, flatten: 18, loss: 19,
  convBwd: 21, maxpoolBwd: 22, avgpoolBwd: 23, gapBwd: 24, actBwd: 25, bnBwd: 26, copy: 27, addTo: 28, flattenBwd: 29,
} as const;

/** How conv.as runs a convolution (its MODE_* constants). */
const CONV_MODE = { nhwc: 0, direct: 1, data: 2 } as const;

/** The first layer reads the data rows directly when it is a convolution; 1×1 stride-1 ones multiply in place. */
function convMode(s: NodeShapes, x: Act, k: number, stride: number, pad: number): number {
  if (x.isData && s.node.op === 'conv') return CONV_MODE.data;
  return k === 1 && stride === 1 && pad === 0 ? CONV_MODE.direct : CONV_MODE.nhwc;
}

const ACTIVATION_CODE: Record<string, number> = { relu: 1, tanh: 2, sigmoid: 3, softplus: 4, elu: 5 };

/** An activation tensor of one tile: values and gradient buffers, NHWC with cp ≥ C channels. */
interface Act {
  val: number;
  grad: number;
  C: number;
  cp: number;
  H: number;
  W: number;
  /** The network's input: nothing needs its gradient. */
  isData?: boolean;
}

type Ins = number[];

interface Sections {
  prep: Ins[];
  chunk: Ins[];
  fwd: Ins[];
  finish: Ins[];
}

export interface CnnProgram {
  /** Header and instructions, ready to copy to the configuration block. */
  words: Int32Array;
  /** Bytes of one thread's scratch. */
  scratchBytes: number;
  tile: number;
  /** Padded output width: targets are laid out with this stride. */
  outPadded: number;
  outputs: number;
}

/** An f64 as the two little-endian instruction words conv.as reads it from (bnEps): the value exactly, not rounded to f32. */
function epsWords(eps: number): [number, number] {
  const w = new Int32Array(new Float64Array([eps]).buffer);
  return [w[0], w[1]];
}

const round4 = (n: number) => Math.ceil(n / 4) * 4;
const align = (n: number) => Math.ceil(n / 64) * 64;

/** Where BatchNorm gets its statistics: the tile's rows, or the running buffers (at the header's `buffers` address). */
export type CnnBatchNorm = 'batch' | 'running';

class Compiler {
  private bytes = 0;
  readonly s: Sections = { prep: [], chunk: [], fwd: [], finish: [] };
  private maxCols = 0;
  private readonly colsSlots: number[][] = [];
  /** Whether any layer reads the input as NHWC activations (a first convolution reads the rows as they are). */
  inputUsed = false;

  constructor(
    private readonly layout: ArchLayout,
    private readonly tile: number,
    private readonly bn: CnnBatchNorm,
  ) {}

  /** A scratch region of `floats` floats (per tile row when perRow). */
  alloc(floats: number, perRow = false): number {
    const at = this.bytes;
    this.bytes += align(floats * 4 * (perRow ? this.tile : 1));
    return at;
  }

  act(C: number, H: number, W: number): Act {
    const cp = round4(C);
    return { val: this.alloc(H * W * cp, true), grad: this.alloc(H * W * cp, true), C, cp, H, W };
  }

  finishScratch(): number {
    // The one column buffer every convolution shares, patched into their instructions.
    const cols = this.alloc(this.maxCols);
    for (const ins of this.colsSlots) ins[15] = cols;
    return this.bytes;
  }

  param(owner: NodeShapes, role: string): number {
    return this.layout.paramOf(owner, role)?.offset ?? -1;
  }

  /** Nodes in order from `x`; returns the output and the backward instructions in execution order. */
  nodes(list: readonly NodeShapes[], x: Act): { out: Act; bwd: Ins[] } {
    let h = x;
    const blocks: Ins[][] = [];
    for (const node of list) {
      const r = this.node(node, h);
      blocks.push(r.bwd);
      h = r.out;
    }
    return { out: h, bwd: blocks.reverse().flat() };
  }

  private node(s: NodeShapes, x: Act): { out: Act; bwd: Ins[] } {
    const n = s.node;
    if (x.isData && n.op !== 'conv' && n.op !== 'dense' && n.op !== 'res') this.inputUsed = true;
    switch (n.op) {
      case 'conv':
        return this.conv(s, x, n.kernel, n.stride, n.pad === 'same' ? (n.kernel - 1) / 2 : n.pad === 'valid' ? 0 : n.pad);
      case 'dense':
        return this.conv(s, x, 1, 1, 0);
      case 'maxpool':
      case 'avgpool':
        return this.pool(s, x, n.op === 'maxpool', n.kernel, n.stride);
      case 'gap':
        return this.gap(x);
      case 'bn':
        return this.batchNorm(s, x);
      case 'activation':
        return this.activation(x, ACTIVATION_CODE[n.fn]);
      case 'flatten':
        return this.flatten(x);
      case 'res':
        return this.residual(s, x);
      case 'zeropad':
        // fastPathFor declines these models (cnnSupport.ts); passing the input through would be silently wrong.
        throw new Error('the convolutional kernels have no zeropad layer; such models run on the tfjs path');
      default:
        return { out: x, bwd: [] };
    }
  }

  private conv(s: NodeShapes, x: Act, k: number, stride: number, pad: number): { out: Act; bwd: Ins[] } {
    const cout = s.output[0];
    const OH = s.output.length === 3 ? s.output[1] : 1;
    const OW = s.output.length === 3 ? s.output[2] : 1;
    const y = this.act(cout, OH, OW);
    const mode = convMode(s, x, k, stride, pad);
    if (x.isData && mode !== CONV_MODE.data) this.inputUsed = true;
    // Rows of the packed weight (K of the product) and the row stride of its transpose.
    const K = mode === CONV_MODE.data ? x.C * k * k : mode === CONV_MODE.direct ? x.C : k * k * x.cp;
    const rows = mode === CONV_MODE.direct ? x.cp : K;
    const kp = mode === CONV_MODE.direct ? x.cp : round4(K);
    const wp = this.alloc(rows * y.cp);
    const wt = this.alloc(cout * kp);
    const tb = this.param(s, 'bias');
    const bp = tb >= 0 ? this.alloc(y.cp) : -1;
    const gwp = this.alloc(rows * y.cp);
    const gbp = tb >= 0 ? this.alloc(y.cp) : -1;
    // Images per im2col block (NHWC); the first layer's transposed columns are one image.
    const block = Math.max(1, Math.min(this.tile, Math.floor(COLS_BYTES / (OH * OW * kp * 4))));
    if (mode !== CONV_MODE.direct) this.maxCols = Math.max(this.maxCols, (mode === CONV_MODE.nhwc ? block : 1) * OH * OW * kp);
    const tw = this.param(s, 'weight');
    this.s.prep.push([OP.packConv, tw, tb, cout, x.C, k, y.cp, kp, wp, wt, bp, rows, x.cp, mode]);
    this.s.chunk.push([OP.zero, gwp, rows * y.cp]);
    if (gbp >= 0) this.s.chunk.push([OP.zero, gbp, y.cp]);
    const geometry = [x.val, y.val, x.C, x.cp, x.H, x.W, y.cp, OH, OW, k, stride, pad, wp, bp, 0, kp];
    const fwd = [OP.conv, ...geometry, -1, -1, -1, -1, -1, -1, mode, block];
    const bwd = [OP.convBwd, ...geometry, x.isData ? -1 : x.grad, y.grad, wt, gwp, gbp, cout, mode, block];
    this.colsSlots.push(fwd, bwd);
    this.s.fwd.push(fwd);
    this.s.finish.push([OP.unpackConv, tw, tb, cout, x.C, k, y.cp, gwp, gbp, x.cp, mode]);
    return { out: y, bwd: [bwd] };
  }

  private pool(s: NodeShapes, x: Act, max: boolean, k: number, stride: number): { out: Act; bwd: Ins[] } {
    const y = this.act(x.C, s.output[1], s.output[2]);
    const where = max ? this.alloc(y.H * y.W * y.cp, true) : -1;
    const geometry = [x.cp, x.H, x.W, y.H, y.W, k, stride, where];
    this.s.fwd.push([max ? OP.maxpool : OP.avgpool, x.val, y.val, ...geometry]);
    return { out: y, bwd: [[max ? OP.maxpoolBwd : OP.avgpoolBwd, y.grad, x.grad, ...geometry]] };
  }

  private gap(x: Act): { out: Act; bwd: Ins[] } {
    const y = this.act(x.C, 1, 1);
    this.s.fwd.push([OP.gap, x.val, y.val, x.cp, x.H * x.W]);
    return { out: y, bwd: [[OP.gapBwd, y.grad, x.grad, x.cp, x.H * x.W]] };
  }

  private activation(x: Act, fn: number): { out: Act; bwd: Ins[] } {
    const y = this.act(x.C, x.H, x.W);
    const floats = x.H * x.W * x.cp;
    this.s.fwd.push([OP.act, x.val, y.val, floats, fn]);
    return { out: y, bwd: [[OP.actBwd, y.grad, y.val, x.grad, floats, fn]] };
  }

  private flatten(x: Act): { out: Act; bwd: Ins[] } {
    if (x.H === 1 && x.W === 1) return { out: x, bwd: [] };
    const F = x.C * x.H * x.W;
    const y = this.act(F, 1, 1);
    this.s.fwd.push([OP.flatten, x.val, y.val, x.C, x.H * x.W, x.cp, y.cp]);
    return { out: y, bwd: [[OP.flattenBwd, y.grad, x.grad, x.C, x.H * x.W, x.cp, y.cp]] };
  }

  private batchNorm(s: NodeShapes, x: Act): { out: Act; bwd: Ins[] } {
    const y = this.act(x.C, x.H, x.W);
    const [gamma, beta, ggamma, gbeta, mean, inv] = [0, 0, 0, 0, 0, 0].map(() => this.alloc(x.cp));
    const tg = this.param(s, 'weight');
    const tb = this.param(s, 'bias');
    this.s.prep.push([OP.packVec, tg, x.C, x.cp, gamma], [OP.packVec, tb, x.C, x.cp, beta]);
    this.s.chunk.push([OP.zero, ggamma, x.cp], [OP.zero, gbeta, x.cp]);
    const [meanAt, varAt] = this.runningStats(s);
    const args = [x.val, y.val, x.cp, x.H * x.W, gamma, beta, this.bn === 'batch' ? 0 : 1, meanAt, varAt, mean, inv, x.C];
    const sums = this.alloc(4 * x.cp + 8);
    const eps = epsWords(s.node.op === 'bn' ? s.node.eps ?? DEFAULT_BN_EPS : DEFAULT_BN_EPS);
    this.s.fwd.push([OP.bn, ...args, -1, -1, -1, -1, sums, ...eps]);
    this.s.finish.push([OP.unpackVec, tg, x.C, ggamma], [OP.unpackVec, tb, x.C, gbeta]);
    return { out: y, bwd: [[OP.bnBwd, ...args, y.grad, x.grad, ggamma, gbeta, sums, ...eps]] };
  }

  private runningStats(s: NodeShapes): [number, number] {
    if (this.bn === 'batch') return [0, 0];
    const find = (role: string) => {
      const t = this.layout.buffers.find((b) => b.owner === s && b.role === role);
      if (!t) throw new Error(`BatchNorm layer ${s.position} has no ${role} buffer`);
      return t.offset;
    };
    return [find('running_mean'), find('running_var')];
  }

  /** body(x) + shortcut(x); the shortcut's gradient arrives in a buffer of its own and is added to x's. */
  private residual(s: NodeShapes, x: Act): { out: Act; bwd: Ins[] } {
    const body = this.nodes(s.body ?? [], x);
    const hasShortcut = (s.shortcut?.length ?? 0) > 0;
    // The shortcut or the identity reads the input as activations.
    if (x.isData) this.inputUsed = true;
    const xs: Act = hasShortcut ? { ...x, grad: this.alloc(x.H * x.W * x.cp, true), isData: false } : x;
    const short = hasShortcut ? this.nodes(s.shortcut ?? [], xs) : { out: x, bwd: [] };
    const y = this.act(body.out.C, body.out.H, body.out.W);
    const floats = y.H * y.W * y.cp;
    this.s.fwd.push([OP.add, body.out.val, short.out.val, y.val, floats]);
    const bwd: Ins[] = [[OP.copy, y.grad, body.out.grad, floats]];
    if (hasShortcut) bwd.push([OP.copy, y.grad, short.out.grad, floats], ...short.bwd);
    bwd.push(...body.bwd);
    if (!x.isData) bwd.push([OP.addTo, hasShortcut ? xs.grad : y.grad, x.grad, x.H * x.W * x.cp]);
    return { out: y, bwd };
  }
}

/**
 * The program for an architecture whose nodes are `nodes` (after the input
 * of shape `inputShape`), with `tile` rows per tile.
 */
export function compileCnn(nodes: readonly NodeShapes[], inputShape: readonly number[], layout: ArchLayout, loss: LossName, tile: number, bn: CnnBatchNorm): CnnProgram {
  const c = new Compiler(layout, tile, bn);
  const [C, H, W] = inputShape.length === 3 ? inputShape : [inputShape[0], 1, 1];
  const x: Act = { ...c.act(C, H, W), isData: true };
  const { out, bwd } = c.nodes(nodes, x);
  if (c.inputUsed) c.s.fwd.unshift([OP.input, x.val, C, H, W, x.cp]);
  c.s.fwd.push([OP.loss, out.val, out.grad, out.cp]);
  const scratchBytes = c.finishScratch();
  const sections = [c.s.prep, c.s.chunk, c.s.fwd, bwd, c.s.finish];
  const count = sections.reduce((a, s) => a + s.length, 0);
  const words = new Int32Array(HEADER_WORDS + count * INSTRUCTION_WORDS);
  let next = 0;
  sections.forEach((list, i) => {
    words[2 * i] = next;
    words[2 * i + 1] = list.length;
    for (const ins of list) {
      if (ins.length > INSTRUCTION_WORDS) throw new Error(`instruction ${ins[0]} has ${ins.length} words`);
      words.set(ins, HEADER_WORDS + next * INSTRUCTION_WORDS);
      next++;
    }
  });
  words[HEADER.tile] = tile;
  words[HEADER.dim] = layout.paramCount;
  words[HEADER.loss] = loss === 'cross-entropy' ? 0 : 1;
  words[HEADER.out] = out.C;
  words[HEADER.yStride] = out.cp;
  return { words, scratchBytes, tile, outPadded: out.cp, outputs: out.C };
}
