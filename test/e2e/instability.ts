// End-to-end check of Landscape: Instability Analysis from the palette: the experiment of the
// workspace's landscape.json as the parent, spawn epochs typed into the input box, then the
// result panel with the barrier against k and a row per spawn epoch. Late spawn epochs keep it
// short; copies spawned at the last epoch take no step, so their barrier must read 0.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { answerInputBox, readTraces, runCommand, textOf, waitFor, webviewWith } from './workbench';

export interface InstabilityContext {
  page: Page;
  workspace: string;
  exp: { epochs: number };
  shot(name: string): Promise<void>;
}

function expect(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export async function checkInstability(c: InstabilityContext): Promise<string> {
  const last = c.exp.epochs;
  const spawn = [last - 2, last - 1, last];
  await runCommand(c.page, 'View: Close All Editors');
  await runCommand(c.page, 'Landscape: Instability Analysis');
  await answerInputBox(c.page, spawn.join(','));
  const panel = await webviewWith(c.page, '#chart-instability', 300_000);
  const trace = await waitFor('the barrier against k', async () => (await readTraces(panel, 'chart-instability'))?.find((t) => t.n > 0), 30_000);
  const rows = await panel.locator('#spawn-table tbody tr').allInnerTexts();
  const verdict = await textOf(panel, '#verdict');
  await c.shot('23-instability');
  expect(trace.n === spawn.length, `the chart has ${trace.n} spawn epochs, expected ${spawn.length}`);
  expect(rows.length === spawn.length, `the table has ${rows.length} rows, expected ${spawn.length}`);
  const lastRow = rows[rows.length - 1].split(/\s+/);
  expect(lastRow[0] === String(last) && Number(lastRow[1]) === 0, `copies spawned at the last epoch are the parent, so their barrier is 0; the row reads "${rows[rows.length - 1]}"`);
  const runs = path.join(c.workspace, 'runs');
  const folder = fs.readdirSync(runs).find((d) => d.startsWith('instability-') && fs.existsSync(path.join(runs, d, 'instability.json')));
  expect(folder, 'no runs/instability-*/instability.json was written');
  return `${folder}: barrier / loss ${trace.y.map((v) => v.toPrecision(2)).join(', ')} at k = ${spawn.join(', ')}; "${verdict.slice(0, 90)}"`;
}
