// End-to-end walkthrough of a convolutional network in the real VS Code (code-server + Chromium):
// a LeNet-5 run on Fashion-MNIST (300 rows, from Debian's dataset-fashion-mnist) trained with the
// CLI into the workspace, then what a user clicks on its final checkpoint in the explorer:
//   1. Inspect Checkpoint: the viewer lists the layers and draws the first convolution's 6 filters;
//   2. Plot Slice Around > Trajectory plane of its run: a contour with the run's checkpoints drawn
//      on it and the explained variance in the title;
//   3. Hessian Spectrum and Stability: the top eigenvalue, the eigenvalue density chart, and a
//      per-layer table with one row per layer that has parameters.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { menuItem, pickQuickItem, readTraces, revealInExplorer, runCommand, sleep, textOf, waitFor, webviewWith } from './workbench';

export interface CnnContext {
  page: Page;
  workspace: string;
  shot(name: string): Promise<void>;
}

const RUN = 'cnn/run';
const FINAL = `${RUN}/final.safetensors`;
/** lenet: conv(6,5,pad=2) relu maxpool conv(16,5) relu maxpool flatten dense(120) relu dense(84) relu dense(10). */
const FIRST_CONV_FILTERS = 6;
const LAYERS_WITH_PARAMETERS = 5;
const EPOCHS = 3;

function expect(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Trains the run with the built CLI (dist/cli.js, which `npm run package` has just built). */
function trainCnnRun(workspace: string): void {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
  const args = ['train', '--dataset', 'fashion-mnist', '--model', 'lenet', '--subset', '300', '--epochs', String(EPOCHS), '--checkpoint-every', '1', '--seed', '1', '--out', path.join(workspace, RUN)];
  execFileSync(process.execPath, [cli, ...args], { stdio: 'ignore', timeout: 180_000 });
  expect(fs.existsSync(path.join(workspace, FINAL)), `landscape ${args.join(' ')} wrote no ${FINAL}`);
}

async function fromExplorerMenu(c: CnnContext, entry: RegExp): Promise<void> {
  await runCommand(c.page, 'View: Close All Editors');
  const row = await revealInExplorer(c.page, FINAL);
  await row.click({ button: 'right' });
  const item = menuItem(c.page, entry);
  await item.first().waitFor({ state: 'visible', timeout: 10_000 });
  await item.first().hover();
  await sleep(400); // the menu fades in
  await item.first().click();
}

async function checkFilters(c: CnnContext): Promise<string> {
  await fromExplorerMenu(c, /^Inspect Checkpoint$/);
  const viewer = await webviewWith(c.page, 'figure.filters canvas', 60_000);
  const filters = await viewer.locator('figure.filters canvas').count();
  const layers = await viewer.locator('ol.layers li').count();
  await c.shot('20-cnn-filters');
  expect(filters === FIRST_CONV_FILTERS, `the viewer draws ${filters} filters, expected the first convolution's ${FIRST_CONV_FILTERS}`);
  expect(layers >= 8, `the viewer lists ${layers} layers of lenet`);
  return `${filters} filters, ${layers} layers`;
}

async function checkTrajectoryPlane(c: CnnContext): Promise<string> {
  await fromExplorerMenu(c, /^Plot Slice Around$/);
  await pickQuickItem(c.page, 'Trajectory plane of its run');
  const panel = await webviewWith(c.page, '#chart-slice', 180_000);
  const traces = await waitFor('the trajectory on the contour', async () => {
    const tr = await readTraces(panel, 'chart-slice');
    return tr?.some((t) => t.name === 'trajectory' && t.n > 0) ? tr : undefined;
  }, 30_000);
  const trajectory = traces.find((t) => t.name === 'trajectory')!;
  const title = await textOf(panel, '.chart-card h3');
  await c.shot('21-cnn-trajectory-plane');
  expect(trajectory.n === EPOCHS, `the trajectory has ${trajectory.n} points, expected one per epoch checkpoint (${EPOCHS}, the last being the final weights)`);
  expect(/explain|variance|%/i.test(title), `the chart title "${title}" does not state the explained variance`);
  expect(fs.existsSync(path.join(c.workspace, RUN, 'run.trajectory.slice.json')), `${RUN}/run.trajectory.slice.json was not saved`);
  return `${trajectory.n} checkpoints on the plane; "${title.slice(0, 80)}"`;
}

async function checkHessianPanel(c: CnnContext): Promise<string> {
  await fromExplorerMenu(c, /^Hessian Spectrum and Stability$/);
  const panel = await webviewWith(c.page, '#chart-density', 300_000);
  const density = await waitFor('the density chart', async () => {
    const tr = await readTraces(panel, 'chart-density');
    return tr?.find((t) => t.n > 0);
  }, 30_000);
  const rows = await panel.locator('#per-layer-table tbody tr').count();
  const verdict = await textOf(panel, '#verdict');
  await c.shot('22-cnn-hessian');
  await panel.locator('#per-layer-table').scrollIntoViewIfNeeded().catch(() => undefined);
  await c.shot('22b-cnn-per-layer');
  expect(density.y.every((v) => Number.isFinite(v) && v >= 0), 'the density has negative or non-finite values');
  expect(rows === LAYERS_WITH_PARAMETERS, `the per-layer table has ${rows} rows, expected ${LAYERS_WITH_PARAMETERS} (one per layer with parameters)`);
  return `density of ${density.n} points, ${rows} layers; "${verdict.slice(0, 80)}"`;
}

/** The whole walkthrough; each step's failure names what the user would have seen. */
export async function checkCnnWalkthrough(c: CnnContext): Promise<string> {
  trainCnnRun(c.workspace);
  const steps = [await checkFilters(c), await checkTrajectoryPlane(c), await checkHessianPanel(c)];
  return steps.join('; ');
}
