// End-to-end check of a mode-connecting curve in VS Code: with the setting landscape.path.method
// set to "bezier", "Compute Barrier to Minimum A" on the pair of the first barrier check trains a
// quadratic Bezier curve (no "computed before" question: the curve is saved beside the Fourier
// path, as <A>__<B>.bezier.path.json); the result panel names the method, draws the bent curve in
// the plane of A, B and the bend, and the saved file carries the bend. The setting is put back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { readTraces, runCommand, textOf, waitFor, webviewWith } from './workbench';

export interface CurveContext {
  page: Page;
  workspace: string;
  shot(name: string): Promise<void>;
  /** Right-click a workspace file in the explorer and pick a menu entry. */
  contextMenu(file: string, entry: RegExp): Promise<void>;
}

function expect(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** The first barrier check's saved path (runs/<A's run>/<A>__<B>.path.json) and its two checkpoints, workspace-relative. */
function firstSavedPath(workspace: string): { file: string; a: string; b: string } {
  const runs = path.join(workspace, 'runs');
  for (const run of fs.readdirSync(runs).sort()) {
    const dir = path.join(runs, run);
    if (!fs.statSync(dir).isDirectory()) continue;
    const saved = fs.readdirSync(dir).find((f) => f.endsWith('.path.json') && !/\.(bezier|polychain)\.path\.json$/.test(f));
    if (!saved) continue;
    const doc = JSON.parse(fs.readFileSync(path.join(dir, saved), 'utf8')) as { a: string; b: string };
    // A saved path names its checkpoints relative to its own folder.
    const rel = (p: string) => path.relative(workspace, path.resolve(dir, p)).split(path.sep).join('/');
    return { file: path.join(dir, saved), a: rel(doc.a), b: rel(doc.b) };
  }
  throw new Error('no saved .path.json under runs/ (the first barrier check did not save one)');
}

/** Sets one workspace setting in .vscode/settings.json; returns a function that puts the file back. */
function setWorkspaceSetting(workspace: string, key: string, value: unknown): () => void {
  const file = path.join(workspace, '.vscode', 'settings.json');
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...(before ? JSON.parse(before) : {}), [key]: value }, null, 2));
  return () => (before === undefined ? fs.rmSync(file) : fs.writeFileSync(file, before));
}

export async function checkBezierCurve(c: CurveContext): Promise<string> {
  const saved = firstSavedPath(c.workspace);
  const restore = setWorkspaceSetting(c.workspace, 'landscape.path.method', 'bezier');
  try {
    await runCommand(c.page, 'View: Close All Editors');
    await c.contextMenu(saved.b, /^Compute Barrier to Minimum A$/);
    const panel = await webviewWith(c.page, '#chart-plane', 240_000);
    const method = await waitFor('the settings table', async () => (await textOf(panel, '#path-settings').catch(() => '')) || undefined, 20_000);
    const curve = await waitFor('the curve in the plane', async () => (await readTraces(panel, 'chart-plane'))?.find((t) => t.name === 'optimized path' && t.n > 0), 20_000);
    await panel.locator('#chart-plane').scrollIntoViewIfNeeded().catch(() => undefined);
    await c.shot('24-bezier-curve');
    expect(/method\s*bezier/.test(method), `the settings table does not name the bezier method: "${method.slice(0, 120)}"`);
    const bend = Math.max(...curve.y.map(Math.abs));
    expect(bend > 0, 'the curve is drawn flat: a trained bend lies off the straight line');
    // Saved beside the FourierPathFinder result, as <A>__<B>.bezier.path.json.
    const curveFile = saved.file.replace(/\.path\.json$/, '.bezier.path.json');
    expect(fs.existsSync(curveFile), `${path.basename(curveFile)} was not saved beside ${path.basename(saved.file)}`);
    const doc = JSON.parse(fs.readFileSync(curveFile, 'utf8')) as { method?: string; bend?: number[]; height?: number; heights?: { straight: number; optimized: number } };
    expect(doc.method === 'bezier' && Array.isArray(doc.bend) && doc.bend.length > 0, `${curveFile} is not a bezier result with its bend (method ${doc.method})`);
    return `${saved.a} ↔ ${saved.b}: H ${doc.height?.toPrecision(4)} reported (trained curve ${doc.heights?.optimized.toPrecision(4)}, straight line ${doc.heights?.straight.toPrecision(4)}); ` +
      `the curve leaves the line by up to ${bend.toPrecision(3)} in the plane; bend of ${doc.bend.length} parameters saved`;
  } finally {
    restore();
  }
}
