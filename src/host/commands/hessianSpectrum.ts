import { COMMANDS } from '../commandTable';
import type { Services } from '../services';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Hessian Spectrum and Stability — on the clicked checkpoint, the open viewer's, or one picked. */
export async function hessianSpectrum(s: Services, arg?: unknown): Promise<void> {
  const file = await pickCheckpoint(s, arg, COMMANDS.hessianSpectrum.title);
  if (file) await s.analysis.hessian(file);
}
