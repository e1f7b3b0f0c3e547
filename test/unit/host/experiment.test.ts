/** landscape.json: parsing, errors that name file and field, defaults, and agreement with its JSON schema and the engine. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BACKEND_SETTING_VALUES,
  BUILTIN_DATASETS,
  DEFAULT_EXPERIMENT,
  EXPERIMENT_FIELDS,
  applyForm,
  experimentTemplate,
  experimentToTrainConfig,
  formFromExperiment,
  parseExperiment,
  readExperimentFile,
  runFolderName,
  MAX_EXPERIMENT_CHARS,
} from '../../../src/host/experiment';
import { LandscapeError } from '../../../src/engine/errors';
import { ACTIVATIONS, LOSSES } from '../../../src/engine/model/spec';
import { OPTIMIZER_NAMES, OPTION_KEYS } from '../../../src/engine/optim/types';
import { DATASET_NAMES } from '../../../src/engine/data';
import { resolveTrainConfig } from '../../../src/engine/train';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const FILE = '/w/landscape.json';
const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../schemas/landscape.schema.json'), 'utf8'));

function parseError(text: string): LandscapeError {
  try {
    parseExperiment(text, FILE);
  } catch (e) {
    assert.ok(e instanceof LandscapeError, `not a LandscapeError: ${String(e)}`);
    assert.equal(e.kind, 'input');
    assert.ok(e.message.startsWith(FILE), `message does not name the file: ${e.message}`);
    return e;
  }
  assert.fail(`accepted ${text}`);
}

describe('landscape.json', () => {
  it('parses the e2e fixture and trains exactly that', () => {
    const text = fs.readFileSync(path.join(__dirname, '../../fixtures/e2e-workspace/landscape.json'), 'utf8');
    const raw = JSON.parse(text) as Record<string, unknown>;
    const exp = parseExperiment(text, FILE);
    const cfg = experimentToTrainConfig(exp, { root: '/w', out: '/w/runs/x', backend: 'auto', checkpointEvery: 10 });
    for (const [k, v] of Object.entries(raw)) assert.deepEqual((cfg as unknown as Record<string, unknown>)[k], v, k);
    assert.equal(cfg.out, '/w/runs/x');
    assert.equal(cfg.backend, undefined, "'auto' leaves the choice to the engine");
    if (raw.checkpointEvery === undefined) assert.equal(cfg.checkpointEvery, 10, 'the setting applies');
    // The engine accepts it.
    assert.doesNotThrow(() => resolveTrainConfig(cfg));
  });

  it('passes dataSeed through, so runs with other seeds can share one data split (and one loss surface)', () => {
    const cfg = experimentToTrainConfig(parseExperiment('{"seed": 2, "dataSeed": 1}', FILE), { root: '/w', out: '/w/runs/x' });
    assert.equal(cfg.seed, 2);
    assert.equal(cfg.dataSeed, 1);
    assert.equal(resolveTrainConfig(cfg).dataSeed, 1);
    assert.match(parseError('{"dataSeed": -3}').message, /"dataSeed"/);
  });

  it('fills left-out fields with the New Experiment defaults', () => {
    const exp = parseExperiment('{"epochs": 5}', FILE);
    assert.deepEqual(exp, { ...DEFAULT_EXPERIMENT, epochs: 5 });
    // Another optimizer gets its own default learning rate, not SGD's.
    const adam = parseExperiment('{"optimizer": "adam"}', FILE);
    assert.equal(adam.lr, undefined);
    assert.equal(parseExperiment('{"optimizer": "adam", "lr": 0.01}', FILE).lr, 0.01);
    assert.equal(parseExperiment('\ufeff{}', FILE).dataset, 'digits');
  });

  it('settings apply unless the experiment says otherwise; CSV paths resolve against the workspace', () => {
    const exp = parseExperiment('{"dataset": "data/iris.csv", "model": "4-8-3", "backend": "cpu", "checkpointEvery": 0}', FILE);
    const cfg = experimentToTrainConfig(exp, { root: '/w', out: '/w/runs/x', backend: 'wasm', checkpointEvery: 10 });
    assert.equal(cfg.dataset, path.resolve('/w', 'data/iris.csv'));
    assert.equal(cfg.backend, 'cpu');
    assert.equal(cfg.checkpointEvery, 0);
    const d = experimentToTrainConfig(parseExperiment('{}', FILE), { root: '/w', out: '/o', backend: 'wasm' });
    assert.equal(d.backend, 'wasm');
    assert.equal(d.checkpointEvery, undefined);
  });

  it('names the field and the fault for every bad value', () => {
    const cases: [string, RegExp][] = [
      ['{"epochs": 0}', /"epochs"/],
      ['{"epochs": 2.5}', /"epochs"/],
      ['{"optimizer": "sgdd"}', /"optimizer" must be one of sgd/],
      ['{"model": "64"}', /"model"/],
      ['{"model": "64-a-10"}', /"model"/],
      ['{"lr": -1}', /"lr" must be a positive number/],
      ['{"lr": "0.1"}', /"lr"/],
      ['{"bias": "no"}', /"bias" must be true or false/],
      ['{"activation": "gelu"}', /"activation"/],
      ['{"testFraction": 1}', /"testFraction"/],
      ['{"seed": -1}', /"seed"/],
      ['{"name": "../evil"}', /"name"/],
      ['{"dataset": ""}', /"dataset"/],
      ['{"optimizerOptions": {"lrr": 1}}', /unknown option "lrr"/],
      ['{"optimizerOptions": {"history": "5"}}', /"history" must be a finite number/],
      ['{"epoch": 5}', /unknown field "epoch"; known fields: dataset/],
      ['{"__proto__": {"epochs": 1}}', /unknown field "__proto__"/],
      ['[1, 2]', /must hold a JSON object/],
      ['null', /must hold a JSON object/],
      ['{"epochs": 5,}', /not valid JSON/],
      ['', /not valid JSON/],
    ];
    for (const [text, re] of cases) assert.match(parseError(text).message, re, text);
  });

  it('agrees with schemas/landscape.schema.json', () => {
    const props = Object.keys(schema.properties).filter((k) => k !== '$schema').sort();
    assert.deepEqual(props, [...EXPERIMENT_FIELDS].sort());
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.properties.optimizer.enum, [...OPTIMIZER_NAMES]);
    assert.equal(schema.properties.optimizer.markdownEnumDescriptions.length, OPTIMIZER_NAMES.length);
    assert.deepEqual(schema.properties.activation.enum, [...ACTIVATIONS]);
    assert.deepEqual(schema.properties.loss.enum, [...LOSSES]);
    assert.deepEqual(schema.properties.backend.enum, [...BACKEND_SETTING_VALUES]);
    assert.deepEqual(schema.properties.dataset.anyOf[0].enum, [...BUILTIN_DATASETS]);
    assert.deepEqual(Object.keys(schema.properties.optimizerOptions.properties).sort(), [...OPTION_KEYS].sort());
    for (const [k, v] of Object.entries(DEFAULT_EXPERIMENT)) {
      if (schema.properties[k].default !== undefined) assert.deepEqual(schema.properties[k].default, v, `schema default of ${k}`);
    }
    // The schema takes the model as text or as a list of tokens; the grammar itself is the parser's.
    assert.deepEqual(schema.properties.model.oneOf.map((o: { type: string }) => o.type), ['string', 'array']);
  });

  it('takes the model as dense widths, a layer spec, a built-in name or a list of layer tokens', () => {
    const list = parseExperiment('{"model": ["input(1,8,8)", "conv(8,3,pad=1)", "relu", "maxpool(2)", "flatten", "dense(10)"]}', FILE);
    assert.equal(list.model, 'input(1,8,8) conv(8,3,pad=1) relu maxpool(2) flatten dense(10)');
    assert.equal(parseExperiment('{"model": "cnn-digits"}', FILE).model, 'cnn-digits');
    assert.equal(parseExperiment('{"model": "input(1,28,28) conv(6,5,pad=2) relu flatten dense(10)"}', FILE).model, 'input(1,28,28) conv(6,5,pad=2) relu flatten dense(10)');
    // The grammar's own message: what is wrong and where.
    assert.throws(() => parseExperiment('{"model": "input(1,8,8) conv(4,9) flatten dense(10)"}', FILE), /"model".*conv/);
    assert.throws(() => parseExperiment('{"model": ["input(1,8,8)", 3]}', FILE), /"model"/);
    assert.throws(() => parseExperiment('{"model": []}', FILE), /"model"/);
    const form = applyForm(parseExperiment('{}', FILE), { dataset: 'digits', model: 'cnn-digits', optimizer: 'sgd', epochs: 2 });
    assert.equal(form.model, 'cnn-digits');
  });

  it('keeps its built-in dataset and backend lists equal to the engine', async () => {
    assert.deepEqual([...BUILTIN_DATASETS], [...DATASET_NAMES]);
    const { BACKEND_CHOICES } = await import('../../../src/engine/backend');
    assert.deepEqual([...BACKEND_SETTING_VALUES], [...BACKEND_CHOICES]);
  });

  it('writes a template that parses back to the defaults', () => {
    const exp = parseExperiment(experimentTemplate(), FILE);
    for (const [k, v] of Object.entries(DEFAULT_EXPERIMENT)) assert.deepEqual((exp as unknown as Record<string, unknown>)[k], v, k);
    assert.equal(exp.checkpointEvery, undefined, 'the setting decides unless the user adds it');
  });

  it('applies the side view form, dropping an lr chosen for another optimizer', () => {
    const exp = parseExperiment('{"optimizer": "sgd", "lr": 0.5, "epochs": 3}', FILE);
    const a = applyForm(exp, { dataset: 'moons', model: '2-16-2', optimizer: 'sgd', epochs: 7 });
    assert.equal(a.lr, 0.5);
    assert.equal(a.dataset, 'moons');
    assert.equal(a.epochs, 7);
    const b = applyForm(exp, { dataset: 'digits', model: '64-10', optimizer: 'adam', epochs: 3 });
    assert.equal(b.lr, undefined);
    assert.deepEqual(formFromExperiment(b), { dataset: 'digits', model: '64-10', optimizer: 'adam', epochs: 3 });
    assert.throws(() => applyForm(exp, { dataset: 'digits', model: 'x', optimizer: 'sgd', epochs: 3 }), /model/);
    assert.throws(() => applyForm(exp, { dataset: 'digits', model: '64-10', optimizer: 'nope', epochs: 3 }), /optimizer/);
  });

  it('reads the file only after stat says it is a small file; none is null', () => {
    const dir = makeTempDir('exp');
    try {
      const file = path.join(dir, 'landscape.json');
      assert.equal(readExperimentFile(file), null);
      fs.writeFileSync(file, '{"epochs": 3}');
      assert.equal(readExperimentFile(file), '{"epochs": 3}');
      // Sparse: the size is there without writing the bytes, and reading it would take 4 MiB of memory.
      const fd = fs.openSync(file, 'w');
      fs.ftruncateSync(fd, 4 * MAX_EXPERIMENT_CHARS + 1);
      fs.closeSync(fd);
      assert.throws(() => readExperimentFile(file), (e: unknown) => e instanceof LandscapeError && /landscape\.json: is too large for a landscape\.json \(\d+ bytes/.test(e.message));
      fs.rmSync(file);
      fs.mkdirSync(file);
      assert.throws(() => readExperimentFile(file), (e: unknown) => e instanceof LandscapeError && /landscape\.json: is not a file/.test(e.message));
    } finally {
      removeTempDir(dir);
    }
  });

  it('names run folders by experiment and UTC time, uniquely', () => {
    const when = new Date(Date.UTC(2026, 10, 22, 9, 5, 7));
    const exp = parseExperiment('{}', FILE);
    assert.equal(runFolderName(exp, when, () => false), 'digits-sgd-20261122-090507');
    const taken = new Set(['digits-sgd-20261122-090507', 'digits-sgd-20261122-090507-2']);
    assert.equal(runFolderName(exp, when, (n) => taken.has(n)), 'digits-sgd-20261122-090507-3');
    assert.equal(runFolderName({ ...exp, name: 'wide' }, when, () => false), 'wide-20261122-090507');
    assert.equal(runFolderName({ ...exp, dataset: '/data/my set.csv' }, when, () => false), 'my_set-sgd-20261122-090507');
  });
});
