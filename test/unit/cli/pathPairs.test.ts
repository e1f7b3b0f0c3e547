/**
 * `landscape path --pairs FILE`: each pair's file equals what `landscape path
 * A B --out` writes, relative paths are read from the file's folder, a re-run
 * reuses what answers the same question and recomputes the rest, bad files
 * are refused naming the line, --json has one shape, a failed pair does not
 * stop the others, and a cancel keeps the finished pairs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { validate } from '../../../src/schema';
import { BarrierPathSchema } from '../../../src/results/path';

const tmp = makeTempDir('cli-path-pairs');
const runs = path.join(tmp, 'runs');
const ck = (name: string) => path.join(runs, name, 'final.safetensors');
const FAST = ['--steps', '40', '--points', '7', '--modes', '2'];

/** The result without what may differ between two runs: its timing and the writer's version. */
function comparable(doc: unknown): unknown {
  const d = JSON.parse(JSON.stringify(doc)) as { seconds?: number; settings?: [string, string][]; landscapeVersion?: string };
  delete d.seconds;
  delete d.landscapeVersion;
  d.settings = d.settings?.filter(([k]) => k !== 'time' && k !== 'written by');
  return d;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** A pairs file in its own folder (lists/), naming the runs relative to it. */
function pairsFile(name: string, text: string): string {
  const file = path.join(tmp, 'lists', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** B with every weight at ±3e38: finite numbers whose products overflow, so losses turn NaN along the line. */
function overflowCopy(src: string, dst: string) {
  const bytes = Buffer.from(fs.readFileSync(src));
  const start = 8 + Number(bytes.readBigUInt64LE(0));
  for (let k = 0; start + 4 * k + 4 <= bytes.length; k++) bytes.writeFloatLE(k % 2 ? -3e38 : 3e38, start + 4 * k);
  fs.writeFileSync(dst, bytes);
}

before(async () => {
  await initBackend('cpu', { force: true });
  for (const seed of [1, 2, 3]) {
    const r = await runCli(['train', '--dataset', 'digits', '--model', '64-16-10', '--epochs', '3', '--seed', String(seed), '--data-seed', '0', '--out', path.join(runs, `s${seed}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  const other = await runCli(['train', '--dataset', 'digits', '--model', '64-8-10', '--epochs', '1', '--seed', '1', '--out', path.join(tmp, 'narrow')]);
  assert.equal(other.code, 0, other.stderr);
  overflowCopy(ck('s2'), path.join(runs, 'overflow.safetensors'));
});

after(() => removeTempDir(tmp));

const TWO_PAIRS = '# two pairs of the seeds\n../runs/s1/final.safetensors ../runs/s2/final.safetensors\n\n   ../runs/s3/final.safetensors\t../runs/s2/final.safetensors  \n';

test("each pair is written as landscape path A B --out writes it; relative paths are read from the pairs file's folder", async () => {
  const file = pairsFile('two.txt', TWO_PAIRS);
  const out = path.join(tmp, 'out-two');
  const r = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['s1_final__s2_final.path.json', 's3_final__s2_final.path.json']);
  for (const [a, b, name] of [['s1', 's2', 's1_final__s2_final'], ['s3', 's2', 's3_final__s2_final']]) {
    const single = path.join(tmp, `single-${a}-${b}.path.json`);
    const s = await runCli(['path', ck(a), ck(b), ...FAST, '--out', single]);
    assert.equal(s.code, 0, s.stderr);
    const doc = readJson(path.join(out, `${name}.path.json`));
    assert.ok(validate(BarrierPathSchema, doc, 'result').ok, 'a valid path result');
    assert.ok(Array.isArray(doc.coefficients) && doc.coefficients.length === 2, 'with the coefficients, as path --out');
    assert.deepEqual(comparable(doc), comparable(readJson(single)), `${a} ↔ ${b}`);
  }
  assert.match(r.stdout, /line\s+A\s+B\s+straight H\s+optimized H\s+barrier from mean\s+reused/);
  assert.match(r.stderr, /2 pairs of 3 checkpoints .* on the main thread/);
  assert.equal(r.stderr.split('\n').filter((l) => /^pair \d\/2 \(line \d\)/.test(l)).length, 2, 'one line per finished pair');
});

test('a re-run reuses the finished pairs; a changed option or checkpoint computes again', async () => {
  const copy = path.join(runs, 'copy', 'final.safetensors');
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.copyFileSync(ck('s3'), copy);
  const file = pairsFile('reuse.txt', '../runs/s1/final.safetensors ../runs/s2/final.safetensors\n../runs/s1/final.safetensors ../runs/copy/final.safetensors\n');
  const out = path.join(tmp, 'out-reuse');
  const first = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '1', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  const saved = () => Object.fromEntries(fs.readdirSync(out).map((n) => [n, readJson(path.join(out, n))]));
  const before = saved();
  const again = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '1', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /2 reused from .*, 0 to compute/);
  assert.equal(again.stdout.split('\n').filter((l) => /\byes$/.test(l)).length, 2, again.stdout);
  assert.deepEqual(saved(), before, 'nothing rewritten');
  // Other weights under the same name: only that pair is computed again.
  fs.copyFileSync(ck('s2'), copy);
  const changed = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '1', '--out', out]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /1 reused from .*, 1 to compute; 1 result file there answered another question/);
  const now = saved();
  assert.deepEqual(now['s1_final__s2_final.path.json'], before['s1_final__s2_final.path.json']);
  assert.notEqual(now['s1_final__copy_final.path.json'].inputs.b, before['s1_final__copy_final.path.json'].inputs.b);
  // Another option: every pair again.
  const steps = await runCli(['path', '--pairs', file, '--steps', '41', '--points', '7', '--modes', '2', '--jobs', '1', '--out', out]);
  assert.equal(steps.code, 0, steps.stderr);
  assert.match(steps.stderr, /\(2 to compute; 2 result files there answered another question/);
  for (const doc of Object.values(saved())) assert.equal(doc.options.steps, 41);
});

test('bad pairs files and usage errors exit 2 naming the file and the line', async () => {
  const s1 = '../runs/s1/final.safetensors';
  const s2 = '../runs/s2/final.safetensors';
  const cases: [string, string, RegExp][] = [
    ['one.txt', `${s1} ${s2}\n${s1}\n`, /one\.txt:2: expected two checkpoint paths, got 1/],
    ['three.txt', `# c\n${s1} ${s2} ${s2}\n`, /three\.txt:2: expected two checkpoint paths, got 3/],
    ['same.txt', `${s1} ../runs/s1/../s1/final.safetensors\n`, /same\.txt:1: both paths name the same checkpoint/],
    ['twice.txt', `${s1} ${s2}\n\n${s2} ${s1}\n`, /twice\.txt:3: this pair is listed twice \(first on line 1, in either order\)/],
    ['missing.txt', `${s1} ${s2}\n${s1} ../runs/nope/final.safetensors\n`, /missing\.txt:2: checkpoint "\.\.\/runs\/nope\/final\.safetensors" not found \(read as ".*runs\/nope\/final\.safetensors": relative paths are read from the pairs file's folder\); check the path/],
    ['empty.txt', '# nothing yet\n\n', /empty\.txt: has no pairs/],
    ['quote.txt', `"${s1} ${s2}\n`, /quote\.txt:1: a path opened with " has no closing "/],
  ];
  for (const [name, text, re] of cases) {
    const r = await runCli(['path', '--pairs', pairsFile(name, text), ...FAST, '--out', path.join(tmp, 'never')]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.equal(r.stderr.split('\n').length, 1, `one line for ${name}: ${r.stderr}`);
  }
  assert.equal(fs.existsSync(path.join(tmp, 'never')), false, 'nothing written');
  const good = pairsFile('good.txt', `${s1} ${s2}\n`);
  const usage: [string[], RegExp][] = [
    [['path', ck('s1'), '--pairs', good, '--out', path.join(tmp, 'x')], /reads its checkpoints from .*good\.txt, not from the command line/],
    [['path', '--pairs', good], /needs --out FOLDER .* or --json/],
    [['path', '--pairs', good, '--out', good], /good\.txt: is a file; with --pairs, --out names a folder/],
    [['path', '--pairs', path.join(tmp, 'lists', 'absent.txt'), '--json'], /absent\.txt: pairs file not found/],
    [['path', ck('s1'), ck('s2'), '--jobs', '2'], /--jobs applies to --pairs/],
    [['path', '--pairs', good, '--json', '--landscape', 'toy'], /--landscape and --pairs cannot be combined/],
    [['path', '--pairs', pairsFile('surface.txt', `${s1} ../narrow/final.safetensors\n`), '--json'], /narrow.*final\.safetensors|final\.safetensors.*narrow/],
  ];
  for (const [args, re] of usage) {
    const r = await runCli([...args, ...FAST]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('--json prints {pairs, reused, errors} in file order, coefficients only with --coefficients', async () => {
  const file = pairsFile('json.txt', TWO_PAIRS);
  const r = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 1);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['errors', 'pairs', 'reused']);
  assert.deepEqual(j.reused, [false, false]);
  assert.deepEqual(j.errors, []);
  assert.deepEqual(j.pairs.map((d: { labelA: string; labelB: string }) => [d.labelA, d.labelB]), [['s1/final', 's2/final'], ['s3/final', 's2/final']]);
  for (const d of j.pairs) {
    assert.equal(d.kind, 'barrierPath');
    assert.equal('coefficients' in d || 'images' in d, false);
    assert.ok(validate(BarrierPathSchema, d, 'result').ok);
  }
  assert.equal(r.stderr, '', 'quiet on stderr with --json');
  const c = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '2', '--json', '--coefficients']);
  assert.equal(c.code, 0, c.stderr);
  assert.ok(JSON.parse(c.stdout).pairs.every((d: { coefficients?: unknown[] }) => d.coefficients?.length === 2));
});

test('a failed pair does not stop the others: it is listed with its line, and the exit code is 1', async () => {
  const file = pairsFile('fails.txt', '../runs/s2/final.safetensors ../runs/overflow.safetensors\n../runs/s1/final.safetensors ../runs/s2/final.safetensors\n');
  const out = path.join(tmp, 'out-fails');
  const r = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '2', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(fs.readdirSync(out), ['s1_final__s2_final.path.json']);
  assert.match(r.stderr, /fails\.txt:1: s2\/final ↔ overflow failed: .*(NaN|Infinity)/);
  assert.match(r.stderr, /1 of 2 pairs failed/);
  const j = await runCli(['path', '--pairs', file, ...FAST, '--jobs', '1', '--json']);
  assert.equal(j.code, 1);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.pairs[0], null);
  assert.equal(doc.errors.length, 1);
  assert.equal(doc.errors[0].line, 1);
  assert.match(doc.errors[0].b, /overflow\.safetensors$/);
});

test('a cancel stops the run and keeps the pairs already written', async () => {
  const file = pairsFile('cancel.txt', TWO_PAIRS + '../runs/s1/final.safetensors ../runs/s3/final.safetensors\n');
  const out = path.join(tmp, 'out-cancel');
  const ac = new AbortController();
  const watch = setInterval(() => {
    if (fs.existsSync(out) && fs.readdirSync(out).some((n) => n.endsWith('.path.json'))) ac.abort();
  }, 5);
  try {
    const r = await runCli(['path', '--pairs', file, '--steps', '300', '--points', '7', '--modes', '2', '--jobs', '1', '--out', out], ac.signal);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cancelled/);
  } finally {
    clearInterval(watch);
  }
  const left = fs.readdirSync(out).filter((n) => n.endsWith('.path.json'));
  assert.equal(left.length, 1, `${left}`);
  assert.ok(validate(BarrierPathSchema, readJson(path.join(out, left[0])), 'result').ok);
});
