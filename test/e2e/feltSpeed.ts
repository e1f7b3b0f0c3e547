// Felt speed: how long a user waits for the first chart of the side panel and for a checkpoint's
// tensor table. Printed, never asserted: times on a shared 2-core machine swing too much for a
// pass/fail line, and a slow moment must not fail a correct build.
//
// Each figure runs from the moment Enter was pressed (in the palette or quick open) to the moment
// the test sees the element, polling every 50 ms. The breakdown says where the time went, on the
// page's own clock (performance.timeOrigin is wall-clock time, so it lines up with Date.now()
// here): when the webview's document started, when its scripts arrived, and the marks the page
// sets itself (`landscape:*`, see webview/timing.ts).
import type { FrameLocator, Page } from 'playwright-core';
import { sleep } from './workbench';

export interface Latency {
  what: string;
  targetMs: number;
  /** Undefined when the element never showed within the wait. */
  ms?: number;
  breakdown: string;
}

/** The inner frame of the first webview holding `selector`, and when it was first seen (Date.now()). */
async function firstSeen(page: Page, selector: string, timeoutMs: number): Promise<{ frame: FrameLocator; at: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const inner = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if ((await inner.locator(selector).count().catch(() => 0)) > 0) return { frame: inner, at: Date.now() };
    }
    await sleep(50);
  }
  return undefined;
}

interface PageTimes {
  origin: number;
  resources: { name: string; end: number }[];
  marks: { name: string; at: number }[];
}

/** The page's resource loads and landscape:* marks, in wall-clock ms. */
async function pageTimes(frame: FrameLocator): Promise<PageTimes | undefined> {
  return frame
    .locator('body')
    .evaluate((body: any) => {
      const perf = body.ownerDocument.defaultView.performance;
      const origin = Number(perf.timeOrigin);
      return {
        origin,
        resources: perf.getEntriesByType('resource').map((r: any) => ({ name: String(r.name).split(/[/?#]/).filter(Boolean).pop() ?? '', end: origin + r.responseEnd })),
        marks: perf
          .getEntriesByType('mark')
          .filter((m: any) => String(m.name).startsWith('landscape:'))
          .map((m: any) => ({ name: String(m.name).slice('landscape:'.length), at: origin + m.startTime })),
      };
    }, undefined, { timeout: 5000 })
    .catch(() => undefined);
}

function describe(times: PageTimes | undefined, since: number): string {
  if (!times) return 'no page timings';
  const s = (t: number) => `${((t - since) / 1000).toFixed(2)}`;
  const parts = [`page ${s(times.origin)}`];
  for (const r of times.resources) if (/\.(js|css)$/.test(r.name)) parts.push(`${r.name} ${s(r.end)}`);
  for (const m of times.marks) parts.push(`${m.name} ${s(m.at)}`);
  return `s after Enter: ${parts.join(', ')}`;
}

/**
 * Time from `since` (Enter) until `selector` shows in a webview. Never throws: a figure that
 * could not be taken is reported as such and the check goes on as before.
 */
export async function measureLatency(page: Page, what: string, targetMs: number, selector: string, since: number, timeoutMs = 60_000): Promise<Latency> {
  const seen = await firstSeen(page, selector, timeoutMs).catch(() => undefined);
  if (!seen) return { what, targetMs, breakdown: `${selector} not seen within ${timeoutMs / 1000} s` };
  return { what, targetMs, ms: seen.at - since, breakdown: describe(await pageTimes(seen.frame), since) };
}

export function formatLatency(l: Latency): string {
  const figure = l.ms === undefined ? 'not measured' : `${(l.ms / 1000).toFixed(2)} s`;
  return `${l.what}: ${figure} (target ${(l.targetMs / 1000).toFixed(0)} s; ${l.breakdown})`;
}
