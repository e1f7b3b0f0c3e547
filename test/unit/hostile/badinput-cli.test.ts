/**
 * Bad input everywhere, table-driven: every command in COMMANDS declares its
 * file arguments (CommandDef.fileArgs), and each slot gets a missing path, a
 * folder, files of the wrong kind and, when required, nothing at all. Every
 * such invocation must exit 2 with one line on stderr that names the path and
 * says what to do: never a stack trace, never an internal error. A command
 * added later without a declaration fails here until it has one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { COMMANDS } from '../../../src/cli/commands';
import type { CommandDef, FileArgKind, FileSlot } from '../../../src/cli/commands/types';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { encodeCheckpoint, writeJsonAtomic } from '../../../src/engine/checkpoint';
import { makeSpec, paramCount } from '../../../src/engine/model/spec';
import { Rng } from '../../../src/engine/rng';
import { makeTempDir, removeTempDir } from '../../support/tmp';

/** Words of a message that tells the user what to do next. */
const ADVICE = /\b(?:pass|give|use|check|choose|train|copy|convert|create|add|remove|select|rename|raise|try|point|needs?|expected)\b|\be\.g\./i;

let tmp: string;
let counter = 0;
const fresh = (name: string) => path.join(tmp, `${name}-${++counter}`);

interface Fixtures {
  /** A good value per kind; `i` tells the slots of one kind apart (path's A and B differ). */
  good: Record<FileArgKind, (i: number) => string>;
  /** Bad values per kind: label and path (the path appears in the message unless `anonymous`). */
  bad: Record<FileArgKind, () => { label: string; value: string; anonymous?: boolean }[]>;
}
let fx: Fixtures;

function writeCheckpoint(file: string, seed: number): void {
  const spec = makeSpec('2-4-2');
  const r = new Rng(seed);
  const theta = Float32Array.from({ length: paramCount(spec) }, () => r.normal() * 0.5);
  const meta = { dataset: 'moons', datasetSeed: '0', testFraction: '0.2', optimizer: 'sgd', hyperparameters: '{"lr":0.1}', seed: String(seed), epoch: String(seed), step: String(seed), time: '2026-01-01T00:00:00.000Z' };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeCheckpoint(spec, theta, meta, { datasetOptions: JSON.stringify({ n: 60 }) }));
}

before(async () => {
  await initBackend('cpu', { force: true });
  process.env.LANDSCAPE_BACKEND = 'cpu';
  tmp = makeTempDir('badinput');
  const f = (name: string, content: string | Buffer) => {
    const p = path.join(tmp, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };
  writeCheckpoint(path.join(tmp, 'ck', 'a.safetensors'), 1);
  writeCheckpoint(path.join(tmp, 'ck', 'b.safetensors'), 2);
  writeCheckpoint(path.join(tmp, 'ck', 'c.safetensors'), 3);
  writeCheckpoint(path.join(tmp, 'run', 'checkpoints', 'epoch-0001.safetensors'), 4);
  writeCheckpoint(path.join(tmp, 'run', 'checkpoints', 'epoch-0002.safetensors'), 5);
  writeJsonAtomic(path.join(tmp, 'run', 'run.json'), { formatVersion: 1, status: 'completed', checkpoints: [] });
  const r = new Rng(9);
  const csvRows = Array.from({ length: 40 }, (_, i) => `${r.normal().toFixed(3)},${r.normal().toFixed(3)},${i % 2}`);
  const csv = f('data.csv', `x1,x2,y\n${csvRows.join('\n')}\n`);
  const notes = f('notes.txt', 'These are notes, not data.\nSecond line.\n');
  const garbage = f('garbage.safetensors', 'x1,x2,label\n1,2,3\n');
  const empty = f('empty.safetensors', '');
  const otherJson = f('other.json', '{"name": "not a model"}\n');
  const runJson = path.join(tmp, 'run', 'run.json');
  const emptyDir = path.join(tmp, 'empty-dir');
  fs.mkdirSync(emptyDir);
  const textDir = path.join(tmp, 'text-dir');
  fs.mkdirSync(textDir);
  fs.writeFileSync(path.join(textDir, 'readme.txt'), 'no checkpoints here');
  const missing = (ext: string) => path.join(tmp, `does-not-exist${ext}`);
  const underFile = (name: string) => path.join(notes, name);
  fx = {
    good: {
      checkpoint: (i) => path.join(tmp, 'ck', i === 1 ? 'b.safetensors' : 'a.safetensors'),
      checkpoints: () => path.join(tmp, 'ck'),
      dataset: () => csv,
      runDir: () => path.join(tmp, 'run'),
      outDir: () => fresh('out'),
      outFile: () => `${fresh('result')}.json`,
    },
    bad: {
      checkpoint: () => [
        { label: 'a missing file', value: missing('.safetensors') },
        { label: 'a folder', value: emptyDir },
        { label: 'a CSV file', value: csv },
        { label: 'a text file', value: notes },
        { label: 'text named .safetensors', value: garbage },
        { label: 'an empty file', value: empty },
        { label: 'a JSON file that is not a model', value: otherJson },
        { label: 'a run.json', value: runJson },
      ],
      checkpoints: () => [
        { label: 'a missing path', value: missing('') },
        { label: 'an empty folder', value: emptyDir },
        { label: 'a folder without checkpoints', value: textDir },
        { label: 'a CSV file', value: csv },
        { label: 'text named .safetensors', value: garbage },
      ],
      dataset: () => [
        { label: 'a missing CSV', value: missing('.csv') },
        { label: 'a folder', value: emptyDir },
        { label: 'a checkpoint', value: path.join(tmp, 'ck', 'a.safetensors') },
        { label: 'an empty name', value: '', anonymous: true },
      ],
      runDir: () => [
        { label: 'a missing folder', value: missing('') },
        { label: 'a file', value: csv },
        { label: 'a folder without checkpoints', value: emptyDir },
      ],
      outDir: () => [
        { label: 'an existing file', value: notes },
        { label: 'a path under a file', value: underFile('run') },
      ],
      outFile: () => [{ label: 'a path under a file', value: underFile('result.json') }],
    },
  };
});

after(() => {
  delete process.env.LANDSCAPE_BACKEND;
  removeTempDir(tmp);
});

/** A valid invocation: every slot filled with a good file, plus the quick flags. */
function goodArgs(cmd: CommandDef): { positionals: string[]; flags: Map<string, string> } {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  cmd.fileArgs!.slots.forEach((s, i) => {
    if (typeof s.at === 'number') positionals[s.at] = fx.good[s.kind](i);
    else flags.set(s.at, fx.good[s.kind](i));
  });
  return { positionals, flags };
}

function argv(cmd: CommandDef, positionals: string[], flags: Map<string, string>): string[] {
  const a = [cmd.name, ...positionals.filter((p) => p !== undefined)];
  for (const [k, v] of flags) a.push(k, v);
  a.push(...(cmd.fileArgs!.quick ?? []));
  if (cmd.flags.some((f) => f.name === 'backend')) a.push('--backend', 'cpu');
  return a;
}

function describeSlot(s: FileSlot): string {
  return typeof s.at === 'number' ? `argument ${s.at + 1} (${s.kind})` : `${s.at} (${s.kind})`;
}

async function expectBadInput(args: string[], mustName: string | undefined, what: string): Promise<void> {
  const r = await runCli(args);
  const shown = `landscape ${args.join(' ')}\n  exit ${r.code}\n  stderr: ${r.stderr}`;
  assert.equal(r.code, 2, `${what}: expected exit 2\n${shown}`);
  assert.ok(r.stderr.length > 0, `${what}: says nothing\n${shown}`);
  assert.equal(r.stderr.split('\n').length, 1, `${what}: more than one line\n${shown}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |\bat [^\s]+ \(.*:\d+:\d+\)/, `${what}: stack trace or internal error\n${shown}`);
  assert.doesNotMatch(r.stderr, /\bundefined\b|\[object Object\]/, `${what}: junk in the message\n${shown}`);
  if (mustName !== undefined) assert.ok(r.stderr.includes(mustName), `${what}: the message does not name ${mustName}\n${shown}`);
  assert.match(r.stderr, ADVICE, `${what}: the message does not say what to do\n${shown}`);
}

describe('bad input to every CLI command', () => {
  it('every command declares its file arguments', () => {
    for (const c of COMMANDS) {
      assert.ok(c.fileArgs, `landscape ${c.name} has no fileArgs declaration: add one to its CommandDef (see src/cli/commands/types.ts)`);
      for (const s of c.fileArgs.slots) {
        if (typeof s.at === 'string') {
          const name = s.at.slice(2);
          assert.ok(c.flags.some((f) => f.name === name), `landscape ${c.name}: fileArgs names ${s.at}, which is not one of its flags`);
        }
      }
    }
  });

  for (const cmd of COMMANDS) {
    describe(`landscape ${cmd.name}`, () => {
      if (cmd.fileArgs?.quick) {
        it('runs with good files in every slot (so the slots are declared right)', { timeout: 120_000 }, async () => {
          const { positionals, flags } = goodArgs(cmd);
          const args = argv(cmd, positionals, flags);
          const r = await runCli(args);
          assert.equal(r.code, 0, `landscape ${args.join(' ')}\n  exit ${r.code}\n  stderr: ${r.stderr}`);
        });
      }
      it('refuses a missing file, a folder, a file of the wrong kind and an empty selection with exit 2 and advice', { timeout: 120_000 }, async () => {
        assert.ok(cmd.fileArgs, 'no fileArgs declaration');
        let cases = 0;
        for (const slot of cmd.fileArgs.slots) {
          for (const bad of fx.bad[slot.kind]()) {
            const { positionals, flags } = goodArgs(cmd);
            if (typeof slot.at === 'number') positionals[slot.at] = bad.value;
            else flags.set(slot.at, bad.value);
            await expectBadInput(argv(cmd, positionals, flags), bad.anonymous ? undefined : bad.value, `${describeSlot(slot)} given ${bad.label}`);
            cases++;
          }
          if (slot.required && typeof slot.at === 'number') {
            const { positionals, flags } = goodArgs(cmd);
            positionals.splice(slot.at, 1);
            await expectBadInput(argv(cmd, positionals, flags), undefined, `${describeSlot(slot)} left out (empty selection)`);
            cases++;
          }
        }
        // A command with no file arguments at all has nothing to check here.
        assert.ok(cases > 0 || cmd.fileArgs.slots.length === 0);
      });
    });
  }

  it('an output "file" that is an existing text file is never clobbered by a failed train', async () => {
    const notes = path.join(tmp, 'notes.txt');
    const before = fs.readFileSync(notes, 'utf8');
    await expectBadInput(['train', '--dataset', 'moons', '--model', '2-4-2', '--epochs', '1', '--out', notes, '--backend', 'cpu'], notes, 'train --out <file>');
    assert.equal(fs.readFileSync(notes, 'utf8'), before);
  });
});
