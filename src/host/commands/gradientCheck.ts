import { COMMANDS } from '../commandTable';
import type { Services } from '../services';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Gradient Check — on the clicked checkpoint, the open viewer's, or one picked. */
export async function gradientCheck(s: Services, arg?: unknown): Promise<void> {
  const file = await pickCheckpoint(s, arg, COMMANDS.gradientCheck.title);
  if (file) await s.analysis.gradcheck(file);
}
