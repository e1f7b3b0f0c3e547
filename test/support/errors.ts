/**
 * Checking the errors the engine throws for bad input: a LandscapeError of
 * kind 'input' (the CLI's exit code 2) with a message that says what is wrong.
 */
import assert from 'node:assert/strict';
import { LandscapeError } from '../../src/engine/errors';

/** What `f` throws; undefined when it returns. */
export function errorFrom(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** What `f` throws or rejects with; undefined when it resolves. */
export async function errorFromAsync(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Assert `e` is an input error whose message matches `re`. */
export function assertInputError(e: unknown, re: RegExp): asserts e is LandscapeError {
  assert.ok(e instanceof LandscapeError, `expected a LandscapeError, got ${String(e)}`);
  assert.equal(e.kind, 'input');
  assert.match(e.message, re);
}
