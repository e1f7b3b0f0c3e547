// End-to-end check that a checkpoint whose metadata holds HTML and script shows it as text in the
// real checkpoint viewer (code-server + Chromium), and that nothing in it runs.
//
// Wire it into test/e2e/run.ts by adding to CHECKS:
//   { name: 'checkpoint metadata holding HTML or script shows as text', fn: checkHostileMetadata },
// (import { checkHostileMetadata } from './hostile'). It writes its own checkpoint into the workspace,
// so it does not depend on training having run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { encodeCheckpoint } from '../../src/engine/checkpoint/checkpoint';
import { makeSpec, paramCount } from '../../src/engine/model/spec';
import { quickOpen, runCommand, webviewWith } from './workbench';

export interface HostileContext {
  page: Page;
  workspace: string;
  shot(name: string): Promise<void>;
}

/** Metadata values and keys that would run code or show as markup if parsed as HTML. */
export const HOSTILE_METADATA: Record<string, string> = {
  dataset: '<img src=x onerror="window.__pwned=\'img\'">',
  optimizer: '<b>bold</b>',
  note: '<script>window.__pwned="script"</script>',
  '<svg onload="window.__pwned=1">': '"><iframe src="javascript:parent.__pwned=2"></iframe>',
  link: '<a href="javascript:window.__pwned=3">click</a>',
};

export const HOSTILE_FILE = 'hostile/metadata.safetensors';

/** Write a valid 2-4-2 checkpoint with the hostile metadata; returns its path. */
export function writeHostileCheckpoint(workspace: string): string {
  const spec = makeSpec('2-4-2');
  const theta = Float32Array.from({ length: paramCount(spec) }, (_, i) => Math.sin(i + 1) * 0.5);
  const { dataset, optimizer, ...extra } = HOSTILE_METADATA;
  const file = path.join(workspace, HOSTILE_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeCheckpoint(spec, theta, { dataset, optimizer, epoch: '1', time: '2026-01-01T00:00:00.000Z' }, extra));
  return file;
}

/** The DOM we read inside the page (tsconfig has no DOM lib). */
interface El {
  tagName: string;
  textContent: string | null;
  attributes: ArrayLike<{ name: string; value: string }>;
  querySelector(s: string): El | null;
  querySelectorAll(s: string): ArrayLike<El>;
}

function expect(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export async function checkHostileMetadata(c: HostileContext): Promise<string> {
  const { page } = c;
  writeHostileCheckpoint(c.workspace);
  await runCommand(page, 'View: Close All Editors');
  await quickOpen(page, HOSTILE_FILE);
  const viewer = await webviewWith(page, '#metadata-table tr', 60_000);
  // Give any injected handler (onerror, onload) the chance to fire before looking.
  await page.waitForTimeout(1000);
  const seen = await viewer.locator('#app').evaluate((app: El) => {
    const rows = Array.from(app.querySelectorAll('#metadata-table tr')).map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']);
    const markup: string[] = [];
    for (const el of Array.from(app.querySelectorAll('*'))) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'img', 'iframe', 'b', 'object', 'embed'].includes(tag)) markup.push(tag);
      for (const a of Array.from(el.attributes)) {
        if (/^on/i.test(a.name)) markup.push(`${tag}[${a.name}]`);
        if (/^\s*javascript:/i.test(a.value)) markup.push(`${tag}[${a.name}=javascript:]`);
      }
    }
    return { rows, markup, pwned: (globalThis as unknown as Record<string, unknown>).__pwned ?? null };
  });
  await c.shot('hostile-metadata');
  expect(seen.markup.length === 0, `the checkpoint viewer holds markup made from metadata: ${seen.markup.join(', ')}`);
  expect(seen.pwned === null, `a script from the metadata ran (window.__pwned = ${String(seen.pwned)})`);
  const shown = new Map(seen.rows as [string, string][]);
  for (const [k, v] of Object.entries(HOSTILE_METADATA)) {
    expect(shown.get(k) === v, `metadata "${k}" shows as ${JSON.stringify(shown.get(k) ?? '(missing)')}, expected the literal text ${JSON.stringify(v)}`);
  }
  return `${HOSTILE_FILE}: ${Object.keys(HOSTILE_METADATA).length} hostile metadata entries shown as text, no markup, nothing ran`;
}
