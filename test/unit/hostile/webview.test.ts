/**
 * Hostile input on the VS Code side, without VS Code: a stand-in "vscode"
 * module lets the real host code run. Checks that
 *   - paths from webviews are used only inside the workspace (symlinks and
 *     "../" included) and only for the kind of file the message may name;
 *   - messages of the wrong shape are dropped and logged, never handled;
 *   - the side view, result panels and checkpoint viewer refuse (and log)
 *     an outside path or an action they did not offer;
 *   - actions given an empty selection or the wrong kind of file answer with
 *     a message saying what to do, and file names cannot smuggle links into
 *     notifications.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import {
  checkCheckpointChoice,
  checkCheckpointChoices,
  checkWebviewPath,
  containedFile,
  describeUntrustedPath,
  notificationText,
} from '../../../src/host/guards';
import { validateWebviewMessage, validateHostMessage, WebviewMessageSchema } from '../../../src/protocol';
import { LIMITS } from '../../../src/schema';
import { buildPage, settle } from '../../support/pages';
import { FakeUri, fakeLog, fakeWebviewPanel, installFakeVscode, rec, removeFakeVscode } from '../../support/vscode';
import { makeTempDir, removeTempDir } from '../../support/tmp';

// ------------------------------------------------------------------ fixtures

let tmp: string;
let ws: string;
let outside: string;
const files: Record<string, string> = {};

before(() => {
  tmp = makeTempDir('hostile');
  ws = path.join(tmp, 'ws');
  outside = path.join(tmp, 'outside');
  // A sibling whose name starts like the workspace: a prefix test would wrongly accept it.
  const evil = path.join(tmp, 'ws-evil');
  for (const d of [ws, path.join(ws, 'runs', 'r', 'checkpoints'), outside, evil]) fs.mkdirSync(d, { recursive: true });
  const put = (key: string, p: string, content = 'x') => {
    fs.writeFileSync(p, content);
    files[key] = p;
  };
  put('inside', path.join(ws, 'runs', 'r', 'final.safetensors'));
  put('insideJson', path.join(ws, 'runs', 'r', 'run.json'), '{}');
  put('insideText', path.join(ws, 'notes.txt'));
  put('outside', path.join(outside, 'secret.safetensors'));
  put('outsideRun', path.join(outside, 'run.json'), '{}');
  put('evil', path.join(evil, 'x.safetensors'));
  fs.symlinkSync(files.outside, path.join(ws, 'link-out.safetensors'));
  files.linkOut = path.join(ws, 'link-out.safetensors');
  fs.symlinkSync(outside, path.join(ws, 'linked-dir'));
  files.viaLinkedDir = path.join(ws, 'linked-dir', 'secret.safetensors');
  fs.symlinkSync(files.inside, path.join(ws, 'link-in.safetensors'));
  files.linkIn = path.join(ws, 'link-in.safetensors');
  files.traversal = path.join(ws, 'runs', '..', '..', 'outside', 'secret.safetensors');
  rec.folders = [ws];
  installFakeVscode();
});

after(() => {
  removeFakeVscode();
  removeTempDir(tmp);
});

// ------------------------------------------------------------------ tests

describe('paths from webviews', () => {
  it('are accepted only inside the workspace, after resolving symlinks', () => {
    assert.deepEqual(containedFile(files.inside, [ws]), { ok: true, value: files.inside });
    assert.equal(containedFile(files.linkIn, [ws]).ok, true, 'a link to a file inside stays inside');
    const refused: [string, unknown, RegExp][] = [
      ['outside', files.outside, /outside the workspace/],
      ['a symlinked file pointing out', files.linkOut, /outside the workspace/],
      ['a file under a symlinked folder pointing out', files.viaLinkedDir, /outside the workspace/],
      ['../ traversal', files.traversal, /outside the workspace/],
      ['a sibling folder sharing the prefix', files.evil, /outside the workspace/],
      ['a relative path', 'runs/r/final.safetensors', /not an absolute path/],
      ['a NUL byte', `${files.inside}\0.txt`, /NUL/],
      ['a folder', path.join(ws, 'runs'), /not a file/],
      ['the workspace itself', ws, /not a file/],
      ['a missing file', path.join(ws, 'missing.safetensors'), /no such file/],
      ['a number', 42, /not a string/],
      ['an object', { path: files.inside }, /not a string/],
      ['an empty string', '', /empty/],
      ['an overlong path', '/'.padEnd(5000, 'a'), /too long/],
    ];
    for (const [what, p, re] of refused) {
      const c = containedFile(p, [ws]);
      assert.equal(c.ok, false, `${what} was accepted`);
      assert.match((c as { reason: string }).reason, re, what);
    }
    assert.equal(containedFile(files.inside, []).ok, false, 'no workspace folder: nothing is inside');
  });

  it('must name the kind of file the message is about', () => {
    assert.equal(checkWebviewPath(files.inside, [ws], 'checkpoint').ok, true);
    assert.equal(checkWebviewPath(files.insideText, [ws], 'checkpoint').ok, false);
    assert.equal(checkWebviewPath(files.insideJson, [ws], 'runJson').ok, true);
    assert.equal(checkWebviewPath(files.inside, [ws], 'runJson').ok, false);
  });

  it('random strings never get through unless they name a file inside', () => {
    const parts = fc.constantFrom('..', '.', 'runs', 'r', 'final.safetensors', 'outside', 'secret.safetensors', 'ws', 'link-out.safetensors', 'linked-dir', '', '\0', 'ws-evil', 'x.safetensors');
    fc.assert(
      fc.property(fc.boolean(), fc.array(parts, { maxLength: 6 }), (abs, ps) => {
        const p = (abs ? tmp + '/' : '') + ps.join('/');
        const c = containedFile(p, [ws]);
        if (c.ok) {
          const real = fs.realpathSync(c.value);
          assert.ok(real.startsWith(ws + path.sep), `${p} -> ${real} got through`);
        }
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('are logged quoted, one line, bounded', () => {
    assert.equal(describeUntrustedPath('a\nb\u202e'), '"a\\\\u000ab\\\\u202e"');
    assert.ok(describeUntrustedPath('x'.repeat(10_000)).length < 320);
    assert.equal(describeUntrustedPath(42), 'number');
  });
});

describe('webview messages of the wrong shape', () => {
  const hostile: unknown[] = [
    null,
    undefined,
    42,
    'inspect',
    [],
    {},
    { type: 'inspect' },
    { type: 'inspect', path: 42 },
    { type: 'inspect', path: ['/etc/passwd'] },
    { type: 'inspect', path: '/w/a.safetensors', extra: true },
    { type: 'inspect', path: 'x'.repeat(LIMITS.path + 1) },
    { type: 'openRun', runJson: { toString: '/etc/passwd' } },
    { type: 'runAction', command: 'workbench.action.terminal.sendSequence', args: { text: 'rm -rf ~\n' } },
    { type: 'runAction', command: 'x'.repeat(201) },
    { type: '__proto__' },
    { type: 'constructor' },
    { type: 'toString' },
    { type: 'train', form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 1e9 } },
    JSON.parse('{"type":"inspect","path":"/w/a.safetensors","__proto__":{"polluted":true}}'),
    { type: 'export', format: 'html', dataUrl: 'data:text/html,<script>alert(1)</script>', name: 'x' },
    { type: 'log', level: 'fatal', message: 'x' },
  ];

  it('are refused with a reason, and the validators never throw', () => {
    for (const m of hostile) {
      const v = validateWebviewMessage(m);
      assert.equal(v.ok, false, `accepted ${JSON.stringify(m)?.slice(0, 100)}`);
      assert.ok(!v.ok && v.error.length > 0 && v.error.length < 500);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  it('random values: validators never throw, and what passes still passes after a JSON round trip (postMessage)', () => {
    const keys = fc.constantFrom(...Object.keys(WebviewMessageSchema.variants), 'type', 'path', 'runJson', 'form', 'command', '__proto__');
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(keys, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.record({ type: fc.constantFrom(...Object.keys(WebviewMessageSchema.variants)), path: fc.string(), runJson: fc.string(), command: fc.string() }, { requiredKeys: ['type'] }));
    fc.assert(
      fc.property(value, (m) => {
        const w = validateWebviewMessage(m);
        if (w.ok) assert.equal(validateWebviewMessage(JSON.parse(JSON.stringify(w.value))).ok, true);
        const h = validateHostMessage(m);
        if (h.ok) assert.equal(validateHostMessage(JSON.parse(JSON.stringify(h.value))).ok, true);
      }),
      { numRuns: 5000, seed: 12 },
    );
  });

  it('are dropped and logged by the page controller, never handed to the page\'s handlers', async () => {
    const { PageController } = require('../../../src/host/pageController') as typeof import('../../../src/host/pageController');
    const fake = fakeWebviewPanel();
    const log = fakeLog();
    const handled: unknown[] = [];
    const record = (m: unknown) => void handled.push(m);
    const page = new PageController(fake.panel as never, {
      page: 'checkpoint',
      name: 'test view',
      title: 'test',
      extensionUri: FakeUri.file('/extension') as never,
      log: log as never,
      checkOutgoing: true,
      handlers: { evaluate: record, runAction: record },
      onReady: () => record('ready'),
      exportFolder: () => undefined,
    });
    for (const m of hostile) fake.send(m);
    fake.send({ type: 'runAction', command: 'landscape.setMinimumA' });
    await settle();
    page.dispose();
    assert.deepEqual(handled, [{ type: 'runAction', command: 'landscape.setMinimumA' }]);
    const warnings = log.lines.filter((l) => l.level === 'warn' && /ignored an invalid message/.test(l.text));
    assert.equal(warnings.length, hostile.length);
    for (const w of warnings) assert.ok(w.text.length < 1000 && !w.text.includes('\n'), w.text.slice(0, 200));
  });
});

describe('views refuse paths outside the workspace and actions they did not offer', () => {
  it('side view: inspect and openRun', async () => {
    const { fake, log, dispose } = buildPage('side', '');
    const cases: [unknown, boolean][] = [
      [{ type: 'inspect', path: files.outside }, false],
      [{ type: 'inspect', path: files.linkOut }, false],
      [{ type: 'inspect', path: files.traversal }, false],
      [{ type: 'inspect', path: files.insideText }, false],
      [{ type: 'openRun', runJson: files.outsideRun }, false],
      [{ type: 'openRun', runJson: files.inside }, false],
      [{ type: 'inspect', path: files.inside }, true],
      [{ type: 'openRun', runJson: files.insideJson }, true],
    ];
    for (const [m, allowed] of cases) {
      rec.commands = [];
      log.lines.length = 0;
      fake.send(m);
      await settle();
      if (allowed) {
        assert.equal(rec.commands.length, 1, `not run: ${JSON.stringify(m)}`);
        assert.equal((rec.commands[0].args[0] as FakeUri).fsPath, (m as { path?: string; runJson?: string }).path ?? (m as { runJson: string }).runJson);
      } else {
        assert.deepEqual(rec.commands, [], `ran a command for ${JSON.stringify(m)}`);
        assert.ok(log.lines.some((l) => l.level === 'warn' && /refused/.test(l.text)), `not logged: ${JSON.stringify(m)}`);
      }
    }
    dispose();
  });

  it('result panels: inspect and openRun', async () => {
    const { fake, log, dispose } = buildPage('result', files.insideJson);
    for (const m of [{ type: 'inspect', path: files.outside }, { type: 'inspect', path: files.viaLinkedDir }, { type: 'openRun', runJson: files.outsideRun }]) {
      rec.commands = [];
      log.lines.length = 0;
      fake.send(m);
      await settle();
      assert.deepEqual(rec.commands, [], `ran a command for ${JSON.stringify(m)}`);
      assert.ok(log.lines.some((l) => l.level === 'warn' && /refused/.test(l.text)), `not logged: ${JSON.stringify(m)}`);
    }
    rec.commands = [];
    fake.send({ type: 'inspect', path: files.inside });
    await settle();
    assert.equal(rec.commands.length, 1);
    dispose();
  });

  it('checkpoint viewer: only the actions it offered run', async () => {
    const { CheckpointViewers } = require('../../../src/host/checkpointViewer') as typeof import('../../../src/host/checkpointViewer');
    const proto = CheckpointViewers.prototype as unknown as { actions: (f: string) => { command: string }[] };
    const { fake, log, dispose } = buildPage('checkpoint', files.inside);
    const offered = proto.actions.call({ minimumA: { get: () => undefined } }, files.inside).map((a) => a.command);
    assert.ok(offered.length > 0);
    for (const command of ['workbench.action.terminal.sendSequence', 'vscode.open', 'landscape.train', 'landscape.newExperiment']) {
      if (offered.includes(command)) continue;
      rec.commands = [];
      log.lines.length = 0;
      fake.send({ type: 'runAction', command });
      await settle();
      assert.deepEqual(rec.commands, [], `ran ${command}`);
      assert.ok(log.lines.some((l) => l.level === 'warn' && /refused/.test(l.text)), `not logged: ${command}`);
    }
    rec.commands = [];
    fake.send({ type: 'runAction', command: offered[0] });
    await settle();
    assert.equal(rec.commands.length, 1);
    assert.equal((rec.commands[0].args[0] as FakeUri).fsPath, files.inside, 'an action runs on the viewer\'s own file, whatever the page says');
    dispose();
  });
});

describe('actions given an empty selection or the wrong kind of file', () => {
  const advice = /\b(choose|select|right-click|open)\b/i;

  it('say what to do', () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /needs a checkpoint; choose/],
      ['', /needs a checkpoint; choose/],
      [path.join(ws, 'missing.safetensors'), /does not exist; choose/],
      [path.join(ws, 'runs'), /is a folder; choose a \.safetensors file inside it/],
      [files.insideText, /notes\.txt is not a checkpoint; choose/],
      [files.insideJson, /run\.json is not a checkpoint; choose/],
    ];
    for (const [f, re] of cases) {
      const c = checkCheckpointChoice(f, 'Inspect Checkpoint');
      assert.equal(c.ok, false, String(f));
      const reason = (c as { reason: string }).reason;
      assert.match(reason, re);
      assert.match(reason, advice);
      assert.match(reason, /^Landscape: Inspect Checkpoint/);
    }
    assert.deepEqual(checkCheckpointChoice(files.inside, 'x'), { ok: true, value: files.inside });
    // A tfjs model folder means its model.json.
    const tfjsDir = path.join(ws, 'tfjs');
    fs.mkdirSync(tfjsDir);
    fs.writeFileSync(path.join(tfjsDir, 'model.json'), '{}');
    assert.deepEqual(checkCheckpointChoice(tfjsDir, 'x'), { ok: true, value: path.join(tfjsDir, 'model.json') });
  });

  it('multi-selections: too few, duplicates, a wrong file among them', () => {
    const other = path.join(ws, 'runs', 'r', 'checkpoints', 'epoch-0001.safetensors');
    fs.writeFileSync(other, 'x');
    const few = checkCheckpointChoices([], 'Find Path', 2);
    assert.match((few as { reason: string }).reason, /needs 2 different checkpoints, but none is selected; select 2/);
    const dup = checkCheckpointChoices([files.inside, files.inside], 'Find Path', 2);
    assert.match((dup as { reason: string }).reason, /only 1 is selected/);
    const wrong = checkCheckpointChoices([files.inside, files.insideText], 'Find Path', 2);
    assert.match((wrong as { reason: string }).reason, /notes\.txt is not a checkpoint/);
    assert.deepEqual(checkCheckpointChoices([files.inside, other], 'Find Path', 2), { ok: true, value: [files.inside, other] });
  });

  it('file names cannot put links, line breaks or unbounded text into a notification', () => {
    const name = '[Run me](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)\n.txt';
    const f = path.join(ws, name);
    fs.writeFileSync(f, 'x');
    const c = checkCheckpointChoice(f, 'Inspect Checkpoint');
    const reason = (c as { reason: string }).reason;
    // VS Code's notification link syntax (src/vs/base/common/linkedText.ts).
    assert.doesNotMatch(reason, /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)\)/i);
    assert.doesNotMatch(reason, /\n/);
    assert.equal(notificationText('[a](command:x)'), '[a] (command:x)');
    assert.ok(notificationText('y'.repeat(10_000)).length < 700);
  });

  it('pickCheckpoint shows those messages for a clicked file of the wrong kind', async () => {
    const { pickCheckpoint } = require('../../../src/host/commands/pickCheckpoint') as typeof import('../../../src/host/commands/pickCheckpoint');
    const services = { checkpoints: { activeFile: () => undefined } };
    rec.errors = [];
    assert.equal(await pickCheckpoint(services as never, FakeUri.file(files.insideText), 'Inspect Checkpoint'), undefined);
    assert.equal(await pickCheckpoint(services as never, new FakeUri('untitled', 'Untitled-1'), 'Inspect Checkpoint'), undefined);
    assert.equal(await pickCheckpoint(services as never, FakeUri.file(files.inside), 'Inspect Checkpoint'), files.inside);
    assert.equal(rec.errors.length, 2);
    assert.match(rec.errors[0], /notes\.txt is not a checkpoint; choose/);
    assert.match(rec.errors[1], /works on files on disk, not untitled: resources; copy/);
  });
});
