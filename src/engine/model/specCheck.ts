/**
 * Checking a model spec without building anything: the grammar and the
 * shapes only, no tfjs (the extension host validates landscape.json and the
 * side panel's form with it, and never loads tfjs). A spec is text, or, in
 * landscape.json, the same tokens as a JSON list of strings.
 */
import { LandscapeError } from '../errors';
import { MAX_SPEC_CHARS, parseArchitecture } from './arch/grammar';
import { inferShapes } from './arch/shapes';

/** The spec as one text: a list's tokens joined by spaces. */
export function modelSpecText(value: string | readonly string[]): string {
  return typeof value === 'string' ? value : value.join(' ');
}

/** Why `value` is not a model spec (the grammar's own message), or null when it is one. */
export function modelSpecProblem(value: unknown): string | null {
  const list = Array.isArray(value) && value.length > 0 && value.length <= 10_000 && value.every((t) => typeof t === 'string');
  if (typeof value !== 'string' && !list) return 'must be a model spec: text such as "64-32-32-10" or "lenet", or a list of layer tokens such as ["input(1,8,8)", "conv(8,3)", "relu", "flatten", "dense(10)"]';
  const text = modelSpecText(value as string | string[]);
  if (text.length > MAX_SPEC_CHARS) return `is ${text.length} characters long; a model spec has at most ${MAX_SPEC_CHARS}`;
  try {
    inferShapes(parseArchitecture(text));
    return null;
  } catch (e) {
    if (e instanceof LandscapeError) return `is not a model spec: ${e.message}`;
    throw e;
  }
}
