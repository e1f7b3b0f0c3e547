// Driving the VS Code workbench the way a user does: the palette, quick open, the explorer and its
// context menu, and reading inside webviews. Selectors here are VS Code's own DOM (stable across
// recent releases); the extension's selectors live in run.ts.
import type { FrameLocator, Locator, Page } from 'playwright-core';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a non-undefined value or `timeoutMs` passes; `what` names the wait in the error. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

export async function waitForWorkbench(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  // The explorer's first rows mean the workspace folder is open and the file service is up.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

const quickInput = (page: Page) => page.locator('.quick-input-widget');
const quickInputBox = (page: Page) => page.locator('.quick-input-widget .quick-input-box input');

async function closeQuickInput(page: Page): Promise<void> {
  if (await quickInput(page).isVisible()) {
    await page.keyboard.press('Escape');
    await quickInput(page).waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  }
}

/** Label of the row the quick input would run on Enter (VS Code marks it `.focused`). */
async function focusedQuickPickLabel(page: Page): Promise<string | undefined> {
  const row = page.locator('.quick-input-list .monaco-list-row.focused').first();
  if ((await row.count()) === 0) return undefined;
  const label = row.locator('.label-name').first();
  return ((await label.count()) ? await label.innerText() : await row.innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * Waits until the workbench knows an extension's contributions: its activity-bar container is
 * drawn. Before that the palette does not list the extension's commands.
 */
export async function waitForActivityBarItem(page: Page, label: string, timeoutMs = 90_000): Promise<void> {
  await page
    .locator(`.part.activitybar .action-item [aria-label^="${label}"]`)
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * Runs a command as a user does: F1, type its title, Enter. Before pressing Enter it checks that
 * the highlighted entry is exactly that title, so a similarly named command is never run instead.
 * The palette lists the commands known when it opened, so if the title is missing (an extension
 * still starting) it is closed and opened again until `timeoutMs`. Resolves to the moment (Date.now())
 * Enter was pressed, so a caller can time what the command shows.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let offered: string[] = [];
  for (;;) {
    await closeQuickInput(page);
    await page.keyboard.press('F1');
    await quickInputBox(page).waitFor({ state: 'visible', timeout: timeoutMs });
    await quickInputBox(page).fill(`>${title}`);
    const ready = await waitFor(
      `the palette to offer "${title}"`,
      async () => {
        const label = await focusedQuickPickLabel(page);
        if (label === title) return true;
        // Fuzzy matching may rank a longer title first ("Landscape: Focus on Training View" for
        // "Landscape: Train"): move the highlight down onto the exact entry, if the list has it.
        offered = (await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts()).map((l) => l.trim());
        if (label !== undefined && offered.includes(title)) await page.keyboard.press('ArrowDown');
        return undefined;
      },
      Math.max(1000, Math.min(5000, deadline - Date.now())),
      200,
    ).catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await closeQuickInput(page);
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for the palette to offer "${title}"; ` +
          `it offered: ${offered.slice(0, 8).join(' | ') || '(nothing)'}`,
      );
    }
  }
  const entered = Date.now();
  await page.keyboard.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
  return entered;
}

/** Answers the input box a command opened: replaces its text with `text` and presses Enter. */
export async function answerInputBox(page: Page, text: string, timeoutMs = 20_000): Promise<void> {
  await quickInputBox(page).waitFor({ state: 'visible', timeout: timeoutMs });
  await quickInputBox(page).fill(text);
  await page.keyboard.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
}

/** Picks the entry `label` of the quick pick a command opened (type it, check it is highlighted, Enter). */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 20_000): Promise<void> {
  await quickInputBox(page).waitFor({ state: 'visible', timeout: timeoutMs });
  await quickInputBox(page).fill(label);
  await waitFor(`the quick pick to offer "${label}"`, async () => ((await focusedQuickPickLabel(page)) === label ? true : undefined), timeoutMs, 200);
  await page.keyboard.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
}

/** Opens a workspace file through quick open (Ctrl+P, type its path, Enter); resolves to the moment Enter was pressed. */
export async function quickOpen(page: Page, relPath: string, timeoutMs = 20_000): Promise<number> {
  await closeQuickInput(page);
  await page.keyboard.press('Control+P');
  await quickInputBox(page).waitFor({ state: 'visible', timeout: timeoutMs });
  await quickInputBox(page).fill(relPath);
  const base = relPath.split('/').pop()!;
  await waitFor(
    `quick open to offer ${relPath}`,
    async () => ((await focusedQuickPickLabel(page)) === base ? true : undefined),
    timeoutMs,
    200,
  ).catch(async (e: Error) => {
    await closeQuickInput(page);
    throw e;
  });
  const entered = Date.now();
  await page.keyboard.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs }).catch(() => undefined);
  return entered;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The explorer row for a path relative to the workspace root, expanding its folders on the way. */
export async function revealInExplorer(page: Page, relPath: string, timeoutMs = 20_000): Promise<Locator> {
  await runCommand(page, 'View: Show Explorer');
  const tree = page.locator('.explorer-folders-view');
  await tree.waitFor({ state: 'visible', timeout: timeoutMs });
  const parts = relPath.split('/');
  let row: Locator | undefined;
  let parentIndex = -1;
  for (let i = 0; i < parts.length; i++) {
    // aria-level is 1 for the workspace's top-level entries; the level keeps a "checkpoints" folder
    // of one run apart from a file of the same name elsewhere, and the list index (data-index) of
    // the parent keeps two runs' final.safetensors apart: the child is the first row below its
    // parent at the next level, before the parent's next sibling.
    const index = await childRowIndex(tree, parentIndex, i + 1, parts[i], timeoutMs);
    row = index !== undefined
      ? tree.locator(`.monaco-list-row[data-index="${index}"]`).first()
      : tree.locator(`.monaco-list-row[aria-level="${i + 1}"][aria-label="${parts[i]}"]`).first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs }).catch(async () => {
      // Long trees are virtualised: bring the row into the DOM by scrolling.
      await tree.hover();
      for (let k = 0; k < 20 && !(await row!.isVisible()); k++) await page.mouse.wheel(0, 300);
      await row!.waitFor({ state: 'visible', timeout: 2000 });
    });
    parentIndex = Number((await row.getAttribute('data-index')) ?? -1);
    if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
      await row.click();
      await waitFor(`explorer folder ${parts.slice(0, i + 1).join('/')} to expand`, async () =>
        (await row!.getAttribute('aria-expanded')) === 'true' ? true : undefined, timeoutMs);
    }
  }
  await row!.scrollIntoViewIfNeeded();
  return row!;
}

/** The list index of `label` at `level` under the row with index `parentIndex` (-1: the top), if it is drawn. */
async function childRowIndex(tree: Locator, parentIndex: number, level: number, label: string, timeoutMs: number): Promise<number | undefined> {
  return waitFor(
    `explorer row ${label} at level ${level}`,
    async () => {
      const rows = await tree.locator('.monaco-list-row').evaluateAll((els: any[]) =>
        els.map((e) => ({ index: Number(e.getAttribute('data-index')), level: Number(e.getAttribute('aria-level')), label: String(e.getAttribute('aria-label') ?? '') })),
      );
      rows.sort((x, y) => x.index - y.index);
      for (const r of rows) {
        if (r.index <= parentIndex) continue;
        if (r.level < level) return undefined; // past the parent's subtree
        if (r.level === level && r.label === label) return r.index;
      }
      return undefined;
    },
    Math.min(timeoutMs, 5000),
    150,
  ).catch(() => undefined);
}

/** A context menu entry (VS Code draws its own menus, in a shadow root Playwright pierces). */
export function menuItem(page: Page, label: RegExp): Locator {
  return page.locator('.monaco-menu .action-item:not(.disabled) .action-label', { hasText: label });
}

/**
 * The inner frame of the first webview whose document has `selector`. VS Code nests each webview
 * as iframe.webview > iframe#active-frame; several may exist (side view, editors), so we look in each.
 */
export async function webviewWith(page: Page, selector: string, timeoutMs: number, everyMs = 250): Promise<FrameLocator> {
  return waitFor(
    `a webview containing ${selector}`,
    async () => {
      const n = await page.locator('iframe.webview.ready').count();
      for (let i = 0; i < n; i++) {
        const inner = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
        if ((await inner.locator(selector).count().catch(() => 0)) > 0) return inner;
      }
      return undefined;
    },
    timeoutMs,
    everyMs,
  );
}

export interface TraceInfo {
  name: string;
  n: number;
  y: number[];
}

/** Plotly keeps the figure's traces on the chart div as `.data`; read names and y values. */
export async function readTraces(frame: FrameLocator, id: string): Promise<TraceInfo[] | undefined> {
  return frame
    .locator(`#${id}`)
    .evaluate((el: any) => {
      const data = el && Array.isArray(el.data) ? el.data : undefined;
      if (!data) return undefined;
      return data.map((t: any) => {
        const y = t && t.y ? Array.from(t.y as ArrayLike<unknown>).map(Number) : [];
        return { name: String(t.name ?? ''), n: y.length, y };
      });
    }, undefined, { timeout: 5000 });
}

/** The text of the first element matching `selector` in a frame, whitespace collapsed; empty when there is none. */
export async function textOf(frame: FrameLocator, selector: string): Promise<string> {
  const loc = frame.locator(selector).first();
  return (await loc.count()) ? ((await loc.textContent({ timeout: 5000 })) ?? '').replace(/\s+/g, ' ').trim() : '';
}
