// The R-operator (forward-over-reverse) form of conv.as's ops, for exact
// Hessian-vector products of convolutional networks (issue "Exact
// numbers"): every value x carries its directional derivative Rx along v,
// held in x's twin region (twinAt), so the same instructions drive both.
// Sections run twice per tile: the primal op, then its R form here.
//
// Ops linear in everything they read (pooling by averages, flatten, adds,
// copies, packing and unpacking) are the primal op on the twins. The rest
// follow the product rule: a convolution's R value is conv(Rx; W) +
// conv(x; V), its backward pass differentiates both products, and the loss
// and activations bring their second derivatives. BatchNorm with the rows'
// statistics has no R form here (the host then keeps tfjs' autodiff).
import {
  arg, at, cfgWord, col2im, columnSumsInto, convInto, dataRow, executeShifted, im2col, im2colData, tileRows, twinAt, weightGradient,
  H_LOSS, H_NTOTAL, H_OUT, H_Y, H_YSTRIDE, MODE_DATA, MODE_DIRECT,
  OP_ACT, OP_ACT_BWD, OP_BN, OP_BN_BWD, OP_CONV, OP_CONV_BWD, OP_INPUT, OP_LOSS, OP_MAXPOOL, OP_MAXPOOL_BWD, tileRow,
} from './conv';
import { activationGrad, activationGradR, fill, gemm_nn } from './kernels';

export function executeR(ins: usize, op: i32): void {
  if (op == OP_CONV) convR(ins);
  else if (op == OP_CONV_BWD) convBackwardR(ins);
  else if (op == OP_ACT) activationGrad(twinAt(arg(ins, 1)), at(arg(ins, 2)), twinAt(arg(ins, 2)), tileRows() * arg(ins, 3), arg(ins, 4));
  else if (op == OP_ACT_BWD) actBackwardR(ins);
  else if (op == OP_MAXPOOL) maxPoolR(ins);
  else if (op == OP_MAXPOOL_BWD) maxPoolBackwardR(ins);
  else if (op == OP_BN && arg(ins, 7) == 0) unreachable(); // batch statistics: the host never asks
  else if (op == OP_BN) batchNormRunningR(ins);
  else if (op == OP_BN_BWD) batchNormRunningBackwardR(ins);
  else if (op == OP_LOSS) lossR(ins);
  else if (op == OP_INPUT) fill(twinAt(arg(ins, 1)), tileRows() * arg(ins, 3) * arg(ins, 4) * arg(ins, 5), 0);
  else executeShifted(ins, op);
}

/** R(conv(x; W) + b) = conv(Rx; W) + conv(x; V) + Rb; the data rows have no tangent. */
function convR(ins: usize): void {
  const b = arg(ins, 14);
  const rdst = twinAt(arg(ins, 2));
  convInto(ins, at(arg(ins, 1)), rdst, twinAt(arg(ins, 13)), b >= 0 ? twinAt(b) : 0, false);
  if (arg(ins, 23) != MODE_DATA) convInto(ins, twinAt(arg(ins, 1)), rdst, at(arg(ins, 13)), 0, true);
}

/**
 * R of the backward pass: R∇W += cols(Rx)ᵀ·dz + cols(x)ᵀ·Rdz, R∇b += Σ Rdz,
 * Rdx = col2im(Rdz·Wᵀ + dz·Vᵀ).
 */
function convBackwardR(ins: usize): void {
  const cin = arg(ins, 3), cinp = arg(ins, 4), H = arg(ins, 5), W = arg(ins, 6), coutp = arg(ins, 7);
  const OH = arg(ins, 8), OW = arg(ins, 9), k = arg(ins, 10), s = arg(ins, 11), pad = arg(ins, 12);
  const kp = arg(ins, 16), dsrc = arg(ins, 17), cout = arg(ins, 22), mode = arg(ins, 23);
  const rows = tileRows();
  const m = rows * OH * OW;
  const ddst = at(arg(ins, 18)), rddst = twinAt(arg(ins, 18));
  const rgw = twinAt(arg(ins, 20)), cols = at(arg(ins, 15));
  if (arg(ins, 21) >= 0) columnSumsInto(rddst, twinAt(arg(ins, 21)), m, coutp);
  if (mode == MODE_DATA) {
    const M = OH * OW;
    for (let n = 0; n < rows; n++) {
      im2colData(dataRow(n), cols, cin, H, W, OH, OW, k, s, pad);
      gemm_nn(cols, M, rddst + (<usize>(n * M * coutp) << 2), coutp, rgw, coutp, cin * k * k, M, coutp, 1);
    }
    return;
  }
  const src = at(arg(ins, 1)), rsrc = twinAt(arg(ins, 1));
  const wt = at(arg(ins, 19)), vt = twinAt(arg(ins, 19));
  if (mode == MODE_DIRECT) {
    weightGradient(rsrc, cinp, ddst, coutp, rgw, cin, m);
    weightGradient(src, cinp, rddst, coutp, rgw, cin, m);
    if (dsrc < 0) return;
    gemm_nn(rddst, coutp, wt, kp, twinAt(dsrc), cinp, m, cout, cinp, 0);
    gemm_nn(ddst, coutp, vt, kp, twinAt(dsrc), cinp, m, cout, cinp, 1);
    return;
  }
  const K = k * k * cinp, B = arg(ins, 24);
  const inStep = <usize>(H * W * cinp) << 2, outStep = <usize>(OH * OW * coutp) << 2;
  for (let n0 = 0; n0 < rows; n0 += B) {
    const nb = min(B, rows - n0);
    const mb = nb * OH * OW;
    const dz = ddst + <usize>n0 * outStep, rdz = rddst + <usize>n0 * outStep;
    im2col(rsrc + <usize>n0 * inStep, cols, nb, cinp, H, W, OH, OW, k, s, pad);
    weightGradient(cols, K, dz, coutp, rgw, K, mb);
    im2col(src + <usize>n0 * inStep, cols, nb, cinp, H, W, OH, OW, k, s, pad);
    weightGradient(cols, K, rdz, coutp, rgw, K, mb);
    if (dsrc < 0) continue;
    gemm_nn(rdz, coutp, wt, K, cols, K, mb, cout, K, 0);
    gemm_nn(dz, coutp, vt, K, cols, K, mb, cout, K, 1);
    col2im(cols, twinAt(dsrc) + <usize>n0 * inStep, nb, cinp, H, W, OH, OW, k, s, pad);
  }
}

/** Rdz = Rdh·f′(z) + dh·f″(z)·Rz, through the activation's output and its R value. */
function actBackwardR(ins: usize): void {
  const dh = at(arg(ins, 1)), h = at(arg(ins, 2)), dz = at(arg(ins, 3));
  activationGradR(dh, twinAt(arg(ins, 1)), h, twinAt(arg(ins, 2)), dz, twinAt(arg(ins, 3)), tileRows() * arg(ins, 4), arg(ins, 5));
}

/** The maximum's R value is the R value where the maximum was. */
function maxPoolR(ins: usize): void {
  const rsrc = twinAt(arg(ins, 1)), rdst = twinAt(arg(ins, 2)), where = at(arg(ins, 10));
  const outs = tileRows() * arg(ins, 6) * arg(ins, 7) * arg(ins, 3);
  for (let i = 0; i < outs; i++) {
    const idx = <usize>load<i32>(where + (<usize>i << 2));
    store<f32>(rdst + (<usize>i << 2), load<f32>(rsrc + (idx << 2)));
  }
}

function maxPoolBackwardR(ins: usize): void {
  const rddst = twinAt(arg(ins, 1)), rdsrc = twinAt(arg(ins, 2)), where = at(arg(ins, 10));
  fill(rdsrc, tileRows() * arg(ins, 4) * arg(ins, 5) * arg(ins, 3), 0);
  const outs = tileRows() * arg(ins, 6) * arg(ins, 7) * arg(ins, 3);
  for (let i = 0; i < outs; i++) {
    const q = rdsrc + (<usize>load<i32>(where + (<usize>i << 2)) << 2);
    store<f32>(q, load<f32>(q) + load<f32>(rddst + (<usize>i << 2)));
  }
}

/** Running statistics (eval mode): y = γ·x̂ + β with x̂ = (x − μ)/σ fixed, so Ry = γ/σ·Rx + Rγ·x̂ + Rβ. */
function batchNormRunningR(ins: usize): void {
  const cp = arg(ins, 3), count = tileRows() * arg(ins, 4);
  const src = at(arg(ins, 1)), rsrc = twinAt(arg(ins, 1)), rdst = twinAt(arg(ins, 2));
  const gamma = at(arg(ins, 5)), rgamma = twinAt(arg(ins, 5)), rbeta = twinAt(arg(ins, 6));
  const mean = at(arg(ins, 10)), inv = at(arg(ins, 11));
  for (let c = 0; c < cp; c++) {
    const co = <usize>c << 2;
    const mu = load<f32>(mean + co), s = load<f32>(inv + co);
    const g = load<f32>(gamma + co) * s, rg = load<f32>(rgamma + co), rb = load<f32>(rbeta + co);
    for (let i = 0; i < count; i++) {
      const q = (<usize>(i * cp) << 2) + co;
      store<f32>(rdst + q, g * load<f32>(rsrc + q) + rg * (load<f32>(src + q) - mu) * s + rb);
    }
  }
}

/** dx = γ/σ·dy, dγ = Σ dy·x̂, dβ = Σ dy, differentiated along (Rx, Rγ, Rβ) and Rdy. */
function batchNormRunningBackwardR(ins: usize): void {
  const cp = arg(ins, 3), count = tileRows() * arg(ins, 4), C = arg(ins, 12);
  const src = at(arg(ins, 1)), rsrc = twinAt(arg(ins, 1));
  const gamma = at(arg(ins, 5)), rgamma = twinAt(arg(ins, 5));
  const mean = at(arg(ins, 10)), inv = at(arg(ins, 11));
  const ddst = at(arg(ins, 13)), rddst = twinAt(arg(ins, 13)), rdsrc = twinAt(arg(ins, 14));
  const rggamma = twinAt(arg(ins, 15)), rgbeta = twinAt(arg(ins, 16));
  fill(rdsrc, count * cp, 0);
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    const mu = load<f32>(mean + co), s = load<f32>(inv + co), g = load<f32>(gamma + co), rg = load<f32>(rgamma + co);
    let sumG: f64 = 0, sumB: f64 = 0;
    for (let i = 0; i < count; i++) {
      const q = (<usize>(i * cp) << 2) + co;
      const dy = load<f32>(ddst + q), rdy = load<f32>(rddst + q);
      sumG += <f64>(rdy * (load<f32>(src + q) - mu) * s + dy * load<f32>(rsrc + q) * s);
      sumB += <f64>rdy;
      store<f32>(rdsrc + q, (g * rdy + rg * dy) * s);
    }
    store<f32>(rggamma + co, load<f32>(rggamma + co) + <f32>sumG);
    store<f32>(rgbeta + co, load<f32>(rgbeta + co) + <f32>sumB);
  }
}

/**
 * R of the loss gradient. Cross-entropy: dz = (p·Σy − y)/N, so
 * Rdz = Σy·(p ⊙ Rz − p·(p·Rz))/N. Squared error: Rdz = 2·Rz/(N·O).
 */
function lossR(ins: usize): void {
  const z = at(arg(ins, 1)), rz = twinAt(arg(ins, 1)), rdz = twinAt(arg(ins, 2)), op = arg(ins, 3);
  const O = cfgWord(H_OUT), ys = cfgWord(H_YSTRIDE), total = <f64>cfgWord(H_NTOTAL);
  const y0 = <usize>cfgWord(H_Y);
  const ce = cfgWord(H_LOSS) == 0;
  for (let r = 0; r < tileRows(); r++) {
    const zr = z + (<usize>(r * op) << 2), rzr = rz + (<usize>(r * op) << 2), out = rdz + (<usize>(r * op) << 2);
    fill(out, op, 0);
    if (!ce) {
      for (let j = 0; j < O; j++) store<f32>(out + (<usize>j << 2), <f32>((2 * <f64>load<f32>(rzr + (<usize>j << 2))) / (total * <f64>O)));
      continue;
    }
    const yr = y0 + (<usize>((tileRow() + r) * ys) << 2);
    let mx: f64 = -Infinity, sy: f64 = 0;
    for (let j = 0; j < O; j++) {
      mx = Math.max(mx, <f64>load<f32>(zr + (<usize>j << 2)));
      sy += <f64>load<f32>(yr + (<usize>j << 2));
    }
    let se: f64 = 0, pr: f64 = 0;
    for (let j = 0; j < O; j++) {
      const e = Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - mx);
      se += e;
      pr += e * <f64>load<f32>(rzr + (<usize>j << 2));
    }
    pr /= se;
    for (let j = 0; j < O; j++) {
      const p = Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - mx) / se;
      store<f32>(out + (<usize>j << 2), <f32>((sy * p * (<f64>load<f32>(rzr + (<usize>j << 2)) - pr)) / total));
    }
  }
}
