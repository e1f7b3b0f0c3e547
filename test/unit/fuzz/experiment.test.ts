/**
 * Hardening fuzzer for the landscape.json parser (parseExperiment) and what
 * the host does with its result (applyForm, experimentToTrainConfig, the
 * engine's resolveTrainConfig): random text, random objects over the known
 * fields with hostile values, and mutations of valid files. 10,000 cases per
 * property; every case must end quickly, stay small, and either parse or give
 * a readable input error naming the file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_EXPERIMENT,
  EXPERIMENT_FIELDS,
  applyForm,
  experimentTemplate,
  experimentToTrainConfig,
  parseExperiment,
  type Experiment,
} from '../../../src/host/experiment';
import { resolveTrainConfig } from '../../../src/engine/train';
import { OPTION_KEYS } from '../../../src/engine/optim/types';
import type { TrainForm } from '../../../src/protocol';
import { FUZZ_RUNS, Tally, anyText, applyTextMutations, fuzzParams, runCase, textMutation, type CaseContext } from '../../support/fuzz-harness';

const FILE = '/fuzz/landscape.json';
const TIMEOUT = { timeout: 180_000 };

/** landscape.json is small: a case may use a few bytes per character of its text. */
const ctx = (input: string): CaseContext => ({ file: FILE, input, bounds: { arrayBufferBytes: (1 << 20) + 8 * input.length } });

/** Parse, and when that works run what the host runs next, which must not throw either. */
function parseDeep(text: string): Experiment {
  const exp = parseExperiment(text, FILE);
  for (const k of EXPERIMENT_FIELDS) {
    if (exp[k] !== undefined) assert.ok(['string', 'number', 'boolean', 'object'].includes(typeof exp[k]), `field ${k} is ${typeof exp[k]}`);
  }
  assert.ok(Number.isInteger(exp.epochs) && exp.epochs >= 1, 'epochs');
  assert.equal(typeof exp.model, 'string');
  const cfg = experimentToTrainConfig(exp, { root: '/fuzz', out: '/fuzz/runs/r', backend: 'auto', checkpointEvery: 10 });
  resolveTrainConfig(cfg);
  return exp;
}

const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1, 0.5, 1e308, -0, 2 ** 32, 2 ** 53, 1e-320, '', ' ', 'digits', '64-32-10', '1048576-1048576', '64-100000-100000-10', 'relu', 'sgd', 'lbfgs', 'mse', 'wasm', 'auto', 'x'.repeat(5000), '1-'.repeat(3000) + 'x', '\u202e', 'a\nb', 'undefined', [], {}, [1], { lr: 1 }, { history: 'x' }, { nope: 1 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: anyText(30) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...OPTION_KEYS, 'bogus', '__proto__', 'x'.repeat(3000), 'a\u001bb'), fc.oneof(fc.double(), fc.constant('1') as fc.Arbitrary<unknown>), { maxKeys: 3 }) },
);

const objectArb = fc.tuple(
  fc.dictionary(fc.constantFrom(...EXPERIMENT_FIELDS, '$schema'), nasty, { maxKeys: 6 }),
  fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'Epochs', 'learningRate', 'x'.repeat(5000), 'a\nb', '\u202e', 'undefined'), anyText(12)), nasty, { maxKeys: 1 }),
  fc.boolean(),
);

const VALID = [
  experimentTemplate(),
  JSON.stringify({ dataset: 'digits', model: '64-32-32-10', bias: false, optimizer: 'sgd', lr: 0.05, epochs: 8, batch: 4, seed: 1, checkpointEvery: 2 }, null, 2),
  JSON.stringify({ $schema: './schemas/landscape.schema.json', dataset: 'data/x.csv', labelColumn: 'y', task: 'auto', model: '4-8-3', optimizer: 'lbfgs', epochs: 20, optimizerOptions: { history: 5 }, backend: 'cpu', name: 'exp-1' }),
  '\uFEFF{"epochs": 5}',
];

const jsonChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'{}[]":,0123456789.-eE '.split(''), 'true', 'null', '"epochs"', '"model"', '"lr"', '1e999', '\\u0000', '\\') },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u001b', '\u202e', '\n', '\uFEFF', '\uD800', 'undefined') },
);

const formArb: fc.Arbitrary<TrainForm> = fc.record({
  dataset: fc.oneof(fc.constantFrom('digits', 'moons', '', ' ', 'data.csv', 'x'.repeat(5000)), anyText(10)),
  model: fc.oneof(fc.constantFrom('64-10', '2-16-2', '', '1-', '64-100000-100000-10'), anyText(10)),
  optimizer: fc.oneof(fc.constantFrom('sgd', 'adam', 'lbfgs', 'nope', ''), anyText(8)),
  epochs: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0, -1, 1.5)),
});

describe(`landscape.json parser fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the valid fixtures parse', () => {
    for (const v of VALID) assert.equal(runCase(() => parseDeep(v), ctx(v)), 'ok', v);
  });

  it('random text', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.oneof(anyText(300), fc.array(jsonChar, { maxLength: 200 }).map((a) => a.join(''))), (text) => t.add(runCase(() => parseDeep(text), ctx(text)))),
      fuzzParams(401),
    );
    assert.ok(t.rejected > FUZZ_RUNS / 2, String(t));
  });

  it('random objects over the known fields with hostile values, and unknown keys', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(objectArb, ([known, unknown, addUnknown]) => {
        const o: Record<string, unknown> = { ...known };
        if (addUnknown) for (const [k, v] of Object.entries(unknown)) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        const text = JSON.stringify(o);
        t.add(runCase(() => parseDeep(text), ctx(text)));
      }),
      fuzzParams(402),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('mutations of valid files', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.nat(VALID.length - 1), fc.array(textMutation(400, jsonChar), { minLength: 1, maxLength: 4 }), (i, ms) => {
        const text = applyTextMutations(VALID[i], ms);
        t.add(runCase(() => parseDeep(text), ctx(text)));
      }),
      fuzzParams(403),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('the side view form applied to a parsed experiment', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(formArb, (form) => {
        const input = JSON.stringify(form);
        t.add(
          runCase(() => {
            const exp = applyForm({ ...DEFAULT_EXPERIMENT }, form, FILE);
            resolveTrainConfig(experimentToTrainConfig(exp, { root: '/fuzz', out: '/fuzz/runs/r' }));
            return exp;
          }, ctx(input)),
        );
      }),
      fuzzParams(404),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });
});
