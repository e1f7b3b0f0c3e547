import type { Services } from '../services';

/** Landscape: Show Log */
export function showLog(s: Services): void {
  s.log.show(true);
}
