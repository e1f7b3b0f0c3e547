// Convolutional-network kernels for Landscape (issue "Fast kernels for
// convolutional networks"), in AssemblyScript beside kernels.as, which
// re-exports cnn_run so both live in one WebAssembly module.
//
// The host (cnnProgram.ts) compiles an architecture into a program: five
// sections of fixed-size instructions (I_WORDS i32 words, the op first) that
// this file interprets. Sections: PREP packs one parameter vector's weights
// into the layouts the products want; CHUNK clears the packed gradients;
// FWD and BWD run one tile of rows through forward, loss and backward;
// FINISH writes the packed gradients back in the parameter vector's order.
//
// Activations are NHWC per row with channels padded to a multiple of 4
// (padded channels carry zero weights, so they never reach a real output).
// Convolutions are im2col plus the blocked GEMM of kernels.as; a 1×1,
// stride-1 convolution (and every dense layer, a 1×1 convolution on a 1×1
// image) multiplies the activations in place. The backward pass recomputes
// im2col instead of keeping every layer's columns, so one column buffer
// serves the whole network and a tile's memory stays small.
//
// Rows are grouped into chunks of whole tiles; each chunk's gradient is
// reduced on its own and the chunks are summed in order, so the numbers do
// not depend on how many threads claimed the chunks or the vectors.
import { activate, activationGrad, fill, gemm_nn, gemm_tn } from './kernels';
import { executeR } from './convR';

// ---- configuration header (i32 words at cfg)
export const H_TILE: i32 = 10; // rows per tile
export const H_CHUNK: i32 = 11; // rows per chunk (a multiple of the tile)
export const H_ROWS: i32 = 12; // rows of data
export const H_NTOTAL: i32 = 13; // rows the loss is averaged over
export const H_DIM: i32 = 14; // P
export const H_X: i32 = 15; // byte offset of x [rows × xStride]
export const H_XSTRIDE: i32 = 16;
export const H_Y: i32 = 17; // byte offset of y [rows × yStride], zero padded
export const H_YSTRIDE: i32 = 18;
export const H_LOSS: i32 = 19; // 0 cross-entropy, 1 mse
export const H_OUT: i32 = 20; // real output width
export const H_TWIN: i32 = 22; // bytes of one primal scratch: a region's tangent twin lies this far on
export const H_BUFFERS: i32 = 21; // byte offset of the BatchNorm running statistics (float offsets in the instructions count from here)
export const H_PROGRAM: i32 = 32; // first instruction word
// Sections: words 2s and 2s+1 hold the first instruction and the count.
export const S_PREP: i32 = 0;
export const S_CHUNK: i32 = 1;
export const S_FWD: i32 = 2;
export const S_BWD: i32 = 3;
export const S_FINISH: i32 = 4;
const I_WORDS: i32 = 28;

// ---- ops
export const OP_PACK_CONV: i32 = 1;
export const OP_PACK_VEC: i32 = 2;
export const OP_ZERO: i32 = 3;
export const OP_UNPACK_CONV: i32 = 4;
export const OP_UNPACK_VEC: i32 = 5;
export const OP_INPUT: i32 = 10;
export const OP_CONV: i32 = 11;
export const OP_MAXPOOL: i32 = 12;
export const OP_AVGPOOL: i32 = 13;
export const OP_GAP: i32 = 14;
export const OP_ACT: i32 = 15;
export const OP_BN: i32 = 16;
export const OP_ADD: i32 = 17;
export const OP_FLATTEN: i32 = 18;
export const OP_LOSS: i32 = 19;
export const OP_CONV_BWD: i32 = 21;
export const OP_MAXPOOL_BWD: i32 = 22;
export const OP_AVGPOOL_BWD: i32 = 23;
export const OP_GAP_BWD: i32 = 24;
export const OP_ACT_BWD: i32 = 25;
export const OP_BN_BWD: i32 = 26;
export const OP_COPY: i32 = 27;
export const OP_ADDTO: i32 = 28;
export const OP_FLATTEN_BWD: i32 = 29;

function hdr(cfg: usize, word: i32): i32 {
  return load<i32>(cfg + (<usize>word << 2));
}

/** Per-call state every instruction sees (module globals are per instance, hence per thread). */
let sScratch: usize = 0;
let sTheta: usize = 0;
let sGrad: usize = 0;
let sRow: i32 = 0;
let sRows: i32 = 0;
let sAcc: i32 = 0;
let sLoss: f64 = 0;
/** Rows whose largest output is the target's largest (accuracy, for classification). */
let sCorrect: i32 = 0;
let sCfg: usize = 0;
/** Added to every scratch address while an op runs on the tangents' twins (see convR.as). */
let sShift: usize = 0;
/** Whether sections run their R-operator (tangent) form. */
let sR: bool = false;

export function at(byteOffset: i32): usize {
  return sScratch + <usize>byteOffset + sShift;
}

/** The tangent twin of a scratch region: the same layout one primal scratch further on. */
export function twinAt(byteOffset: i32): usize {
  return sScratch + <usize>byteOffset + <usize>hdr(sCfg, H_TWIN);
}

export function tileRows(): i32 {
  return sRows;
}

export function tileRow(): i32 {
  return sRow;
}

/** Points the interpreter at one group of rows (its scratch, its first row and count) and vector. */
export function setGroup(cfg: usize, scratch: usize, row: i32, rows: i32, theta: usize, grad: usize): void {
  sCfg = cfg;
  sScratch = scratch;
  sRow = row;
  sRows = rows;
  sTheta = theta;
  sGrad = grad;
  sR = false;
}

export function lossSoFar(): f64 {
  return sLoss;
}

export function correctSoFar(): i32 {
  return sCorrect;
}

export function resetLoss(): void {
  sLoss = 0;
  sCorrect = 0;
}

export function setAccumulate(acc: i32): void {
  sAcc = acc;
}

/** Runs one instruction (primal form) at the current group. */
export function executeOne(ins: usize): void {
  execute(ins, load<i32>(ins));
}

export function instructionAt(cfg: usize, section: i32, i: i32): usize {
  return cfg + (<usize>(H_PROGRAM + (hdr(cfg, 2 * section) + i) * I_WORDS) << 2);
}

export function sectionLength(cfg: usize, section: i32): i32 {
  return hdr(cfg, 2 * section + 1);
}

export function cfgWord(word: i32): i32 {
  return hdr(sCfg, word);
}

function thetaAt(floatOffset: i32): usize {
  return sTheta + (<usize>floatOffset << 2);
}

function gradAt(floatOffset: i32): usize {
  return sGrad + (<usize>floatOffset << 2);
}

function runSection(cfg: usize, section: i32): void {
  const first = hdr(cfg, 2 * section);
  const count = hdr(cfg, 2 * section + 1);
  for (let i = 0; i < count; i++) {
    const ins = cfg + (<usize>(H_PROGRAM + (first + i) * I_WORDS) << 2);
    execute(ins, load<i32>(ins));
  }
}

// @ts-ignore: decorator
@inline
export function arg(ins: usize, k: i32): i32 {
  return load<i32>(ins + (<usize>k << 2));
}

function execute(ins: usize, op: i32): void {
  if (sR) executeR(ins, op);
  else executePrimal(ins, op);
}

/** An op that is linear in everything it reads, on the tangents' twins: the same op, shifted. */
export function executeShifted(ins: usize, op: i32): void {
  sShift = <usize>hdr(sCfg, H_TWIN);
  executePrimal(ins, op);
  sShift = 0;
}

function executePrimal(ins: usize, op: i32): void {
  if (op == OP_CONV) conv(ins);
  else if (op == OP_CONV_BWD) convBackward(ins);
  else if (op == OP_ACT) act(ins);
  else if (op == OP_ACT_BWD) activationGrad(at(arg(ins, 1)), at(arg(ins, 2)), at(arg(ins, 3)), sRows * arg(ins, 4), arg(ins, 5));
  else if (op == OP_MAXPOOL) maxPool(ins);
  else if (op == OP_MAXPOOL_BWD) maxPoolBackward(ins);
  else if (op == OP_AVGPOOL) avgPool(ins);
  else if (op == OP_AVGPOOL_BWD) avgPoolBackward(ins);
  else if (op == OP_GAP) gap(ins);
  else if (op == OP_GAP_BWD) gapBackward(ins);
  else if (op == OP_BN) batchNorm(ins);
  else if (op == OP_BN_BWD) batchNormBackward(ins);
  else if (op == OP_ADD) addInto(at(arg(ins, 1)), at(arg(ins, 2)), at(arg(ins, 3)), sRows * arg(ins, 4));
  else if (op == OP_COPY) memory.copy(at(arg(ins, 2)), at(arg(ins, 1)), <usize>(sRows * arg(ins, 3)) << 2);
  else if (op == OP_ADDTO) addInto(at(arg(ins, 1)), at(arg(ins, 2)), at(arg(ins, 2)), sRows * arg(ins, 3));
  else if (op == OP_FLATTEN) flatten(ins, false);
  else if (op == OP_FLATTEN_BWD) flatten(ins, true);
  else if (op == OP_INPUT) input(ins);
  else if (op == OP_LOSS) sLoss += loss(ins);
  else if (op == OP_PACK_CONV) packConv(ins);
  else if (op == OP_PACK_VEC) packVec(ins);
  else if (op == OP_ZERO) fill(at(arg(ins, 1)), arg(ins, 2), 0);
  else if (op == OP_UNPACK_CONV) unpackConv(ins);
  else if (op == OP_UNPACK_VEC) unpackVec(gradAt(arg(ins, 1)), at(arg(ins, 3)), arg(ins, 2));
  else unreachable();
}

// ---- packing one parameter vector

// Convolution modes (instruction word 23). NHWC: im2col copies whole pixels
// (cinp floats, so each kernel row is one contiguous run), K = k·k·cinp.
// DIRECT: a 1×1, stride-1 convolution or a dense layer multiplies the
// activations in place, K = cin. DATA: the first layer reads the rows as
// given (C×H×W, PyTorch's order) into transposed columns [K × OH·OW] per
// image, K = C·k·k in PyTorch's weight order, so a one-channel image costs
// no padding; nothing needs the data's gradient.
export const MODE_NHWC: i32 = 0;
export const MODE_DIRECT: i32 = 1;
export const MODE_DATA: i32 = 2;

/** Row of the packed weight for input channel ci at kernel tap kk (of k·k). */
// @ts-ignore: decorator
@inline
function packedRow(mode: i32, ci: i32, kk: i32, k: i32, cinp: i32): i32 {
  return mode == MODE_DATA ? ci * k * k + kk : kk * cinp + ci;
}

/**
 * PyTorch's conv weight [out, in, k, k] (a dense weight is [out, in, 1, 1])
 * into wp [rows × Coutp] (rows as packedRow lays them, padded channels zero)
 * and its transpose wt [Cout × kp]; the bias into bp [Coutp].
 * Args: 1 weight, 2 bias (θ float offsets, −1 none), 3 cout, 4 cin, 5 k, 6 coutp,
 * 7 kp, 8 wp, 9 wt, 10 bp, 11 rows of wp, 12 cinp, 13 mode.
 */
function packConv(ins: usize): void {
  const tw = arg(ins, 1), tb = arg(ins, 2), cout = arg(ins, 3), cin = arg(ins, 4), k = arg(ins, 5);
  const coutp = arg(ins, 6), kp = arg(ins, 7);
  const wp = at(arg(ins, 8)), wt = at(arg(ins, 9)), bp = at(arg(ins, 10));
  const rows = arg(ins, 11), cinp = arg(ins, 12), mode = arg(ins, 13);
  fill(wp, rows * coutp, 0);
  fill(wt, cout * kp, 0);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let kk = 0; kk < k * k; kk++) {
        const v = load<f32>(thetaAt(tw + (co * cin + ci) * k * k + kk));
        const row = packedRow(mode, ci, kk, k, cinp);
        store<f32>(wp + (<usize>(row * coutp + co) << 2), v);
        store<f32>(wt + (<usize>(co * kp + row) << 2), v);
      }
    }
  }
  if (arg(ins, 10) >= 0) {
    fill(bp, coutp, 0);
    if (tb >= 0) memory.copy(bp, thetaAt(tb), <usize>cout << 2);
  }
}

function packVec(ins: usize): void {
  const dst = at(arg(ins, 4));
  fill(dst, arg(ins, 3), 0);
  memory.copy(dst, thetaAt(arg(ins, 1)), <usize>arg(ins, 2) << 2);
}

/**
 * The inverse of packConv for the gradients, overwriting or (sAcc) adding to the output.
 * Args: 1 weight, 2 bias, 3 cout, 4 cin, 5 k, 6 coutp, 7 gwp, 8 gbp, 9 cinp, 10 mode.
 */
function unpackConv(ins: usize): void {
  const gw = arg(ins, 1), gb = arg(ins, 2), cout = arg(ins, 3), cin = arg(ins, 4), k = arg(ins, 5);
  const coutp = arg(ins, 6), cinp = arg(ins, 9), mode = arg(ins, 10);
  const gwp = at(arg(ins, 7)), gbp = at(arg(ins, 8));
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let kk = 0; kk < k * k; kk++) {
        const v = load<f32>(gwp + (<usize>(packedRow(mode, ci, kk, k, cinp) * coutp + co) << 2));
        const q = gradAt(gw + (co * cin + ci) * k * k + kk);
        store<f32>(q, sAcc ? load<f32>(q) + v : v);
      }
    }
  }
  if (gb >= 0) unpackVec(gradAt(gb), gbp, cout);
}

function unpackVec(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const q = dst + (<usize>i << 2);
    const v = load<f32>(src + (<usize>i << 2));
    store<f32>(q, sAcc ? load<f32>(q) + v : v);
  }
}

// ---- layers, forward

/** The tile's rows of x (C×H×W each, PyTorch's order) as NHWC with Cp channels. */
function input(ins: usize): void {
  const dst = at(arg(ins, 1));
  const C = arg(ins, 2), hw = arg(ins, 3) * arg(ins, 4), cp = arg(ins, 5);
  fill(dst, sRows * hw * cp, 0);
  for (let r = 0; r < sRows; r++) {
    const src = dataRow(r);
    const out = dst + (<usize>(r * hw * cp) << 2);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < hw; p++) store<f32>(out + (<usize>(p * cp + c) << 2), load<f32>(src + (<usize>(c * hw + p) << 2)));
    }
  }
}

/** Byte address of the tile's row r of x. */
export function dataRow(r: i32): usize {
  return <usize>hdr(sCfg, H_X) + (<usize>((sRow + r) * hdr(sCfg, H_XSTRIDE)) << 2);
}

/**
 * NHWC columns: one row per output pixel, k·k pixels of cinp floats ordered
 * (kh, kw, channel), zero outside the image; each kernel row is one copy.
 */
export function im2col(src: usize, cols: usize, rows: i32, cinp: i32, H: i32, W: i32, OH: i32, OW: i32, k: i32, s: i32, pad: i32): void {
  const run = <usize>(k * cinp) << 2;
  let q = cols;
  for (let n = 0; n < rows; n++) {
    const img = src + (<usize>(n * H * W * cinp) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * s - pad;
        const kw0 = max(0, -iw0), kw1 = min(k, W - iw0);
        for (let kh = 0; kh < k; kh++) {
          const ih = oh * s - pad + kh;
          if (ih < 0 || ih >= H || kw1 <= kw0) {
            fill(q, k * cinp, 0);
          } else {
            if (kw0 > 0) fill(q, kw0 * cinp, 0);
            memory.copy(q + (<usize>(kw0 * cinp) << 2), img + (<usize>((ih * W + iw0 + kw0) * cinp) << 2), <usize>((kw1 - kw0) * cinp) << 2);
            if (kw1 < k) fill(q + (<usize>(kw1 * cinp) << 2), (k - kw1) * cinp, 0);
          }
          q += run;
        }
      }
    }
  }
}

/** The gradient of im2col: adds the columns' gradients onto a cleared input gradient. */
export function col2im(cols: usize, dst: usize, rows: i32, cinp: i32, H: i32, W: i32, OH: i32, OW: i32, k: i32, s: i32, pad: i32): void {
  fill(dst, rows * H * W * cinp, 0);
  const run = <usize>(k * cinp) << 2;
  let q = cols;
  for (let n = 0; n < rows; n++) {
    const img = dst + (<usize>(n * H * W * cinp) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * s - pad;
        const kw0 = max(0, -iw0), kw1 = min(k, W - iw0);
        for (let kh = 0; kh < k; kh++) {
          const ih = oh * s - pad + kh;
          if (ih >= 0 && ih < H && kw1 > kw0) {
            const p = img + (<usize>((ih * W + iw0 + kw0) * cinp) << 2);
            addInto(p, q + (<usize>(kw0 * cinp) << 2), p, (kw1 - kw0) * cinp);
          }
          q += run;
        }
      }
    }
  }
}

/** Transposed columns of one data row (C×H×W): [C·k·k rows × OH·OW], row (c, kh, kw). */
export function im2colData(x: usize, cols: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, k: i32, s: i32, pad: i32): void {
  const M = OH * OW;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < k; kh++) {
      for (let kw = 0; kw < k; kw++) {
        const tap = cols + (<usize>(((c * k + kh) * k + kw) * M) << 2);
        // Output columns whose input column iw = ow·s − pad + kw is inside the image.
        const ow0 = min(OW, max(0, (pad - kw + s - 1) / s));
        const last = W - 1 + pad - kw;
        const ow1 = last < 0 ? ow0 : max(ow0, min(OW, last / s + 1));
        for (let oh = 0; oh < OH; oh++) {
          const q = tap + (<usize>(oh * OW) << 2);
          const ih = oh * s - pad + kh;
          if (ih < 0 || ih >= H) {
            fill(q, OW, 0);
            continue;
          }
          if (ow0 > 0) fill(q, ow0, 0);
          const from = plane + (<usize>(ih * W + ow0 * s - pad + kw) << 2);
          if (s == 1) memory.copy(q + (<usize>ow0 << 2), from, <usize>(ow1 - ow0) << 2);
          else for (let ow = ow0; ow < ow1; ow++) store<f32>(q + (<usize>ow << 2), load<f32>(from + (<usize>((ow - ow0) * s) << 2)));
          if (ow1 < OW) fill(q + (<usize>ow1 << 2), OW - ow1, 0);
        }
      }
    }
  }
}

// Conv instruction: 1 src, 2 dst, 3 cin, 4 cinp, 5 H, 6 W, 7 coutp, 8 OH, 9 OW,
// 10 k, 11 stride, 12 pad, 13 wp, 14 bp (−1 none), 15 cols, 16 kp;
// backward adds 17 dsrc (−1: the input is data), 18 ddst, 19 wt, 20 gwp, 21 gbp, 22 cout;
// 23 mode (MODE_*), 24 images per im2col block (the column buffer holds that many, so it stays in cache).
function conv(ins: usize): void {
  const b = arg(ins, 14);
  convInto(ins, at(arg(ins, 1)), at(arg(ins, 2)), at(arg(ins, 13)), b >= 0 ? at(b) : 0, false);
}

/**
 * dst (+)= conv(src; wp) (+ bp, unless bp is 0): the convolution of the
 * instruction with the given input, output and packed weights. In DATA mode
 * the input is the tile's data rows whatever src says.
 */
export function convInto(ins: usize, src: usize, dst: usize, wp: usize, bp: usize, accumulate: bool): void {
  const cin = arg(ins, 3), cinp = arg(ins, 4), H = arg(ins, 5), W = arg(ins, 6), coutp = arg(ins, 7);
  const OH = arg(ins, 8), OW = arg(ins, 9), k = arg(ins, 10), s = arg(ins, 11), pad = arg(ins, 12);
  const mode = arg(ins, 23);
  const m = sRows * OH * OW;
  if (!accumulate) {
    if (bp != 0) broadcastRows(dst, bp, m, coutp);
    else fill(dst, m * coutp, 0);
  }
  const cols = at(arg(ins, 15));
  if (mode == MODE_DATA) {
    const M = OH * OW;
    for (let n = 0; n < sRows; n++) {
      im2colData(dataRow(n), cols, cin, H, W, OH, OW, k, s, pad);
      gemm_tn(cols, M, wp, coutp, dst + (<usize>(n * M * coutp) << 2), coutp, M, cin * k * k, coutp);
    }
  } else if (mode == MODE_DIRECT) {
    gemm_nn(src, cinp, wp, coutp, dst, coutp, m, cin, coutp, 1);
  } else {
    const K = k * k * cinp, B = arg(ins, 24);
    for (let n0 = 0; n0 < sRows; n0 += B) {
      const nb = min(B, sRows - n0);
      im2col(src + (<usize>(n0 * H * W * cinp) << 2), cols, nb, cinp, H, W, OH, OW, k, s, pad);
      gemm_nn(cols, K, wp, coutp, dst + (<usize>(n0 * OH * OW * coutp) << 2), coutp, nb * OH * OW, K, coutp, 1);
    }
  }
}

function convBackward(ins: usize): void {
  const src = at(arg(ins, 1));
  const cin = arg(ins, 3), cinp = arg(ins, 4), H = arg(ins, 5), W = arg(ins, 6), coutp = arg(ins, 7);
  const OH = arg(ins, 8), OW = arg(ins, 9), k = arg(ins, 10), s = arg(ins, 11), pad = arg(ins, 12);
  const kp = arg(ins, 16), dsrc = arg(ins, 17), ddst = at(arg(ins, 18)), cout = arg(ins, 22), mode = arg(ins, 23);
  const m = sRows * OH * OW;
  const cols = at(arg(ins, 15)), gwp = at(arg(ins, 20));
  if (arg(ins, 21) >= 0) columnSumsInto(ddst, at(arg(ins, 21)), m, coutp);
  if (mode == MODE_DATA) {
    const M = OH * OW;
    for (let n = 0; n < sRows; n++) {
      im2colData(dataRow(n), cols, cin, H, W, OH, OW, k, s, pad);
      gemm_nn(cols, M, ddst + (<usize>(n * M * coutp) << 2), coutp, gwp, coutp, cin * k * k, M, coutp, 1);
    }
    return;
  }
  if (mode == MODE_DIRECT) {
    weightGradient(src, cinp, ddst, coutp, gwp, cin, m);
    if (dsrc >= 0) gemm_nn(ddst, coutp, at(arg(ins, 19)), kp, at(dsrc), cinp, m, cout, cinp, 0);
    return;
  }
  const K = k * k * cinp, B = arg(ins, 24);
  for (let n0 = 0; n0 < sRows; n0 += B) {
    const nb = min(B, sRows - n0);
    const rows = nb * OH * OW;
    const dz = ddst + (<usize>(n0 * OH * OW * coutp) << 2);
    im2col(src + (<usize>(n0 * H * W * cinp) << 2), cols, nb, cinp, H, W, OH, OW, k, s, pad);
    weightGradient(cols, K, dz, coutp, gwp, K, rows);
    if (dsrc < 0) continue;
    gemm_nn(dz, coutp, at(arg(ins, 19)), kp, cols, K, rows, cout, K, 0);
    col2im(cols, at(dsrc) + (<usize>(n0 * H * W * cinp) << 2), nb, cinp, H, W, OH, OW, k, s, pad);
  }
}

/** Rows of A and dZ per product in weightGradient: a block of columns stays in cache while the gradient accumulates. */
const WG_BLOCK: i32 = 64;

/** gw [K × n] += Aᵀ·dZ over m rows (A [m × K], stride lda), in blocks of rows. */
export function weightGradient(a: usize, lda: i32, dz: usize, n: i32, gw: usize, K: i32, m: i32): void {
  for (let r = 0; r < m; r += WG_BLOCK) {
    const rows = min(WG_BLOCK, m - r);
    gemm_tn(a + (<usize>(r * lda) << 2), lda, dz + (<usize>(r * n) << 2), n, gw, n, K, rows, n);
  }
}

function broadcastRows(dst: usize, v: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) memory.copy(dst + (<usize>(r * n) << 2), v, <usize>n << 2);
}

export function columnSumsInto(d: usize, out: usize, rows: i32, n: i32): void {
  for (let j = 0; j < n; j += 4) {
    let s = v128.load(out + (<usize>j << 2));
    for (let r = 0; r < rows; r++) s = f32x4.add(s, v128.load(d + (<usize>(r * n + j) << 2)));
    v128.store(out + (<usize>j << 2), s);
  }
}

function addInto(a: usize, b: usize, dst: usize, n: i32): void {
  let o: usize = 0;
  const end = <usize>n << 2;
  for (; o + 16 <= end; o += 16) v128.store(dst + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  for (; o < end; o += 4) store<f32>(dst + o, load<f32>(a + o) + load<f32>(b + o));
}

function act(ins: usize): void {
  const n = sRows * arg(ins, 3);
  memory.copy(at(arg(ins, 2)), at(arg(ins, 1)), <usize>n << 2);
  activate(at(arg(ins, 2)), n, arg(ins, 4));
}

// Pool instruction: 1 src, 2 dst, 3 cp, 4 H, 5 W, 6 OH, 7 OW, 8 k, 9 stride, 10 argmax (i32, max only).
function maxPool(ins: usize): void {
  const src = at(arg(ins, 1)), dst = at(arg(ins, 2)), arg_ = at(arg(ins, 10));
  const cp = arg(ins, 3), H = arg(ins, 4), W = arg(ins, 5), OH = arg(ins, 6), OW = arg(ins, 7), k = arg(ins, 8), s = arg(ins, 9);
  for (let n = 0; n < sRows; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = <usize>(((n * OH + oh) * OW + ow) * cp) << 2;
        for (let c = 0; c < cp; c += 4) {
          let best = f32x4.splat(-Infinity);
          let where = i32x4.splat(0);
          for (let kh = 0; kh < k; kh++) {
            for (let kw = 0; kw < k; kw++) {
              const idx = ((n * H + oh * s + kh) * W + ow * s + kw) * cp + c;
              const v = v128.load(src + (<usize>idx << 2));
              // Strictly greater: the first maximum in the window wins, as PyTorch's.
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              where = v128.bitselect(i32x4.add(i32x4.splat(idx), i32x4(0, 1, 2, 3)), where, gt);
            }
          }
          v128.store(dst + o + (<usize>c << 2), best);
          v128.store(arg_ + o + (<usize>c << 2), where);
        }
      }
    }
  }
}

function maxPoolBackward(ins: usize): void {
  const ddst = at(arg(ins, 1)), dsrc = at(arg(ins, 2)), arg_ = at(arg(ins, 10));
  const cp = arg(ins, 3), H = arg(ins, 4), W = arg(ins, 5), OH = arg(ins, 6), OW = arg(ins, 7);
  fill(dsrc, sRows * H * W * cp, 0);
  const outs = sRows * OH * OW * cp;
  for (let i = 0; i < outs; i++) {
    const q = dsrc + (<usize>load<i32>(arg_ + (<usize>i << 2)) << 2);
    store<f32>(q, load<f32>(q) + load<f32>(ddst + (<usize>i << 2)));
  }
}

function avgPool(ins: usize): void {
  const src = at(arg(ins, 1)), dst = at(arg(ins, 2));
  const cp = arg(ins, 3), H = arg(ins, 4), W = arg(ins, 5), OH = arg(ins, 6), OW = arg(ins, 7), k = arg(ins, 8), s = arg(ins, 9);
  const scale = f32x4.splat(<f32>1 / <f32>(k * k));
  for (let n = 0; n < sRows; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = <usize>(((n * OH + oh) * OW + ow) * cp) << 2;
        for (let c = 0; c < cp; c += 4) {
          let sum = f32x4.splat(0);
          for (let kh = 0; kh < k; kh++) {
            for (let kw = 0; kw < k; kw++) {
              sum = f32x4.add(sum, v128.load(src + (<usize>(((n * H + oh * s + kh) * W + ow * s + kw) * cp + c) << 2)));
            }
          }
          v128.store(dst + o + (<usize>c << 2), f32x4.mul(sum, scale));
        }
      }
    }
  }
}

function avgPoolBackward(ins: usize): void {
  const ddst = at(arg(ins, 1)), dsrc = at(arg(ins, 2));
  const cp = arg(ins, 3), H = arg(ins, 4), W = arg(ins, 5), OH = arg(ins, 6), OW = arg(ins, 7), k = arg(ins, 8), s = arg(ins, 9);
  const scale = f32x4.splat(<f32>1 / <f32>(k * k));
  fill(dsrc, sRows * H * W * cp, 0);
  for (let n = 0; n < sRows; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = <usize>(((n * OH + oh) * OW + ow) * cp) << 2;
        for (let c = 0; c < cp; c += 4) {
          const g = f32x4.mul(v128.load(ddst + o + (<usize>c << 2)), scale);
          for (let kh = 0; kh < k; kh++) {
            for (let kw = 0; kw < k; kw++) {
              const q = dsrc + (<usize>(((n * H + oh * s + kh) * W + ow * s + kw) * cp + c) << 2);
              v128.store(q, f32x4.add(v128.load(q), g));
            }
          }
        }
      }
    }
  }
}

// GAP instruction: 1 src, 2 dst, 3 cp, 4 H·W.
function gap(ins: usize): void {
  const src = at(arg(ins, 1)), dst = at(arg(ins, 2)), cp = arg(ins, 3), hw = arg(ins, 4);
  const scale = f32x4.splat(<f32>1 / <f32>hw);
  for (let n = 0; n < sRows; n++) {
    for (let c = 0; c < cp; c += 4) {
      let sum = f32x4.splat(0);
      for (let p = 0; p < hw; p++) sum = f32x4.add(sum, v128.load(src + (<usize>((n * hw + p) * cp + c) << 2)));
      v128.store(dst + (<usize>(n * cp + c) << 2), f32x4.mul(sum, scale));
    }
  }
}

function gapBackward(ins: usize): void {
  const ddst = at(arg(ins, 1)), dsrc = at(arg(ins, 2)), cp = arg(ins, 3), hw = arg(ins, 4);
  const scale = f32x4.splat(<f32>1 / <f32>hw);
  for (let n = 0; n < sRows; n++) {
    for (let c = 0; c < cp; c += 4) {
      const g = f32x4.mul(v128.load(ddst + (<usize>(n * cp + c) << 2)), scale);
      for (let p = 0; p < hw; p++) v128.store(dsrc + (<usize>((n * hw + p) * cp + c) << 2), g);
    }
  }
}

// Flatten instruction: 1 src, 2 dst, 3 C, 4 H·W, 5 cp, 6 fp. PyTorch's order: feature c·HW + p.
function flatten(ins: usize, backward: bool): void {
  const a = at(arg(ins, 1)), b = at(arg(ins, 2));
  const C = arg(ins, 3), hw = arg(ins, 4), cp = arg(ins, 5), fp = arg(ins, 6);
  if (backward) fill(b, sRows * hw * cp, 0);
  else fill(b, sRows * fp, 0);
  for (let n = 0; n < sRows; n++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < hw; p++) {
        const nhwc = <usize>((n * hw + p) * cp + c) << 2;
        const flat = <usize>(n * fp + c * hw + p) << 2;
        if (backward) store<f32>(b + nhwc, load<f32>(a + flat));
        else store<f32>(b + flat, load<f32>(a + nhwc));
      }
    }
  }
}

// BatchNorm instruction: 1 src, 2 dst, 3 cp, 4 H·W, 5 gamma, 6 beta (packed, scratch),
// 7 mode (0 batch statistics, 1 running), 8 running mean, 9 running var (float offsets
// from the header's H_BUFFERS, C floats each), 10 saved mean, 11 saved 1/σ (scratch, cp floats), 12 C;
// backward adds 13 ddst, 14 dsrc, 15 ggamma, 16 gbeta; 17 scratch for per-channel sums (2·cp f64, 8 f32);
// 18–19 eps, the f64 added to the variance (1e-5 in PyTorch, 1e-3 in Keras), its bits in two words.
// @ts-ignore: decorator
@inline
export function bnEps(ins: usize): f64 {
  return load<f64>(ins + (<usize>18 << 2));
}

/** Rows summed in float32 lanes before each partial sum joins a float64 total. */
const BN_BLOCK: i32 = 256;

/**
 * Per-channel sums over `count` rows of cp channels, four channels a lane:
 * Σ a (b null) or Σ a·b, or with `centre`, Σ (a − centre)². Blocks of rows
 * add in float32, blocks join in float64, so long columns keep their digits.
 */
export function channelSums(a: usize, b: usize, centre: usize, count: i32, cp: i32, out: usize): void {
  for (let c = 0; c < cp; c += 4) {
    const o = <usize>c << 2;
    let t0: f64 = 0, t1: f64 = 0, t2: f64 = 0, t3: f64 = 0;
    const mu = centre ? v128.load(centre + o) : f32x4.splat(0);
    for (let r0 = 0; r0 < count; r0 += BN_BLOCK) {
      const r1 = min(count, r0 + BN_BLOCK);
      let acc = f32x4.splat(0);
      for (let i = r0; i < r1; i++) {
        const q = (<usize>(i * cp) << 2) + o;
        let x = v128.load(a + q);
        if (centre) {
          x = f32x4.sub(x, mu);
          x = f32x4.mul(x, x);
        } else if (b) {
          x = f32x4.mul(x, v128.load(b + q));
        }
        acc = f32x4.add(acc, x);
      }
      t0 += <f64>f32x4.extract_lane(acc, 0);
      t1 += <f64>f32x4.extract_lane(acc, 1);
      t2 += <f64>f32x4.extract_lane(acc, 2);
      t3 += <f64>f32x4.extract_lane(acc, 3);
    }
    store<f64>(out + (<usize>c << 3), t0);
    store<f64>(out + (<usize>(c + 1) << 3), t1);
    store<f64>(out + (<usize>(c + 2) << 3), t2);
    store<f64>(out + (<usize>(c + 3) << 3), t3);
  }
}

function batchNorm(ins: usize): void {
  const src = at(arg(ins, 1)), cp = arg(ins, 3), hw = arg(ins, 4);
  const mean = at(arg(ins, 10)), inv = at(arg(ins, 11)), C = arg(ins, 12);
  const count = sRows * hw;
  const bnSums = at(arg(ins, 17));
  fill(mean, cp, 0);
  fill(inv, cp, 0);
  if (arg(ins, 7) == 0) {
    channelSums(src, 0, 0, count, cp, bnSums);
    for (let c = 0; c < C; c++) store<f32>(mean + (<usize>c << 2), <f32>(load<f64>(bnSums + (<usize>c << 3)) / <f64>count));
    // Two passes (sum, then squares about the mean): no cancellation in the variance.
    channelSums(src, 0, mean, count, cp, bnSums);
    for (let c = 0; c < C; c++) store<f32>(inv + (<usize>c << 2), <f32>(1 / Math.sqrt(load<f64>(bnSums + (<usize>c << 3)) / <f64>count + bnEps(ins))));
  } else {
    const stats = <usize>hdr(sCfg, H_BUFFERS);
    for (let c = 0; c < C; c++) {
      store<f32>(mean + (<usize>c << 2), load<f32>(stats + (<usize>(arg(ins, 8) + c) << 2)));
      store<f32>(inv + (<usize>c << 2), <f32>(1 / Math.sqrt(<f64>load<f32>(stats + (<usize>(arg(ins, 9) + c) << 2)) + bnEps(ins))));
    }
  }
  affine(ins, count, cp);
}

/** y = (x − μ)·γ/σ + β over `count` rows, with the instruction's saved μ and 1/σ. */
export function affine(ins: usize, count: i32, cp: i32): void {
  const src = at(arg(ins, 1)), dst = at(arg(ins, 2));
  const mean = at(arg(ins, 10)), inv = at(arg(ins, 11)), gamma = at(arg(ins, 5)), beta = at(arg(ins, 6));
  for (let c = 0; c < cp; c += 4) {
    const o = <usize>c << 2;
    const scale = f32x4.mul(v128.load(inv + o), v128.load(gamma + o));
    const shift = f32x4.sub(v128.load(beta + o), f32x4.mul(v128.load(mean + o), scale));
    for (let i = 0; i < count; i++) {
      const q = <usize>(i * cp) << 2;
      v128.store(dst + q + o, f32x4.add(f32x4.mul(v128.load(src + q + o), scale), shift));
    }
  }
}

/**
 * dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)) for channels c..c+3 over `count`
 * rows, x̂ already in dsrc; the means are the 8 floats at `lanes`.
 */
export function inputGradient(ins: usize, count: i32, cp: i32, c: i32, lanes: usize): void {
  const ddst = at(arg(ins, 13)), dsrc = at(arg(ins, 14)), gamma = at(arg(ins, 5)), inv = at(arg(ins, 11));
  const o = <usize>c << 2;
  const mDy = v128.load(lanes), mDyX = v128.load(lanes, 16);
  const k = f32x4.mul(v128.load(gamma + o), v128.load(inv + o));
  for (let i = 0; i < count; i++) {
    const q = (<usize>(i * cp) << 2) + o;
    v128.store(dsrc + q, f32x4.mul(k, f32x4.sub(f32x4.sub(v128.load(ddst + q), mDy), f32x4.mul(v128.load(dsrc + q), mDyX))));
  }
}

/** x̂ = (x − μ)/σ of the instruction's input into `out` (the same layout). */
export function normalised(src: usize, mean: usize, inv: usize, count: i32, cp: i32, out: usize): void {
  for (let c = 0; c < cp; c += 4) {
    const o = <usize>c << 2;
    const mu = v128.load(mean + o), s = v128.load(inv + o);
    for (let i = 0; i < count; i++) {
      const q = (<usize>(i * cp) << 2) + o;
      v128.store(out + q, f32x4.mul(f32x4.sub(v128.load(src + q), mu), s));
    }
  }
}

function batchNormBackward(ins: usize): void {
  const src = at(arg(ins, 1)), cp = arg(ins, 3), hw = arg(ins, 4), C = arg(ins, 12);
  const gamma = at(arg(ins, 5)), mean = at(arg(ins, 10)), inv = at(arg(ins, 11));
  const ddst = at(arg(ins, 13)), dsrc = at(arg(ins, 14)), ggamma = at(arg(ins, 15)), gbeta = at(arg(ins, 16));
  const batch = arg(ins, 7) == 0;
  const count = sRows * hw;
  const bnSums = at(arg(ins, 17)), bnSums2 = bnSums + (<usize>cp << 3), lanes = bnSums2 + (<usize>cp << 3);
  // x̂ goes where dx will be written; dx then overwrites it element by element.
  normalised(src, mean, inv, count, cp, dsrc);
  channelSums(ddst, 0, 0, count, cp, bnSums);
  channelSums(ddst, dsrc, 0, count, cp, bnSums2);
  for (let c = 0; c < cp; c += 4) {
    const o = <usize>c << 2;
    for (let l = 0; l < 4; l++) {
      const ch = c + l;
      const sumDy = load<f64>(bnSums + (<usize>ch << 3)), sumDyX = load<f64>(bnSums2 + (<usize>ch << 3));
      if (ch < C) {
        store<f32>(ggamma + (<usize>ch << 2), load<f32>(ggamma + (<usize>ch << 2)) + <f32>sumDyX);
        store<f32>(gbeta + (<usize>ch << 2), load<f32>(gbeta + (<usize>ch << 2)) + <f32>sumDy);
      }
      store<f32>(lanes + (<usize>l << 2), batch ? <f32>(sumDy / <f64>count) : 0);
      store<f32>(lanes + (<usize>(l + 4) << 2), batch ? <f32>(sumDyX / <f64>count) : 0);
    }
    // Batch statistics depend on every row (with running ones the means are 0).
    inputGradient(ins, count, cp, c, lanes);
  }
}

// ---- loss

// Loss instruction: 1 logits, 2 dlogits (−1 without gradient), 3 padded width.
function loss(ins: usize): f64 {
  const z = at(arg(ins, 1)), op = arg(ins, 3);
  const wantGrad = arg(ins, 2) >= 0 && sGrad != 0;
  const dz = wantGrad ? at(arg(ins, 2)) : 0;
  const O = hdr(sCfg, H_OUT), ys = hdr(sCfg, H_YSTRIDE), total = <f64>hdr(sCfg, H_NTOTAL);
  const y0 = <usize>hdr(sCfg, H_Y);
  const ce = hdr(sCfg, H_LOSS) == 0;
  let sum: f64 = 0;
  for (let r = 0; r < sRows; r++) {
    const zr = z + (<usize>(r * op) << 2);
    const yr = y0 + (<usize>((sRow + r) * ys) << 2);
    const dr = dz + (<usize>(r * op) << 2);
    if (ce) sum += crossEntropyRow(zr, yr, dr, O, op, total, wantGrad);
    else sum += squaredErrorRow(zr, yr, dr, O, op, total, wantGrad);
    if (argMax(zr, O) == argMax(yr, O)) sCorrect++;
  }
  return sum;
}

/** Index of the first largest of n floats, as tf.argMax picks it. */
function argMax(p: usize, n: i32): i32 {
  let best = 0;
  let v = load<f32>(p);
  for (let j = 1; j < n; j++) {
    const x = load<f32>(p + (<usize>j << 2));
    if (x > v) {
      v = x;
      best = j;
    }
  }
  return best;
}

export function crossEntropyRow(z: usize, y: usize, dz: usize, O: i32, op: i32, total: f64, wantGrad: bool): f64 {
  let mx: f64 = -Infinity;
  for (let j = 0; j < O; j++) mx = Math.max(mx, <f64>load<f32>(z + (<usize>j << 2)));
  let se: f64 = 0, yz: f64 = 0, sy: f64 = 0;
  for (let j = 0; j < O; j++) {
    const zj = <f64>load<f32>(z + (<usize>j << 2));
    const yj = <f64>load<f32>(y + (<usize>j << 2));
    se += Math.exp(zj - mx);
    yz += yj * zj;
    sy += yj;
  }
  const lse = mx + Math.log(se);
  if (wantGrad) {
    // d/dz (lse·Σy − Σ y·z) / N: softmax times Σy, minus y.
    for (let j = 0; j < op; j++) {
      let d: f64 = 0;
      if (j < O) d = (Math.exp(<f64>load<f32>(z + (<usize>j << 2)) - lse) * sy - <f64>load<f32>(y + (<usize>j << 2))) / total;
      store<f32>(dz + (<usize>j << 2), <f32>d);
    }
  }
  return lse - yz;
}

function squaredErrorRow(z: usize, y: usize, dz: usize, O: i32, op: i32, total: f64, wantGrad: bool): f64 {
  let sum: f64 = 0;
  const scale = 2 / (total * <f64>O);
  for (let j = 0; j < op; j++) {
    let d: f64 = 0;
    if (j < O) {
      d = <f64>load<f32>(z + (<usize>j << 2)) - <f64>load<f32>(y + (<usize>j << 2));
      sum += d * d;
    }
    if (wantGrad) store<f32>(dz + (<usize>j << 2), <f32>(d * scale));
  }
  return sum / <f64>O;
}

// ---- driver

/** Rows [r0, r1) tile by tile: forward, loss, and backward when sGrad is set. Returns the loss sum. */
function runRows(cfg: usize, r0: i32, r1: i32): f64 {
  const tile = hdr(cfg, H_TILE);
  sLoss = 0;
  for (let r = r0; r < r1; r += tile) {
    sRow = r;
    sRows = min(tile, r1 - r);
    runSection(cfg, S_FWD);
    if (sGrad != 0) runSection(cfg, S_BWD);
  }
  return sLoss;
}

/**
 * Losses and gradients of parameter vectors. Each result slot is two f64:
 * the loss summed over rows (the host divides) and the rows predicted right.
 * parameter vectors. byChunk = 0: threads claim whole vectors m0 + j from
 * `counter`, each walking its chunks in order and adding their gradients
 * into grads + m·P. byChunk = 1: one vector (m0); threads claim chunks,
 * writing chunk c's loss to losses[c] and its gradient to grads + c·P for
 * the host to sum in chunk order — the same additions in the same order.
 */
export function cnn_run(cfg: usize, scratch: usize, thetas: usize, m0: i32, m1: i32, counter: usize, losses: usize, grads: usize, wantGrad: i32, byChunk: i32): void {
  sCfg = cfg;
  sScratch = scratch;
  const P = hdr(cfg, H_DIM);
  const rows = hdr(cfg, H_ROWS);
  const chunk = hdr(cfg, H_CHUNK);
  const chunks = (rows + chunk - 1) / chunk;
  const jobs = byChunk ? chunks : m1 - m0;
  // By chunk, every job of this thread is the same vector: pack it once.
  let packed = false;
  for (let job = atomic.add<i32>(counter, 1); job < jobs; job = atomic.add<i32>(counter, 1)) {
    const m = byChunk ? m0 : m0 + job;
    sTheta = thetas + (<usize>(m * P) << 2);
    if (!packed) runSection(cfg, S_PREP);
    packed = byChunk != 0;
    if (byChunk) {
      sGrad = wantGrad ? grads + (<usize>(job * P) << 2) : 0;
      sCorrect = 0;
      store<f64>(losses + (<usize>job << 4), runChunk(cfg, job, chunk, rows, 0));
      store<f64>(losses + (<usize>job << 4) + 8, <f64>sCorrect);
      continue;
    }
    sGrad = wantGrad ? grads + (<usize>(m * P) << 2) : 0;
    let total: f64 = 0;
    sCorrect = 0;
    for (let c = 0; c < chunks; c++) total += runChunk(cfg, c, chunk, rows, c > 0 ? 1 : 0);
    store<f64>(losses + (<usize>m << 4), total);
    store<f64>(losses + (<usize>m << 4) + 8, <f64>sCorrect);
  }
}

function runChunk(cfg: usize, c: i32, chunk: i32, rows: i32, accumulate: i32): f64 {
  if (sGrad != 0) runSection(cfg, S_CHUNK);
  const l = runRows(cfg, c * chunk, min(rows, (c + 1) * chunk));
  sAcc = accumulate;
  if (sGrad != 0) runSection(cfg, S_FINISH);
  return l;
}

/**
 * Exact Hessian-vector products H·v at θ, chunk by chunk of rows: threads
 * claim chunks from `counter`; chunk c's product goes to out + c·P and its
 * loss sum to losses[c], for the host to sum in chunk order. Each tile runs
 * forward, its R form, backward, its R form; the R gradients are H·v.
 */
export function cnn_hvp(cfg: usize, scratch: usize, theta: usize, v: usize, counter: usize, losses: usize, out: usize): void {
  sCfg = cfg;
  sScratch = scratch;
  const P = hdr(cfg, H_DIM);
  const rows = hdr(cfg, H_ROWS);
  const chunk = hdr(cfg, H_CHUNK);
  const chunks = (rows + chunk - 1) / chunk;
  let packed = false;
  for (let c = atomic.add<i32>(counter, 1); c < chunks; c = atomic.add<i32>(counter, 1)) {
    if (!packed) {
      sTheta = theta;
      sR = false;
      runSection(cfg, S_PREP);
      sTheta = v;
      sR = true;
      runSection(cfg, S_PREP);
      sTheta = theta;
      packed = true;
    }
    sGrad = out + (<usize>(c * P) << 2);
    bothForms(cfg, S_CHUNK);
    sLoss = 0;
    const r1 = min(rows, (c + 1) * chunk);
    for (let r = c * chunk; r < r1; r += hdr(cfg, H_TILE)) {
      sRow = r;
      sRows = min(hdr(cfg, H_TILE), r1 - r);
      bothForms(cfg, S_FWD);
      bothForms(cfg, S_BWD);
    }
    store<f64>(losses + (<usize>c << 3), sLoss);
    sAcc = 0;
    sR = true;
    runSection(cfg, S_FINISH);
    sR = false;
  }
}

function bothForms(cfg: usize, section: i32): void {
  sR = false;
  runSection(cfg, section);
  sR = true;
  runSection(cfg, section);
  sR = false;
}
