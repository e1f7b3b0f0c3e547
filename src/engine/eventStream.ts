/**
 * A callback-driven computation as an async generator: what `work` emits is
 * yielded in order, and the generator returns what `work` resolves to (or
 * throws what it throws, after every event emitted before the failure).
 */
export async function* eventStream<E, T>(work: (emit: (e: E) => void) => Promise<T>): AsyncGenerator<E, T> {
  const queue: E[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  const emit = (e: E) => {
    queue.push(e);
    wake?.();
  };
  const job = work(emit).finally(() => {
    settled = true;
    wake?.();
  });
  // Observed below; this keeps a consumer that stops early from leaving a rejection unhandled.
  job.catch(() => undefined);
  while (!settled || queue.length) {
    if (!queue.length) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    while (queue.length) yield queue.shift()!;
  }
  return await job;
}
