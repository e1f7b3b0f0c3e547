/**
 * The scaling table's CNN rows: one FourierPathFinder iteration (W8's
 * settings: M = 20, N_F = 10, 2,000 Fashion-MNIST images) on LeNet at half,
 * its own and twice its channel and unit widths, so time can be read
 * against P·N·M as for the dense rows.
 */
import { initParams } from '../src/engine/model/spec';
import { Rng } from '../src/engine/rng';
import { CNN_SETTINGS, cnnModel, makeLenetFixture } from './cnnFixture';
import { w8 } from './cnnWorkloads';
import type { Measured, MeasureOptions } from './workloads';

export const CNN_SCALE_WIDTHS = [0.5, 1, 2] as const;

/** LeNet with every conv's channels and every hidden dense layer's units scaled by `width`. */
export function lenetAtWidth(width: number): string {
  const w = (n: number) => Math.max(1, Math.round(n * width));
  return `input(1,28,28) conv(${w(6)},5,pad=2) relu maxpool(2) conv(${w(16)},5) relu maxpool(2) flatten dense(${w(120)}) relu dense(${w(84)}) relu dense(10)`;
}

/** One scaling point: its iteration times, nominal FLOPs per iteration, rows and parameters. */
export async function cnnScalePoint(width: number, o: MeasureOptions): Promise<Measured & { flops: number; n: number; dim: number }> {
  const base = await makeLenetFixture();
  const model = cnnModel(lenetAtWidth(width));
  const fx = { ...base, model, a: initParams(model.spec, new Rng(1)), b: initParams(model.spec, new Rng(2)) };
  const m = await w8(fx, o);
  const S = CNN_SETTINGS;
  const n = fx.rows.n;
  const flops = S.points * 3 * model.flopsPerRow * n + 4 * S.points * S.modes * model.dim;
  return { ...m, flops, n, dim: model.dim };
}
