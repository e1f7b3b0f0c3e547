import type { Services } from '../services';
import { plotSlice } from './plotSlice';

/** Landscape: Plot Slice Around — the explorer's and the viewer's entry to Plot Slice, on the clicked checkpoint. */
export async function plotSliceAround(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  await plotSlice(s, arg, args);
}
