/** Input errors raised while reading a spec carry its source (a landscape.json path, "--model") as their file. */
import { LandscapeError, inputError } from '../../errors';

export function attributed<T>(source: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (source !== undefined && e instanceof LandscapeError && e.kind === 'input' && e.file === undefined) throw inputError(e.message, source);
    throw e;
  }
}
