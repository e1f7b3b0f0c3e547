/**
 * Per-channel normalisation of images, as torchvision's Normalize does it:
 * pixels already scaled to [0, 1] become (x - mean[c]) / std[c], with the
 * mean and population standard deviation of channel c over every pixel of the
 * training part (accumulated in float64). The statistics are recorded in the
 * checkpoint so that later evaluations apply the very same numbers.
 */
import { inputError } from '../errors';
import type { ChannelNormalization, Dataset, ImageShape } from './types';

/** Mean and standard deviation of each channel over all rows and pixels (a constant channel divides by 1). */
export function channelStats(ds: Pick<Dataset, 'n' | 'x'>, image: ImageShape): ChannelNormalization {
  const plane = image.height * image.width;
  const c = image.channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < ds.n; i++) {
      const base = (i * c + ch) * plane;
      for (let j = 0; j < plane; j++) sum += ds.x[base + j];
    }
    const count = ds.n * plane;
    const m = count ? sum / count : 0;
    let ss = 0;
    for (let i = 0; i < ds.n; i++) {
      const base = (i * c + ch) * plane;
      for (let j = 0; j < plane; j++) {
        const t = ds.x[base + j] - m;
        ss += t * t;
      }
    }
    const s = count ? Math.sqrt(ss / count) : 0;
    mean.push(m);
    // Spread below float32 resolution is rounding noise: scaling it up would invent contrast.
    std.push(s > 1e-7 * Math.max(1, Math.abs(m)) ? s : 1);
  }
  return { mean, std };
}

/** Normalise the rows of `ds` in place (its arrays must be its own). */
export function normalizeChannelsInPlace(ds: Dataset, norm: ChannelNormalization): void {
  const image = ds.image;
  if (!image) throw inputError(`dataset "${ds.id}" is not an image dataset; per-channel normalisation needs an image shape`);
  if (norm.mean.length !== image.channels || norm.std.length !== image.channels) {
    throw inputError(`the recorded normalisation has ${norm.mean.length} channel(s) but dataset "${ds.id}" has ${image.channels}`);
  }
  const plane = image.height * image.width;
  for (let i = 0; i < ds.n; i++) {
    for (let ch = 0; ch < image.channels; ch++) {
      const m = norm.mean[ch];
      const inv = 1 / norm.std[ch];
      const base = (i * image.channels + ch) * plane;
      for (let j = 0; j < plane; j++) ds.x[base + j] = (ds.x[base + j] - m) * inv;
    }
  }
}

/** A recorded normalisation (from checkpoint metadata) checked: equal-length lists of finite means and positive deviations. */
export function checkNormalization(v: unknown): ChannelNormalization {
  const o = v as { mean?: unknown; std?: unknown } | null;
  const list = (a: unknown) => Array.isArray(a) && a.length > 0 && a.length <= 1024 && a.every((t) => typeof t === 'number' && Number.isFinite(t));
  if (typeof o !== 'object' || o === null || !list(o.mean) || !list(o.std)) {
    throw inputError('normalization must be {"mean": [numbers], "std": [numbers]}, one of each per channel');
  }
  const mean = o.mean as number[];
  const std = o.std as number[];
  if (mean.length !== std.length) throw inputError(`normalization has ${mean.length} mean(s) but ${std.length} standard deviation(s)`);
  if (std.some((s) => !(s > 0))) throw inputError('normalization has a standard deviation that is not positive');
  return { mean: mean.slice(), std: std.slice() };
}
