/**
 * The page controllers, through the real host classes of the three pages
 * (side view, checkpoint viewer, result panel) on stand-in panels:
 *   - each page refuses (and logs) the messages of the other pages, its
 *     'ready' included when it names another page, and acts on none of them;
 *   - each shared message (ready, inspect, openRun, export, log) is handled
 *     exactly once, by the controller, on every page;
 *   - a page that was hidden is sent nothing until it says 'ready' again.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  CheckpointWebviewMessageSchema,
  ResultWebviewMessageSchema,
  SideWebviewMessageSchema,
  VIEWS,
  type PageRequest,
  type ViewName,
} from '../../../src/protocol';
import { COMMANDS, INTERNAL_COMMANDS } from '../../../src/host/commandTable';
import { buildPage, settle } from '../../support/pages';
import { installFakeVscode, rec, removeFakeVscode, resetRecorder } from '../../support/vscode';
import { makeTempDir, removeTempDir } from '../../support/tmp';

/** One valid request of each type each page may send besides the shared ones. */
const OWN_REQUESTS: { [P in ViewName]: PageRequest<P>[] } = {
  side: [
    { type: 'train', form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 1 } },
    { type: 'stop' },
    { type: 'openExperiment' },
    { type: 'selectBackend' },
  ],
  checkpoint: [{ type: 'evaluate' }, { type: 'runAction', command: 'landscape.setMinimumA' }],
  result: [
    { type: 'kpcaOverlay', source: 'trajectory' },
    { type: 'removeOverlay', index: 0 },
  ],
};

/** What each page is sent first when it says 'ready'. */
const FIRST_REPLY: Record<ViewName, string> = { side: 'sideSnapshot', checkpoint: 'checkpoint', result: 'resultError' };

/** What each page is sent when its host is poked (see BuiltPage.poke). */
const POKE_REPLY: Record<ViewName, string> = { side: 'runs', checkpoint: 'actions', result: 'resultStatus' };

let tmp: string;
let checkpoint: string;
let runJson: string;

before(() => {
  tmp = makeTempDir('pages');
  const run = path.join(tmp, 'runs', 'r');
  fs.mkdirSync(run, { recursive: true });
  checkpoint = path.join(run, 'final.safetensors');
  fs.writeFileSync(checkpoint, 'x');
  runJson = path.join(run, 'run.json');
  fs.writeFileSync(runJson, '{}');
  rec.folders = [tmp];
  installFakeVscode();
});

after(() => {
  removeFakeVscode();
  removeTempDir(tmp);
});

/** The file each page shows; the result panel's is no result at all, so it answers with an error whatever the result formats are. */
function fileShownBy(view: ViewName): string {
  return view === 'checkpoint' ? checkpoint : view === 'result' ? runJson : '';
}

describe('every page has the same protocol for what all pages share', () => {
  it('the table of own requests covers each page\'s schema', () => {
    assert.deepEqual(OWN_REQUESTS.side.map((m) => m.type), Object.keys(SideWebviewMessageSchema.variants));
    assert.deepEqual(OWN_REQUESTS.checkpoint.map((m) => m.type), Object.keys(CheckpointWebviewMessageSchema.variants));
    assert.deepEqual(OWN_REQUESTS.result.map((m) => m.type), Object.keys(ResultWebviewMessageSchema.variants));
  });

  for (const view of VIEWS) {
    it(`${view}: refuses every message of the other pages, and acts on none`, async () => {
      const { fake, log, dispose } = buildPage(view, fileShownBy(view));
      resetRecorder();
      const foreign = VIEWS.filter((v) => v !== view).flatMap((v) => [{ type: 'ready', view: v }, ...OWN_REQUESTS[v]]);
      for (const m of foreign) fake.send(m);
      await settle();
      dispose();
      assert.deepEqual(fake.posted, [], 'the host answered a message of another page');
      assert.deepEqual(rec.commands, [], 'a command ran for a message of another page');
      assert.deepEqual(rec.infos, []);
      const refused = log.lines.filter((l) => l.level === 'warn' && /ignored an invalid message from the webview/.test(l.text));
      assert.equal(refused.length, foreign.length, log.lines.map((l) => l.text).join('\n'));
    });

    it(`${view}: handles ready, inspect, openRun, export and log once each`, async () => {
      const { fake, log, dispose } = buildPage(view, fileShownBy(view));
      // The checkpoint viewer reads its file as the page loads; let that finish first.
      await settle();
      resetRecorder();
      fake.send({ type: 'ready', view });
      await settle();
      assert.deepEqual(
        fake.posted.map((m) => (m as { type: string }).type),
        [FIRST_REPLY[view]],
        `${view} answered 'ready' with ${JSON.stringify(fake.posted).slice(0, 300)}; log: ${log.lines.map((l) => l.text).join(' | ')}`,
      );

      fake.send({ type: 'inspect', path: checkpoint });
      fake.send({ type: 'openRun', runJson });
      await settle();
      assert.deepEqual(
        rec.commands.map((c) => [c.id, (c.args[0] as { fsPath: string }).fsPath]),
        [
          [COMMANDS.inspectCheckpoint.id, checkpoint],
          [INTERNAL_COMMANDS.openRun, runJson],
        ],
      );

      fake.send({ type: 'export', format: 'png', dataUrl: 'data:image/png;base64,iVBORw0KGgo=', name: 'loss' });
      fake.send({ type: 'export', format: 'svg', dataUrl: 'data:image/png;base64,iVBORw0KGgo=', name: 'loss' });
      fake.send({ type: 'log', level: 'warn', message: 'from the page' });
      await settle();
      assert.equal(rec.saveDialogs, 1, 'one save dialog for the one good export');
      assert.equal(log.lines.filter((l) => /export: ignored an image that is not a svg data URL/.test(l.text)).length, 1);
      const pageLines = log.lines.filter((l) => /webview: from the page$/.test(l.text));
      assert.deepEqual(pageLines.map((l) => l.level), ['warn']);
      assert.equal(log.lines.filter((l) => /ignored an invalid message|failed/.test(l.text)).length, 0, log.lines.map((l) => l.text).join('\n'));
      dispose();
    });

    it(`${view}: is sent nothing before 'ready' and while hidden`, async () => {
      const { fake, poke, dispose } = buildPage(view, fileShownBy(view));
      const types = () => fake.posted.map((m) => (m as { type: string }).type);
      poke();
      await settle();
      assert.deepEqual(types(), [], 'sent before the page said ready');
      fake.send({ type: 'ready', view });
      await settle();
      poke();
      await settle();
      assert.deepEqual(types(), [FIRST_REPLY[view], POKE_REPLY[view]]);
      fake.hide();
      poke();
      await settle();
      assert.deepEqual(types(), [FIRST_REPLY[view], POKE_REPLY[view]], 'sent to a hidden page');
      // Shown again, the rebuilt page says 'ready' and gets everything.
      (fake.panel as { visible: boolean }).visible = true;
      fake.send({ type: 'ready', view });
      await settle();
      assert.deepEqual(types(), [FIRST_REPLY[view], POKE_REPLY[view], FIRST_REPLY[view]]);
      dispose();
    });
  }
});
