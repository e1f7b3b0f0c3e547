// End-to-end test of the Landscape extension in a real VS Code (code-server) driven by Chromium.
//
//   npm run package && npm run test:e2e        (after scripts/e2e-setup.sh)
//   node --import tsx test/e2e/run.ts [--vsix FILE] [--keep] [--timeout SECONDS]
//
// Prints one line per check and ends with "N passed, N failed"; exits 1 if any check failed.
// Screenshots, the code-server log, the browser console and (on failure) VS Code's own logs go to
// test-results/e2e/. Everything the run writes besides that lives in a temp folder that is removed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { installExtension, resolveInstall, startCodeServer, type RunningServer } from './codeServer';
import { formatLatency, measureLatency, type HostLogReader, type HostMark, type Latency } from './feltSpeed';
import { checkHostileMetadata } from './hostile';
import { checkCnnWalkthrough } from './cnn';
import { checkInstability } from './instability';
import { checkBezierCurve } from './curve';
import {
  menuItem,
  pickQuickItem,
  readTraces,
  textOf,
  quickOpen,
  revealInExplorer,
  runCommand,
  sleep,
  waitFor,
  waitForActivityBarItem,
  waitForWorkbench,
  webviewWith,
} from './workbench';

const repo = path.resolve(__dirname, '..', '..');
const fixture = path.join(repo, 'test', 'fixtures', 'e2e-workspace');
const outDir = path.join(repo, 'test-results', 'e2e');

// From ../shared/E2E.md: Debian's Chromium, no sandbox (root in CI), nothing that phones home.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Only loopback: any other host name fails to resolve inside the browser, so nothing (extension
  // gallery, CDNs) leaves the machine and nothing can make the run depend on the network.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  vsix: string;
  keep: boolean;
  timeoutS: number;
}

function parseArgs(argv: string[]): Options {
  let vsix = process.env.LANDSCAPE_E2E_VSIX ?? '';
  let keep = process.env.LANDSCAPE_E2E_KEEP === '1';
  let timeoutS = Number(process.env.LANDSCAPE_E2E_TIMEOUT ?? 600);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--vsix') vsix = argv[++i] ?? '';
    else if (a === '--keep') keep = true;
    else if (a === '--timeout') timeoutS = Number(argv[++i]);
    else throw new Error(`unknown argument ${a} (expected --vsix FILE, --keep, --timeout SECONDS)`);
  }
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`--timeout must be a positive number of seconds`);
  return { vsix: vsix ? path.resolve(vsix) : findVsix(), keep, timeoutS };
}

/** The .vsix `npm run package` wrote: <name>-<version>.vsix at the repo root, else the newest one there or in dist/. */
function findVsix(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
  const expected = path.join(repo, `${pkg.name}-${pkg.version}.vsix`);
  if (fs.existsSync(expected)) return expected;
  const found = [repo, path.join(repo, 'dist')]
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.vsix')).map((f) => path.join(d, f)))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (found.length) return found[0];
  throw new Error(`no .vsix found (looked for ${expected} and *.vsix in the repo root and dist/): run "npm run package" first`);
}

// ---------------------------------------------------------------------------------------------
// Checks

interface Experiment {
  model: string;
  bias: boolean;
  optimizer: string;
  dataset: string;
  epochs: number;
}

function readExperiment(): Experiment {
  const file = path.join(fixture, 'landscape.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (typeof j.model !== 'string' || typeof j.epochs !== 'number' || typeof j.dataset !== 'string') {
    throw new Error(`${file}: needs "model" (string), "dataset" (string) and "epochs" (number)`);
  }
  const optimizer = typeof j.optimizer === 'string' ? j.optimizer : (j.optimizer as { name?: string } | undefined)?.name ?? '';
  return { model: j.model, bias: j.bias !== false, optimizer, dataset: j.dataset, epochs: j.epochs };
}

/** Tensor names a dense net of this spec stores, in the engine's layout. */
function expectedTensors(e: Experiment): { name: string; shape: number[] }[] {
  const sizes = e.model.split('-').map(Number);
  const out: { name: string; shape: number[] }[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    out.push({ name: `layers.${i}.weight`, shape: [sizes[i], sizes[i + 1]] });
    if (e.bias) out.push({ name: `layers.${i}.bias`, shape: [sizes[i + 1]] });
  }
  return out;
}

class CheckFailed extends Error {}
function expect(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new CheckFailed(msg);
}

/** Train-loss point count and status text in one round trip, so sampling keeps up with training. */
async function sampleLoss(frame: FrameLocator): Promise<{ train: number; status: string }> {
  return frame.locator('body').evaluate((body: any) => {
    const doc = body.ownerDocument;
    const data = doc.getElementById('chart-loss')?.data;
    const trace = Array.isArray(data) ? data.find((t: any) => t && t.name === 'train loss') : undefined;
    return {
      train: trace && trace.y ? Number(trace.y.length) : 0,
      status: String(doc.getElementById('status')?.textContent ?? ''),
    };
  }, undefined, { timeout: 5000 });
}

function listFiles(dir: string, rel = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const r = rel ? `${rel}/${d.name}` : d.name;
    return d.isDirectory() ? listFiles(path.join(dir, d.name), r) : [r];
  });
}

interface Context {
  page: Page;
  workspace: string;
  exp: Experiment;
  shot(name: string): Promise<void>;
  /** Felt-speed figures, printed at the end (never asserted). */
  latencies: Latency[];
  /** The extension's log so far, for the felt-speed breakdown. */
  hostLog: HostLogReader;
}

/** The side view's steps in the extension's log (src/host/sideView.ts). */
const SIDE_MARKS: HostMark[] = [
  { name: 'activated', pattern: /Landscape \S+ activated/, anyTime: true },
  { name: 'reveal', pattern: /side view: revealing/ },
  { name: 'resolve', pattern: /side view: building the page/ },
  { name: 'ready', pattern: /side view: page ready/ },
];

/** The checkpoint viewer's steps in the extension's log (src/host/checkpointViewer.ts). */
const CHECKPOINT_MARKS: HostMark[] = [
  { name: 'open', pattern: /checkpoint viewer \(.*\): opening/ },
  { name: 'ready', pattern: /checkpoint viewer \(.*\): page ready/ },
  { name: 'read', pattern: /checkpoint viewer \(.*\): read in/ },
];

/** How long until the extension's log says it activated (ms), or undefined after timeoutMs. */
async function waitForActivation(hostLog: HostLogReader, timeoutMs: number): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (/Landscape \S+ activated/.test(hostLog())) return Date.now() - t0;
    await sleep(100);
  }
  return undefined;
}

/** The Landscape output channel's log files under VS Code's logs folder, concatenated. */
function readHostLog(userDataDir: string): string {
  const logs = path.join(userDataDir, 'logs');
  return listFiles(logs)
    .filter((f) => /Landscape\.log$/.test(f))
    .map((f) => fs.readFileSync(path.join(logs, f), 'utf8'))
    .join('\n');
}

/** Checkpoint files under runs/, relative to the workspace; read from disk so each check stands alone. */
function checkpointFiles(workspace: string): string[] {
  return listFiles(path.join(workspace, 'runs'))
    .map((f) => `runs/${f}`)
    .filter((f) => f.endsWith('.safetensors'));
}

/**
 * The side panel opened again later in the session: its first page was destroyed when the
 * explorer took the side bar, so this is a new page, but the workbench's service worker is
 * installed now, as it is in every VS Code session after the first on a machine. Felt speed only.
 */
async function checkSidePanelReopened(c: Context): Promise<string> {
  const { page } = c;
  await runCommand(page, 'View: Show Explorer');
  const asked = await runCommand(page, 'Landscape: Open Panel');
  const latency = await measureLatency(page, 'side panel opened again (service worker installed, as in every later session): first chart drawn', 2000, '#chart-loss .main-svg', asked, { log: c.hostLog, marks: SIDE_MARKS }, 'first-plot');
  c.latencies.push(latency);
  await runCommand(page, 'View: Show Explorer');
  expect(latency.ms !== undefined, 'the reopened side panel drew no chart');
  return `first chart ${((latency.drawnMs ?? latency.ms!) / 1000).toFixed(2)} s after Enter`;
}

async function checkTrainLive(c: Context): Promise<string> {
  const { page, exp } = c;
  const expectedPoints = exp.epochs + 1;

  // The workbench shows the Landscape icon before the extension host has started: wait for the
  // activation (workspaceContains:landscape.json) so the felt speed times the panel, not the
  // extension host's start. Printed; the command activates the extension anyway if it is not.
  const activation = await waitForActivation(c.hostLog, 60_000);
  console.log(`e2e: extension activated ${activation === undefined ? 'not within 60 s; going on' : `${(activation / 1000).toFixed(2)} s after the workbench`}`);
  // Open the panel first so the chart exists before the first epoch event arrives.
  const asked = await runCommand(page, 'Landscape: Open Panel');
  c.latencies.push(await measureLatency(page, 'side panel: first chart drawn after "Landscape: Open Panel"', 2000, '#chart-loss .main-svg', asked, { log: c.hostLog, marks: SIDE_MARKS }, 'first-plot'));
  const panel = await webviewWith(page, '#chart-loss', 60_000);
  const before = (await readTraces(panel, 'chart-loss').catch(() => undefined)) ?? [];
  const before0 = Math.max(0, ...before.map((t) => t.n));

  const t0 = Date.now();
  await runCommand(page, 'Landscape: Train');

  // Sample the loss chart while training runs: the point count must rise between two samples
  // taken before completion, starting from a partly drawn chart (a chart that jumps from empty
  // to complete in one sample would not show that the panel streams).
  const samples: { t: number; train: number; done: boolean }[] = [];
  let liveShot = 0;
  let done = false;
  const deadline = Date.now() + 240_000;
  while (!done) {
    expect(Date.now() < deadline, `training did not finish within 240 s; samples of the train-loss point count: ${fmtSamples(samples)}`);
    const { train, status } = await sampleLoss(panel).catch(() => ({ train: 0, status: '' }));
    done = /\bdone\b/i.test(status);
    samples.push({ t: Date.now() - t0, train, done });
    // Shoot the first partly drawn chart, then once more when it is about half drawn (a curve
    // says more than a dot); the second overwrites the first.
    if (!done && train > 0 && train < expectedPoints && liveShot < (train >= expectedPoints / 2 ? 2 : 1)) {
      liveShot = train >= expectedPoints / 2 ? 2 : 1;
      await c.shot('01-training-live');
    }
    if (!done) await sleep(100);
  }
  const running = samples.filter((s) => !s.done);
  // A partly drawn chart seen while running, and a later sample with more points.
  const grewLive = running.some(
    (s, i) => s.train > 0 && s.train < expectedPoints && samples.slice(i + 1).some((l) => l.train > s.train),
  );
  expect(
    grewLive,
    `the loss trace did not grow while training ran (before: ${before0} points; ${running.length} samples while running); ` +
      `changes [ms:count]: ${fmtSamples(samples)}`,
  );

  // Let the last coalesced delta land, then read the final figure.
  const final = await waitFor(
    `the loss chart to settle at ${expectedPoints} points`,
    async () => {
      const tr = await readTraces(panel, 'chart-loss');
      const a = tr?.find((t) => t.name === 'train loss');
      return a && a.n >= expectedPoints ? tr : undefined;
    },
    10_000,
  ).catch(async () => (await readTraces(panel, 'chart-loss').catch(() => undefined)) ?? []);
  await c.shot('02-training-done');
  const names = final.map((t) => t.name);
  const trainT = final.find((t) => t.name === 'train loss');
  const testT = final.find((t) => t.name === 'test loss');
  expect(trainT && testT, `chart-loss has traces [${names.join(', ')}], expected "train loss" and "test loss"`);
  expect(trainT.n === expectedPoints, `"train loss" has ${trainT.n} points, expected ${expectedPoints} (epochs ${exp.epochs} + epoch 0)`);
  expect(testT.n === expectedPoints, `"test loss" has ${testT.n} points, expected ${expectedPoints}`);
  const bad = [...trainT.y, ...testT.y].filter((v) => !Number.isFinite(v) || v <= 0);
  expect(bad.length === 0, `loss values must be finite and positive (log axis); got ${bad.slice(0, 5).join(', ')}`);
  expect(
    trainT.y[trainT.n - 1] < trainT.y[0],
    `train loss did not fall: epoch 0 ${trainT.y[0]}, last ${trainT.y[trainT.n - 1]}`,
  );
  for (const id of ['chart-accuracy', 'chart-gradnorm', 'chart-lr']) {
    expect((await panel.locator(`#${id}`).count()) > 0, `the side panel has no #${id}`);
  }
  const runItems = await waitFor('the runs list to show the new run', async () => {
    const n = await panel.locator('#runs-list .run-item').count();
    return n > 0 ? n : undefined;
  }, 10_000).catch(() => 0);
  expect(runItems > 0, 'the side panel\'s #runs-list shows no .run-item after training');
  const backend = await textOf(panel, '#backend');
  expect(backend.length > 0, 'the side panel shows no backend (#backend is empty or missing)');

  // The run's files, as the issue defines them.
  const files = listFiles(path.join(c.workspace, 'runs')).map((f) => `runs/${f}`);
  const checkpoints = checkpointFiles(c.workspace);
  const epochs = checkpoints.filter((f) => /\/checkpoints\/epoch-\d{4}\.safetensors$/.test(f));
  expect(epochs.length > 0, `no runs/<run>/checkpoints/epoch-NNNN.safetensors written; runs/ has: ${files.join(', ') || '(nothing)'}`);
  expect(checkpoints.some((f) => f.endsWith('/final.safetensors')), `no final.safetensors written; runs/ has: ${files.join(', ')}`);
  expect(checkpoints.some((f) => f.endsWith('/best.safetensors')), `no best.safetensors written; runs/ has: ${files.join(', ')}`);

  return `${trainT.n} points per trace, grew live (${running.length} samples while running; changes [ms:count] ${fmtSamples(samples)}), ` +
    `loss ${trainT.y[0].toPrecision(3)} -> ${trainT.y[trainT.n - 1].toPrecision(3)}, backend "${backend}", ` +
    `${checkpoints.length} checkpoints, ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Toasts would cover the viewer in the screenshots; they are not what is checked. */
async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications', 10_000).catch(() => undefined);
}

function fmtSamples(s: { t: number; train: number; done: boolean }[]): string {
  // Only the changes, so a long run stays readable.
  const changes = s.filter((x, i) => i === 0 || x.train !== s[i - 1].train || x.done !== s[i - 1].done);
  return changes.map((x) => `${x.t}:${x.train}${x.done ? '(done)' : ''}`).join(' ') || '(none)';
}

async function checkViewerTensors(c: Context): Promise<string> {
  const { page, exp } = c;
  const file = checkpointFiles(c.workspace).find((f) => f.endsWith('/final.safetensors'));
  expect(file, 'no runs/<run>/**/final.safetensors to open: training wrote none');
  await runCommand(page, 'View: Close All Editors');
  const opened = await quickOpen(page, file);
  c.latencies.push(await measureLatency(page, 'checkpoint viewer: tensor table shown after opening the file', 1000, '#tensor-table tbody tr', opened, { log: c.hostLog, marks: CHECKPOINT_MARKS }, 'table'));
  const viewer = await webviewWith(page, '#tensor-table tbody tr', 60_000);
  const rows = await viewer.locator('#tensor-table tbody tr').evaluateAll((trs: any[]) =>
    trs.map((tr) => ({
      name: String(tr.cells?.[0]?.textContent ?? '').trim(),
      text: String(tr.textContent ?? '').replace(/\s+/g, ' ').trim(),
    })),
  );
  await viewer.locator('#tensor-table').scrollIntoViewIfNeeded().catch(() => undefined);
  await clearNotifications(page);
  await c.shot('03-checkpoint-viewer');
  const want = expectedTensors(exp);
  const got = rows.map((r) => r.name);
  expect(
    JSON.stringify(got) === JSON.stringify(want.map((w) => w.name)),
    `tensor table of ${file} lists [${got.join(', ')}], expected [${want.map((w) => w.name).join(', ')}]`,
  );
  for (const w of want) {
    const text = rows.find((r) => r.name === w.name)!.text.slice(w.name.length);
    const shapeRe = new RegExp(`\\b${w.shape.join('\\D{1,4}')}\\b`);
    expect(shapeRe.test(text), `tensor row ${w.name} does not show shape [${w.shape.join(', ')}]: "${text}"`);
  }
  const spec = await textOf(viewer, '#model-spec');
  const specRe = new RegExp(exp.model.split('-').join('\\D+'));
  expect(specRe.test(spec), `#model-spec shows "${spec}", expected the model ${exp.model}`);
  expect((await viewer.locator('#btn-evaluate').count()) > 0, 'the checkpoint viewer has no #btn-evaluate');
  return `${file}: ${got.join(', ')}; model spec "${spec}"`;
}

async function checkContextMenuInspect(c: Context): Promise<string> {
  const { page, exp } = c;
  const epochFiles = checkpointFiles(c.workspace).filter((f) => /\/epoch-\d{4}\.safetensors$/.test(f)).sort();
  expect(epochFiles.length > 0, 'no runs/<run>/checkpoints/epoch-NNNN.safetensors to right-click: training wrote none');
  // A middle epoch, so the metadata cannot be mistaken for the final checkpoint's.
  const file = epochFiles[Math.floor((epochFiles.length - 1) / 2)];
  const epoch = Number(/epoch-(\d{4})/.exec(file)![1]);

  await runCommand(page, 'View: Close All Editors');
  await clearNotifications(page);
  const row = await revealInExplorer(page, file);
  await row.click({ button: 'right' });
  const item = menuItem(page, /Inspect Checkpoint/);
  await item.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(async () => {
    const offered = await page.locator('.monaco-menu .action-label').allInnerTexts().catch(() => []);
    await c.shot('04-context-menu');
    throw new CheckFailed(`the explorer context menu of ${file} has no "Inspect Checkpoint"; it offers: ${offered.filter(Boolean).join(' | ') || '(no menu)'}`);
  });
  await item.first().hover();
  await sleep(400); // the menu fades in
  await c.shot('04-context-menu');
  await item.first().click();

  const viewer = await webviewWith(page, '#metadata-table tr', 60_000);
  const meta = await viewer.locator('#metadata-table tr').evaluateAll((trs: any[]) =>
    trs
      .map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? ''] as [string, string])
      .map(([k, v]) => [k.trim(), v.replace(/\s+/g, ' ').trim()] as [string, string]),
  );
  await clearNotifications(page);
  await c.shot('05-inspect-metadata');
  const m = new Map(meta);
  const show = meta.map(([k, v]) => `${k}=${v.slice(0, 40)}`).join(', ');
  expect(m.get('model') === exp.model, `metadata "model" is "${m.get('model') ?? '(missing)'}", expected "${exp.model}"; table: ${show}`);
  expect(
    new RegExp(`\\b${exp.optimizer}\\b`, 'i').test(m.get('optimizer') ?? ''),
    `metadata "optimizer" is "${m.get('optimizer') ?? '(missing)'}", expected ${exp.optimizer}; table: ${show}`,
  );
  if (m.has('dataset')) {
    expect(new RegExp(exp.dataset, 'i').test(m.get('dataset')!), `metadata "dataset" is "${m.get('dataset')}", expected ${exp.dataset}`);
  }
  if (m.has('epoch')) {
    expect(Number(m.get('epoch')) === epoch, `metadata "epoch" is "${m.get('epoch')}", but the file is ${file}`);
  }
  return `${file}: model=${m.get('model')}, optimizer=${m.get('optimizer')}${m.has('epoch') ? `, epoch=${m.get('epoch')}` : ''} (${meta.length} rows)`;
}

/** Right-click a file in the explorer and pick a menu entry; fails listing what the menu offers. */
async function contextMenu(c: Context, file: string, entry: RegExp, shotName?: string): Promise<void> {
  const { page } = c;
  const row = await revealInExplorer(page, file);
  await row.click({ button: 'right' });
  const item = menuItem(page, entry);
  await item.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(async () => {
    const offered = await page.locator('.monaco-menu .action-label').allInnerTexts().catch(() => []);
    if (shotName) await c.shot(shotName);
    await page.keyboard.press('Escape').catch(() => undefined);
    throw new CheckFailed(`the explorer context menu of ${file} has no ${entry}; it offers: ${offered.filter(Boolean).join(' | ') || '(no menu)'}`);
  });
  await item.first().hover();
  await sleep(400); // the menu fades in
  if (shotName) await c.shot(shotName);
  await item.first().click();
}

/** Barrier numbers of #barrier-table: row label -> [straight line, optimized path]. */
async function readBarrierTable(frame: FrameLocator): Promise<{ headers: string[]; rows: [string, number[]][] }> {
  return frame.locator('#barrier-table').evaluate((t: any) => ({
    headers: Array.from(t.querySelectorAll('thead th') as ArrayLike<any>).map((th: any) => String(th.textContent ?? '').trim()),
    rows: Array.from(t.querySelectorAll('tbody tr') as ArrayLike<any>).map((tr: any) => [
      String(tr.querySelector('th')?.textContent ?? '').trim(),
      Array.from(tr.querySelectorAll('td') as ArrayLike<any>).map((td: any) => Number(String(td.textContent ?? '').split(',')[0])),
    ]),
  }), undefined, { timeout: 5000 }) as Promise<{ headers: string[]; rows: [string, number[]][] }>;
}

/** The profile chart has exactly the straight line and the optimized path, both over the same dense t grid. */
async function expectProfileChart(frame: FrameLocator, what: string): Promise<{ n: number; straightH: number; optimizedH: number }> {
  const traces = await waitFor(`${what}: the profile chart's traces`, async () => {
    const tr = await readTraces(frame, 'chart-profile');
    return tr && tr.length > 0 && tr.every((t) => t.n > 0) ? tr : undefined;
  }, 20_000);
  const names = traces.map((t) => t.name);
  expect(traces.length === 2, `${what}: #chart-profile has ${traces.length} traces [${names.join(', ')}], expected 2 (straight line, optimized path)`);
  const straight = traces.find((t) => t.name === 'straight line');
  const optimized = traces.find((t) => t.name === 'optimized path');
  expect(straight && optimized, `${what}: #chart-profile traces are [${names.join(', ')}], expected "straight line" and "optimized path"`);
  expect(straight.n === optimized.n && straight.n >= 10, `${what}: the traces have ${straight.n} and ${optimized.n} points`);
  const bad = [...straight.y, ...optimized.y].filter((v) => !Number.isFinite(v));
  expect(bad.length === 0, `${what}: non-finite losses on the profile: ${bad.slice(0, 3).join(', ')}`);
  return { n: straight.n, straightH: Math.max(...straight.y), optimizedH: Math.max(...optimized.y) };
}

/** Finished runs (run.json says completed), oldest first, as workspace-relative folders. */
function completedRuns(workspace: string): string[] {
  const root = path.join(workspace, 'runs');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => {
      try {
        return JSON.parse(fs.readFileSync(path.join(root, d, 'run.json'), 'utf8')).status === 'completed';
      } catch {
        return false;
      }
    })
    .sort()
    .map((d) => `runs/${d}`);
}

/**
 * As a user does for a first barrier: a second run with another seed (landscape.json edited),
 * so A and B are two different minima with a wall between them.
 */
async function trainSecondRun(c: Context): Promise<[string, string]> {
  const file = path.join(c.workspace, 'landscape.json');
  const exp = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  // Another seed for the weights, the same data split: barriers compare minima of one loss surface.
  const seed = Number(exp.seed ?? 0);
  fs.writeFileSync(file, JSON.stringify({ ...exp, seed: seed + 1, dataSeed: exp.dataSeed ?? seed }, null, 2));
  const before = completedRuns(c.workspace);
  await runCommand(c.page, 'Landscape: Train');
  const runs = await waitFor('a second finished run', async () => {
    const now = completedRuns(c.workspace);
    return now.length > before.length && fs.existsSync(path.join(c.workspace, now[now.length - 1], 'final.safetensors')) ? now : undefined;
  }, 120_000);
  return [`${runs[0]}/final.safetensors`, `${runs[runs.length - 1]}/final.safetensors`];
}

async function checkBarrierToMinimumA(c: Context): Promise<string> {
  const { page } = c;
  const [a, b] = await trainSecondRun(c);

  await runCommand(page, 'View: Close All Editors');
  await clearNotifications(page);
  await contextMenu(c, a, /^Set as Minimum A$/);
  await waitFor('the "Minimum A is …" message', async () =>
    ((await page.locator('.notifications-toasts').innerText().catch(() => '')).includes('Minimum A is') ? true : undefined), 10_000).catch(() => undefined);
  await clearNotifications(page);

  const t0 = Date.now();
  await contextMenu(c, b, /^Compute Barrier to Minimum A$/, '06-barrier-context-menu');

  // The live panel: status line and the height chart while the path search runs (may be brief).
  const live = await webviewWith(page, '#live-title, #chart-profile', 60_000);
  let sawLive = '';
  const deadline = Date.now() + 180_000;
  for (;;) {
    expect(Date.now() < deadline, `the barrier result did not appear within 180 s; last status: "${sawLive}"`);
    if ((await live.locator('#chart-profile').count().catch(() => 0)) > 0) break;
    const status = await textOf(live, '#status').catch(() => '');
    if (status && /iteration/.test(status) && !/iteration/.test(sawLive)) await c.shot('07-barrier-live');
    if (status) sawLive = status;
    // "iteration i/n": n counts the refinement band's iterations too, so i never passes it.
    const counted = /iteration (\d+)\/(\d+)/.exec(status);
    expect(!counted || Number(counted[1]) <= Number(counted[2]), `the live status counts past its total: "${status}"`);
    const err = await textOf(live, '#error').catch(() => '');
    expect(!err, `the result panel shows an error: ${err}`);
    await sleep(200);
  }
  const panel = await webviewWith(page, '#chart-profile', 10_000);
  const prof = await expectProfileChart(panel, 'result panel');
  const table = await readBarrierTable(panel);
  expect(
    table.headers.includes('straight line') && table.headers.includes('optimized path'),
    `#barrier-table headers are [${table.headers.join(', ')}], expected "straight line" and "optimized path"`,
  );
  const rowH = table.rows.find(([k]) => /^height H/.test(k));
  const rowMean = table.rows.find(([k]) => /mean/.test(k));
  const rowT = table.rows.find(([k]) => /^t where/.test(k));
  expect(rowH && rowMean && rowT, `#barrier-table rows are [${table.rows.map(([k]) => k).join(' | ')}]`);
  expect(rowH[1].length === 2 && rowH[1].every(Number.isFinite), `height H row shows ${rowH[1].join(', ')}`);
  expect(rowT[1].every((t) => t >= 0 && t <= 1), `t at max is outside [0, 1]: ${rowT[1].join(', ')}`);
  const [hStraight, hOpt] = rowH[1];
  // The table rounds to 4 significant digits; the chart's maxima are the path points, a subset of the dense grid.
  expect(hOpt <= hStraight * 1.001, `the optimized H (${hOpt}) is above the straight line's (${hStraight})`);
  expect(Math.abs(prof.straightH - hStraight) <= 1e-3 * Math.max(1, hStraight), `the chart's straight-line maximum ${prof.straightH} differs from the table's H ${hStraight}`);
  expect((await panel.locator('#chart-plane').count()) > 0, 'the result panel has no #chart-plane');
  const plane = await readTraces(panel, 'chart-plane').catch(() => undefined);
  expect(plane?.some((t) => t.name === 'optimized path' && t.n === prof.n), `#chart-plane has no "optimized path" trace with ${prof.n} points`);
  const verdict = await textOf(panel, '#verdict');
  await clearNotifications(page);
  await panel.locator('#chart-profile').scrollIntoViewIfNeeded().catch(() => undefined);
  await c.shot('08-barrier-result');
  await panel.locator('#chart-plane').scrollIntoViewIfNeeded().catch(() => undefined);
  await c.shot('09-barrier-plane');

  // Saved beside A; reopening it shows the same panel without computing again.
  const dirA = path.posix.dirname(a);
  const saved = listFiles(path.join(c.workspace, dirA)).filter((f) => f.endsWith('.path.json'));
  expect(saved.length === 1, `expected one <A>__<B>.path.json in ${dirA}, found [${saved.join(', ')}]`);
  const rel = `${dirA}/${saved[0]}`;
  const json = JSON.parse(fs.readFileSync(path.join(c.workspace, rel), 'utf8')) as { formatVersion?: number; kind?: string };
  expect(json.formatVersion === 2 && json.kind === 'barrierPath', `${rel} is not a barrierPath result file (format 2)`);
  return `A=${a}, B=${b}: H straight ${hStraight}, optimized ${hOpt} (${prof.n} points per trace), "${verdict.slice(0, 120)}"; ` +
    `saved ${rel}; ${((Date.now() - t0) / 1000).toFixed(1)} s${sawLive ? `; live status seen: "${sawLive.slice(0, 80)}"` : ''}`;
}

async function checkReopenPathResult(c: Context): Promise<string> {
  const { page } = c;
  const saved = listFiles(path.join(c.workspace, 'runs')).filter((f) => f.endsWith('.path.json'));
  expect(saved.length > 0, 'no .path.json under runs/ to reopen (the barrier check did not save one)');
  const rel = `runs/${saved[0]}`;
  const mtime = fs.statSync(path.join(c.workspace, rel)).mtimeMs;
  await runCommand(page, 'View: Close All Editors');
  await quickOpen(page, rel);
  const panel = await webviewWith(page, '#chart-profile', 60_000);
  const prof = await expectProfileChart(panel, 'reopened result');
  await clearNotifications(page);
  await c.shot('10-barrier-reopened');
  expect(fs.statSync(path.join(c.workspace, rel)).mtimeMs === mtime, `${rel} was rewritten: opening a result must not recompute it`);
  return `${rel} opened in the result editor: ${prof.n} points per trace, file unchanged`;
}

/**
 * All pairs from the explorer: right-click the runs folder, "Barriers Between Checkpoints", every
 * checkpoint, 10 random pairs; the panel shows the barrier heatmap and the disconnectivity graph.
 */
async function checkBarriersBetweenFolder(c: Context): Promise<string> {
  const { page } = c;
  const t0 = Date.now();
  await runCommand(page, 'View: Close All Editors');
  await clearNotifications(page);
  await contextMenu(c, 'runs', /^Barriers Between Checkpoints$/);
  await pickQuickItem(page, `Every checkpoint (${checkpointFiles(c.workspace).length})`);
  await pickQuickItem(page, '10 random pairs');
  const panel = await waitFor('the barrier matrix panel', async () => {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const inner = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if ((await inner.locator('#chart-matrix').count().catch(() => 0)) > 0) return inner;
      const err = await textOf(inner, '#error').catch(() => '');
      if (err) throw new CheckFailed(`the barrier panel shows an error: ${err}`);
    }
    return undefined;
  }, 180_000);
  const heat = await waitFor('the heatmap', async () => {
    const tr = await panel.locator('#chart-matrix').evaluate((el: any) => (Array.isArray(el.data) ? el.data.map((t: any) => ({ type: String(t.type), rows: Array.isArray(t.z) ? t.z.length : 0 })) : undefined));
    return tr && tr.length ? tr : undefined;
  }, 20_000);
  const tree = await readTraces(panel, 'chart-tree');
  const rows = await panel.locator('#pairs-table tbody tr').count();
  const n = checkpointFiles(c.workspace).length;
  await clearNotifications(page);
  await c.shot('11-barrier-matrix');
  await panel.locator('#chart-pair').scrollIntoViewIfNeeded().catch(() => undefined);
  await c.shot('12-barrier-matrix-pair');
  expect(heat[0].type === 'heatmap' && heat[0].rows === n, `#chart-matrix is ${JSON.stringify(heat)}, expected one ${n}-row heatmap`);
  expect(tree && tree.some((t) => t.name === 'minima' && t.n === n), `#chart-tree has no "minima" trace with ${n} leaves`);
  expect(rows === 10, `#pairs-table lists ${rows} pairs, expected 10`);
  expect(fs.existsSync(path.join(c.workspace, 'runs', 'barriers.json')), 'runs/barriers.json was not written');
  return `${n} minima, ${rows} pairs: heatmap ${heat[0].rows}×${heat[0].rows}, dendrogram with ${n} leaves; ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** A setting from the fixture's .vscode/settings.json, or its default. */
function fixtureSetting(key: string, fallback: number): number {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(fixture, '.vscode', 'settings.json'), 'utf8'))[key];
    return typeof v === 'number' ? v : fallback;
  } catch {
    return fallback;
  }
}

/**
 * A slice from the explorer: right-click the first run's final checkpoint, "Plot Slice Around",
 * the random-direction (1D) kind; the panel draws the training loss as a Plotly line with
 * landscape.slice.points1d points and the checkpoint marked, and the result is saved beside it.
 */
async function checkPlotSliceAround(c: Context): Promise<string> {
  const { page } = c;
  const expected = fixtureSetting('landscape.slice.points1d', 41);
  const file = checkpointFiles(c.workspace).filter((f) => f.endsWith('/final.safetensors')).sort()[0];
  expect(file, 'no runs/<run>/final.safetensors to right-click: training wrote none');
  const t0 = Date.now();
  await runCommand(page, 'View: Close All Editors');
  await clearNotifications(page);
  await contextMenu(c, file, /^Plot Slice Around$/, '15-slice-context-menu');
  await pickQuickItem(page, 'Random direction');
  const panel = await waitFor('the slice panel', async () => {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const inner = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if ((await inner.locator('#chart-slice').count().catch(() => 0)) > 0) return inner;
      const err = await textOf(inner, '#error').catch(() => '');
      if (err) throw new CheckFailed(`the slice panel shows an error: ${err}`);
    }
    return undefined;
  }, 120_000);
  const traces = await waitFor('the slice chart\'s traces', async () => {
    const tr = await readTraces(panel, 'chart-slice');
    return tr && tr.some((t) => t.name === 'training loss' && t.n > 0) ? tr : undefined;
  }, 20_000);
  const line = traces.find((t) => t.name === 'training loss')!;
  const marks = traces.find((t) => t.name === 'checkpoints');
  const mode = await panel.locator('#chart-slice').evaluate((el: any) => String(el.data?.[0]?.mode ?? ''));
  const summary = await textOf(panel, '#slice-summary');
  await clearNotifications(page);
  await c.shot('16-slice-random');
  expect(mode === 'lines', `#chart-slice's "training loss" trace is drawn as "${mode}", expected a line`);
  expect(line.n === expected, `the slice line has ${line.n} points, expected landscape.slice.points1d = ${expected}`);
  const bad = line.y.filter((v) => !Number.isFinite(v) || v <= 0);
  expect(bad.length === 0, `slice losses must be finite and positive; got ${bad.slice(0, 5).join(', ')}`);
  expect(marks?.n === 1, `#chart-slice marks ${marks?.n ?? 0} checkpoints, expected the one it goes through`);
  const saved = path.join(c.workspace, path.posix.dirname(file), 'final.random.slice.json');
  expect(fs.existsSync(saved), `${path.posix.dirname(file)}/final.random.slice.json was not written`);
  const json = JSON.parse(fs.readFileSync(saved, 'utf8')) as { formatVersion?: number; kind?: string; dims?: string };
  expect(json.formatVersion === 2 && json.kind === 'slice' && json.dims === '1d', `${saved} is not a 1D slice result file (format 2)`);
  return `${file}: ${line.n} points, loss ${Math.min(...line.y).toPrecision(3)} to ${Math.max(...line.y).toPrecision(3)}; "${summary.slice(0, 100)}"; ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/**
 * Compare Optimizers with the quick preset (about 2 minutes on 2 cores, so only when
 * LANDSCAPE_E2E_STUDY=1): the side panel's live charts follow each run with its name, then the
 * report opens in a panel with its verdicts.
 */
async function checkCompareOptimizers(c: Context): Promise<string> {
  const { page } = c;
  const t0 = Date.now();
  await runCommand(page, 'View: Close All Editors');
  await runCommand(page, 'Landscape: Open Panel');
  const side = await webviewWith(page, '#chart-loss', 60_000);
  await runCommand(page, 'Landscape: Compare Optimizers');
  await pickQuickItem(page, 'Quick');
  const seen = new Set<string>();
  let shot = false;
  const deadline = Date.now() + 300_000;
  let report: FrameLocator | undefined;
  while (!report) {
    expect(Date.now() < deadline, `no report within 300 s; runs seen in the side panel: ${[...seen].join(', ') || '(none)'}`);
    const label = await textOf(side, '#live-run').catch(() => '');
    const status = await textOf(side, '#status').catch(() => '');
    const m = /study · ([a-z]+-s\d+)/.exec(label);
    if (m) seen.add(m[1]);
    if (!shot && m && /epoch [1-9]/.test(status)) {
      shot = true;
      await c.shot('13-study-side-panel');
    }
    expect(!/study failed/.test(status), `the study failed: ${status}`);
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n && !report; i++) {
      const inner = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if ((await inner.locator('#verdicts tbody tr').count().catch(() => 0)) > 0) report = inner;
    }
    if (!report) await sleep(1000);
  }
  const verdicts = await report.locator('#verdicts tbody tr').allInnerTexts();
  const plots = await report.locator('.plot .main-svg').count();
  await clearNotifications(page);
  await c.shot('14-study-report');
  expect(seen.size >= 2, `the side panel named ${seen.size} study runs (${[...seen].join(', ')}), expected the SGD and L-BFGS runs`);
  expect(verdicts.length === 3, `the report lists ${verdicts.length} verdicts, expected 3`);
  expect(plots > 0, 'the report drew no Plotly chart (its inline scripts did not run?)');
  return `runs seen live: ${[...seen].join(', ')}; ${verdicts.length} verdicts, ${plots} Plotly figures; ${((Date.now() - t0) / 1000).toFixed(0)} s`;
}

// ---------------------------------------------------------------------------------------------
// Runner

const CHECKS: { name: string; fn: (c: Context) => Promise<string> }[] = [
  { name: 'palette "Landscape: Train" streams a growing loss chart to the side panel', fn: checkTrainLive },
  { name: 'opening a checkpoint shows its tensors in the checkpoint viewer', fn: checkViewerTensors },
  { name: 'explorer context menu "Inspect Checkpoint" shows the metadata', fn: checkContextMenuInspect },
  { name: 'Set as Minimum A, then "Compute Barrier to Minimum A" shows the straight and optimized paths with the barrier numbers', fn: checkBarrierToMinimumA },
  { name: 'a saved .path.json reopens in the result panel without recomputing', fn: checkReopenPathResult },
  {
    name: 'with landscape.path.method "bezier", "Compute Barrier to Minimum A" trains a Bezier curve and draws it bent',
    fn: (c) => checkBezierCurve({ ...c, contextMenu: (file, entry) => contextMenu(c, file, entry) }),
  },
  { name: 'explorer "Barriers Between Checkpoints" on a folder shows the barrier heatmap and the disconnectivity graph', fn: checkBarriersBetweenFolder },
  { name: 'explorer "Plot Slice Around" > random direction draws the loss along a line with the expected number of points', fn: checkPlotSliceAround },
  { name: 'checkpoint metadata holding HTML or script shows as text', fn: checkHostileMetadata },
  { name: 'the side panel opened again draws its chart (felt speed once the workbench\'s service worker is installed)', fn: checkSidePanelReopened },
  { name: 'a LeNet run on Fashion-MNIST: the viewer draws its filters, Plot Slice draws its trajectory plane, the Hessian panel its density and per-layer curvature', fn: checkCnnWalkthrough },
  // About 2 minutes more: on request only (LANDSCAPE_E2E_STUDY=1), so the default run stays short.
  ...(process.env.LANDSCAPE_E2E_STUDY === '1'
    ? [{ name: '"Compare Optimizers" (quick) streams its runs to the side panel and opens the report', fn: checkCompareOptimizers }]
    : []),
  // Last: it adds runs/instability-*/ with its parent and copies, which the checks above would count as runs.
  { name: 'palette "Instability Analysis" trains the copies and shows the barrier against the spawn epoch', fn: checkInstability },
];

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'explorer.autoReveal': true,
  // One row per folder, so the test can walk runs/<run>/checkpoints/ by name and tree level.
  'explorer.compactFolders': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
};

async function main(): Promise<number> {
  const started = Date.now();
  const results: { name: string; ok: boolean; msg: string }[] = [];
  const latencies: Latency[] = [];
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let tmp: string | undefined;
  let opts: Options | undefined;
  let cleaned: Promise<void> | undefined;
  let userDataDir = '';

  const cleanup = (keepLogs: boolean) =>
    (cleaned ??= (async () => {
      if (browser) await Promise.race([browser.close().catch(() => undefined), sleep(10_000)]);
      if (server) await server.stop();
      if (keepLogs && userDataDir && fs.existsSync(path.join(userDataDir, 'logs'))) {
        // VS Code's own logs (extension host, renderer) say why an extension misbehaved.
        fs.cpSync(path.join(userDataDir, 'logs'), path.join(outDir, 'vscode-logs'), { recursive: true });
      }
      if (tmp && !opts?.keep) fs.rmSync(tmp, { recursive: true, force: true });
      else if (tmp) console.log(`kept ${tmp}`);
    })());

  let aborted = false;
  let finished: number | undefined;
  const finish = (code: number) => {
    // Printed once, whichever of the normal path and an abort gets here first.
    if (finished !== undefined) return finished;
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    for (const l of latencies) console.log(`e2e: felt speed: ${formatLatency(l)}`);
    console.log(`e2e: ${((Date.now() - started) / 1000).toFixed(0)} s; artifacts in ${path.relative(process.cwd(), outDir) || outDir}`);
    console.log(`${passed} passed, ${failed} failed`);
    finished = failed > 0 || code !== 0 ? 1 : 0;
    return finished;
  };

  const failRemaining = (why: string) => {
    for (const ch of CHECKS.slice(results.length)) {
      results.push({ name: ch.name, ok: false, msg: why });
      console.log(`not ok - ${ch.name}: ${why}`);
    }
  };

  // A hard limit for the whole run, cleanup included: a hung page or server never blocks CI.
  const onAbort = (why: string) => {
    if (aborted || finished !== undefined) return;
    aborted = true;
    console.log(`e2e: ${why}; stopping code-server and Chromium`);
    failRemaining(why);
    void Promise.race([cleanup(true), sleep(20_000)]).finally(() => process.exit(finish(1)));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => onAbort(`interrupted by ${sig}`));

  let hardTimer: NodeJS.Timeout | undefined;
  try {
    opts = parseArgs(process.argv.slice(2));
    hardTimer = setTimeout(() => onAbort(`hard timeout of ${opts!.timeoutS} s reached`), opts.timeoutS * 1000);

    const exp = readExperiment();
    const paths = resolveInstall();
    fs.mkdirSync(outDir, { recursive: true });
    for (const f of fs.readdirSync(outDir)) fs.rmSync(path.join(outDir, f), { recursive: true, force: true });

    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-e2e-'));
    const workspace = path.join(tmp, 'workspace');
    userDataDir = path.join(tmp, 'user-data');
    const extensionsDir = path.join(tmp, 'extensions');
    // Training writes runs/ into the workspace: always into this copy, never into the repo.
    fs.cpSync(fixture, workspace, { recursive: true });
    fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
    fs.mkdirSync(extensionsDir);
    const csOpts = { paths, userDataDir, extensionsDir, logFile: path.join(outDir, 'code-server.log') };

    console.log(`e2e: installing ${path.relative(process.cwd(), opts.vsix)} into code-server`);
    await installExtension(csOpts, opts.vsix);
    const installed = fs.readdirSync(extensionsDir).filter((d) => !d.startsWith('.') && d !== 'extensions.json');
    if (installed.length === 0) throw new Error(`--install-extension reported success but ${extensionsDir} is empty`);
    console.log(`e2e: installed ${installed.join(', ')}`);

    server = await startCodeServer(csOpts, workspace);
    console.log(`e2e: code-server ${server.url} (pid ${server.child.pid})`);

    browser = await chromium.launch({ executablePath: paths.chromium, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const consoleLog = path.join(outDir, 'browser-console.log');
    page.on('console', (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
    context.on('request', (r) => {
      const u = new URL(r.url());
      if (/^https?:$|^wss?:$/.test(u.protocol) && u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
        fs.appendFileSync(consoleLog, `[non-loopback request] ${r.url()}\n`);
      }
    });

    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
    await waitForWorkbench(page);
    // The extension's activity-bar container appears once the extension host has registered it.
    await waitForActivityBarItem(page, 'Landscape').catch(() => {
      throw new Error('the "Landscape" activity-bar container never appeared: was the extension installed and did it load? See vscode-logs/');
    });

    const ctx: Context = {
      page,
      workspace,
      exp,
      latencies,
      hostLog: () => readHostLog(userDataDir),
      shot: async (name) => {
        await page.screenshot({ path: path.join(outDir, `${name}.png`) }).catch((e: Error) => console.log(`e2e: screenshot ${name} failed: ${e.message}`));
      },
    };
    for (const ch of CHECKS) {
      const t = Date.now();
      try {
        const detail = await ch.fn(ctx);
        if (aborted) break;
        results.push({ name: ch.name, ok: true, msg: detail });
        console.log(`ok - ${ch.name} (${((Date.now() - t) / 1000).toFixed(1)} s): ${detail}`);
      } catch (e) {
        if (aborted) break;
        const msg = e instanceof Error ? e.message : String(e);
        results.push({ name: ch.name, ok: false, msg });
        console.log(`not ok - ${ch.name} (${((Date.now() - t) / 1000).toFixed(1)} s): ${msg}`);
        await page.screenshot({ path: path.join(outDir, `failed-${results.length}.png`) }).catch(() => undefined);
        await page.keyboard.press('Escape').catch(() => undefined);
      }
    }
  } catch (e) {
    if (aborted) return new Promise<number>(() => undefined); // the abort handler exits
    const msg = e instanceof Error ? e.message : String(e);
    console.log(`e2e: setup failed: ${msg}`);
    failRemaining(`not run: setup failed (${msg.split('\n')[0]})`);
  } finally {
    if (hardTimer) clearTimeout(hardTimer);
    await cleanup(results.some((r) => !r.ok));
  }
  if (aborted) return new Promise<number>(() => undefined); // the abort handler exits
  return finish(0);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
