/**
 * The checks every hardening fuzzer applies to every case (not a test file
 * itself: the test/unit/fuzz/*.test.ts files import it). A case must
 *   - end: bounded CPU time (immune to other processes loading the machine)
 *     and a looser wall-clock bound; a true infinite loop is caught by the
 *     per-test timeout instead;
 *   - stay within a memory bound: growth of process.memoryUsage().arrayBuffers
 *     (typed arrays, Buffers) and of the JS heap across the case;
 *   - either succeed or throw a LandscapeError of kind 'input' whose message
 *     names the file, is one line of bounded length, and holds no
 *     "undefined" / "[object Object]" that the input did not contain.
 *
 * Runs and seed: LANDSCAPE_FUZZ_RUNS (default 10000) and LANDSCAPE_FUZZ_SEED
 * (default: each property's fixed seed). fast-check prints the seed and the
 * shrunk counterexample on failure; rerun with LANDSCAPE_FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LandscapeError } from '../../src/engine/errors';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}="${v}" must be a positive whole number`);
  return n;
}

export const FUZZ_RUNS = envInt('LANDSCAPE_FUZZ_RUNS', 10_000);

/** fast-check parameters for one property: the fixed seed unless LANDSCAPE_FUZZ_SEED overrides it. */
export function fuzzParams(seed: number, runs = FUZZ_RUNS): fc.Parameters<unknown> {
  const s = process.env.LANDSCAPE_FUZZ_SEED;
  return { numRuns: runs, seed: s !== undefined && s !== '' ? Number(s) : seed, endOnFailure: true, includeErrorInReport: true };
}

export interface CaseBounds {
  /** CPU time of one case (user + system). */
  cpuMs: number;
  /** Wall-clock time of one case: looser, since other processes share the machine. */
  wallMs: number;
  /** Growth of process.memoryUsage().arrayBuffers across the case. */
  arrayBufferBytes: number;
  /** Growth of the JS heap across the case. */
  heapBytes: number;
  /** Longest acceptable error message (the file name not counted). */
  messageChars: number;
}

export const DEFAULT_BOUNDS: CaseBounds = {
  cpuMs: 1000,
  wallMs: 5000,
  arrayBufferBytes: 8 * 1024 * 1024,
  heapBytes: 96 * 1024 * 1024,
  messageChars: 1200,
};

// Characters that would break a one-line message or smuggle terminal/bidi controls into it.
const UNREADABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export type CaseResult = 'ok' | 'input-error';

export interface CaseContext {
  /** The file name given to the parser; every error message must contain it. */
  file: string;
  /** The input, to tell a quoted "undefined" from a bug. */
  input?: string | Uint8Array;
  bounds?: Partial<CaseBounds>;
}

function inputContains(input: CaseContext['input'], s: string): boolean {
  if (input === undefined) return false;
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  return text.includes(s);
}

/** Check what one case produced: its error (if any) and the measured costs. */
export function checkOutcome(
  error: unknown,
  cost: { cpuMs: number; wallMs: number; arrayBuffers: number; heap: number },
  ctx: CaseContext,
): CaseResult {
  const b = { ...DEFAULT_BOUNDS, ...ctx.bounds };
  assert.ok(cost.cpuMs <= b.cpuMs, `one case took ${cost.cpuMs.toFixed(0)} ms of CPU (bound ${b.cpuMs} ms)`);
  assert.ok(cost.wallMs <= b.wallMs, `one case took ${cost.wallMs.toFixed(0)} ms (bound ${b.wallMs} ms)`);
  assert.ok(cost.arrayBuffers <= b.arrayBufferBytes, `one case grew arrayBuffers by ${cost.arrayBuffers} bytes (bound ${b.arrayBufferBytes})`);
  assert.ok(cost.heap <= b.heapBytes, `one case grew the heap by ${cost.heap} bytes (bound ${b.heapBytes})`);
  if (error === undefined) return 'ok';
  if (!(error instanceof LandscapeError)) {
    const what = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    assert.fail(`expected a LandscapeError, got ${what.slice(0, 2000)}`);
  }
  assert.equal(error.kind, 'input', `expected kind 'input', got '${error.kind}': ${error.message.slice(0, 300)}`);
  const m = error.message;
  assert.ok(m.includes(ctx.file), `the message must name the file ${ctx.file}: ${m.slice(0, 300)}`);
  assert.ok(m.length - ctx.file.length <= b.messageChars, `message of ${m.length} characters: ${m.slice(0, 200)}…`);
  const bad = UNREADABLE.exec(m);
  assert.equal(bad, null, `message holds the control character U+${bad?.[0].charCodeAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(m.slice(0, 300))}`);
  for (const junk of ['undefined', '[object Object]']) {
    if (m.includes(junk) && !inputContains(ctx.input, junk)) assert.fail(`message says "${junk}": ${m.slice(0, 300)}`);
  }
  assert.ok(m.length > ctx.file.length + 2, 'the message must say more than the file name');
  return 'input-error';
}

function measureStart() {
  const mem = process.memoryUsage();
  return { cpu: process.cpuUsage(), wall: performance.now(), ab: mem.arrayBuffers, heap: mem.heapUsed };
}

function measureEnd(s: ReturnType<typeof measureStart>) {
  const cpu = process.cpuUsage(s.cpu);
  const wall = performance.now() - s.wall;
  const mem = process.memoryUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: wall, arrayBuffers: mem.arrayBuffers - s.ab, heap: mem.heapUsed - s.heap };
}

/** Run one synchronous case and check it. */
export function runCase(fn: () => unknown, ctx: CaseContext): CaseResult {
  const s = measureStart();
  let error: unknown;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  const cost = measureEnd(s);
  // Keep the result alive until measured, so what it holds counts against the bound.
  void result;
  return checkOutcome(error, cost, ctx);
}

/** Run one asynchronous case and check it. */
export async function runCaseAsync(fn: () => Promise<unknown>, ctx: CaseContext): Promise<CaseResult> {
  const s = measureStart();
  let error: unknown;
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    error = e;
  }
  const cost = measureEnd(s);
  void result;
  return checkOutcome(error, cost, ctx);
}

/** Counts of outcomes, so a test can insist that a generator reaches both success and failure. */
export class Tally {
  ok = 0;
  rejected = 0;
  add(r: CaseResult): void {
    if (r === 'ok') this.ok++;
    else this.rejected++;
  }
  toString(): string {
    return `${this.ok} accepted, ${this.rejected} rejected`;
  }
}

/** Byte-level mutations of a valid input, as fast-check arbitraries. */
export function byteMutation(maxLen: number) {
  return fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(maxLen), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(maxLen), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(maxLen) }),
    fc.record({ kind: fc.constant('drop' as const), at: fc.nat(maxLen), n: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(maxLen), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
    fc.record({ kind: fc.constant('dup' as const), at: fc.nat(maxLen), n: fc.integer({ min: 1, max: 64 }) }),
  );
}
export type ByteMutation = ReturnType<typeof byteMutation> extends fc.Arbitrary<infer T> ? T : never;

export function applyByteMutations(input: Uint8Array, ms: readonly ByteMutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'set':
        if (b.length) b[at % b.length] = m.v;
        break;
      case 'flip':
        if (b.length) b[at % b.length] ^= 1 << m.bit;
        break;
      case 'cut':
        b = b.subarray(0, at);
        break;
      case 'drop':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, at + m.n), b.subarray(at)]);
        break;
    }
  }
  return Buffer.from(b);
}

/** Text-level mutations (insert, delete, replace, duplicate a span), over an alphabet of interesting characters. */
export function textMutation(maxLen: number, alphabet: fc.Arbitrary<string>) {
  return fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(maxLen), s: fc.string({ unit: alphabet, minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(maxLen), n: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(maxLen), s: fc.string({ unit: alphabet, minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('dup' as const), at: fc.nat(maxLen), n: fc.integer({ min: 1, max: 80 }), times: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(maxLen) }),
  );
}
export type TextMutation = ReturnType<typeof textMutation> extends fc.Arbitrary<infer T> ? T : never;

export function applyTextMutations(input: string, ms: readonly TextMutation[]): string {
  let s = input;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    switch (m.kind) {
      case 'insert':
        s = s.slice(0, at) + m.s + s.slice(at);
        break;
      case 'delete':
        s = s.slice(0, at) + s.slice(at + m.n);
        break;
      case 'replace':
        s = s.slice(0, at) + m.s + s.slice(at + m.s.length);
        break;
      case 'dup':
        s = s.slice(0, at + m.n) + s.slice(at, at + m.n).repeat(m.times) + s.slice(at + m.n);
        break;
      case 'cut':
        s = s.slice(0, at);
        break;
    }
  }
  return s;
}

/**
 * Any text: mostly ASCII (where parsers have their structure), some of the
 * whole code-point range, lone surrogates included. Much faster than
 * fc.string({ unit: 'binary' }).
 */
export function anyText(maxLength: number): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 0x7f }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }) }), { maxLength })
    .map((cps) => String.fromCodePoint(...cps));
}
