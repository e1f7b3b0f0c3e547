import type { Services } from '../services';

/** Landscape: Open Panel — shows the side view. */
export async function openPanel(s: Services): Promise<void> {
  await s.side.reveal();
}
