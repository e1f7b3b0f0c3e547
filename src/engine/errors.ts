/**
 * Errors the engine raises on purpose. `kind` decides the CLI exit code:
 * 'input' (bad file, bad flag, bad data) exits 2, 'compute' (NaN loss,
 * diverged run, backend failure) exits 1. Anything else is a bug.
 */
export type ErrorKind = 'input' | 'compute' | 'cancelled';

export class LandscapeError extends Error {
  readonly kind: ErrorKind;
  /** The file the problem is in, when there is one; always part of the message too. */
  readonly file?: string;
  constructor(kind: ErrorKind, message: string, file?: string) {
    super(file !== undefined ? `${file}: ${message}` : message);
    this.name = 'LandscapeError';
    this.kind = kind;
    this.file = file;
  }
}

export function inputError(message: string, file?: string): LandscapeError {
  return new LandscapeError('input', message, file);
}

export function computeError(message: string, file?: string): LandscapeError {
  return new LandscapeError('compute', message, file);
}

export class CancelledError extends LandscapeError {
  constructor(message = 'cancelled') {
    super('cancelled', message);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
