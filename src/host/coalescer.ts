/**
 * Rate-limits a stream of updates to one webview: updates pushed faster than
 * `maxRate` messages a second are merged into the next message instead of
 * being sent one by one. A webview that renders a Plotly chart per message
 * cannot keep up with a fast optimizer otherwise, and VS Code serialises every
 * post.
 *
 * Pure (no vscode, no timers of its own): the clock is injected so tests can
 * drive it.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export const MIN_RATE = 1;
export const MAX_RATE = 1000;

/** Clamp a user-supplied rate (a setting) into a usable range. */
export function clampRate(rate: unknown, fallback = 20): number {
  const r = typeof rate === 'number' && Number.isFinite(rate) ? rate : fallback;
  return Math.min(MAX_RATE, Math.max(MIN_RATE, r));
}

export class Coalescer<D> {
  private pending: D | undefined;
  private timer: unknown;
  private lastSent = -Infinity;
  private intervalMs: number;
  private disposed = false;

  constructor(
    private readonly send: (batch: D) => void,
    /** Folds a new update into the pending one (e.g. concatenates points). */
    private readonly merge: (pending: D, next: D) => D,
    maxRate: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.intervalMs = 1000 / clampRate(maxRate);
  }

  /** Queue an update: it goes out now if the rate allows, else with the next message. */
  push(update: D): void {
    if (this.disposed) return;
    this.pending = this.pending === undefined ? update : this.merge(this.pending, update);
    if (this.timer !== undefined) return;
    const wait = this.lastSent + this.intervalMs - this.clock.now();
    if (wait <= 0) this.flush();
    else this.timer = this.clock.setTimeout(() => this.onTimer(), wait);
  }

  /** Send whatever is pending right away (ignores the rate; used for final states). */
  flush(): void {
    this.cancelTimer();
    if (this.pending === undefined || this.disposed) return;
    const batch = this.pending;
    this.pending = undefined;
    this.lastSent = this.clock.now();
    this.send(batch);
  }

  /**
   * Drop what is pending: a snapshot that already contains it was just sent.
   * The snapshot counts as a message for the rate.
   */
  reset(): void {
    this.cancelTimer();
    this.pending = undefined;
    this.lastSent = this.clock.now();
  }

  setRate(maxRate: number): void {
    this.intervalMs = 1000 / clampRate(maxRate);
  }

  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  dispose(): void {
    this.cancelTimer();
    this.pending = undefined;
    this.disposed = true;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.flush();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
