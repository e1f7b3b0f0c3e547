// Felt speed: how long a user waits for the first chart of the side panel and for a checkpoint's
// tensor table. Printed, never asserted: times on a shared 2-core machine swing too much for a
// pass/fail line, and a slow moment must not fail a correct build.
//
// Each figure runs from the moment Enter was pressed (in the palette or quick open) to the moment
// the test sees the element, polling every 50 ms. The breakdown says where the time went, on the
// page's own clock (performance.timeOrigin is wall-clock time, so it lines up with Date.now()
// here): when the extension host got to the page (lines of its log), when the workbench's webview
// frame and then the page's own document started, when its scripts arrived, and the marks the
// page sets itself (`landscape:*`, see webview/timing.ts).
import type { FrameLocator, Page } from 'playwright-core';
import { sleep } from './workbench';

/** A line of the extension's own log the breakdown names, by what it says. */
export interface HostMark {
  name: string;
  pattern: RegExp;
  /** Also a line logged before Enter (shown as a negative time), e.g. the activation. */
  anyTime?: boolean;
}

/** Reads the extension's log (the Landscape output channel's file), or '' when there is none yet. */
export type HostLogReader = () => string;

/**
 * When each mark's line was first logged at or after `since` (wall-clock ms). The log's
 * timestamps are the extension host's local time, on the same machine as the test.
 */
function hostTimes(log: string, marks: HostMark[], since: number): { name: string; at: number }[] {
  const out: { name: string; at: number }[] = [];
  for (const m of marks) {
    for (const line of log.split('\n')) {
      const t = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) /.exec(line);
      // Logged times have millisecond resolution: allow the line to fall within the same ms as Enter.
      const at = t ? new Date(`${t[1]}T${t[2]}`).getTime() : NaN;
      if ((m.anyTime || at >= since - 1) && m.pattern.test(line)) {
        out.push({ name: m.name, at });
        break;
      }
    }
  }
  return out;
}

export interface Latency {
  what: string;
  targetMs: number;
  /** Undefined when the element never showed within the wait. */
  ms?: number;
  /**
   * How long the workbench's webview frame waited for its service worker (content/started to
   * content/workerReady): seconds for the first webview of a fresh browser profile, which every
   * end-to-end run is; nothing for later ones.
   */
  workerWaitMs?: number;
  /**
   * When the page itself had drawn the element (its `landscape:<drawnMark>` mark), on its own
   * clock: the test's polling reaches a new webview frame only after Playwright has set itself up
   * in it, which on a loaded machine adds up to a second the user does not wait for.
   */
  drawnMs?: number;
  breakdown: string;
}

/** The inner frame of the first webview holding `selector`, and when it was first seen (Date.now()). */
async function firstSeen(page: Page, selector: string, timeoutMs: number): Promise<{ outer: FrameLocator; frame: FrameLocator; at: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const outer = page.frameLocator('iframe.webview.ready').nth(i);
      const inner = outer.frameLocator('#active-frame');
      if ((await inner.locator(selector).count().catch(() => 0)) > 0) return { outer, frame: inner, at: Date.now() };
    }
    await sleep(50);
  }
  return undefined;
}

interface PageTimes {
  /** When the workbench's webview frame (which hosts the page's frame) started, and what it loaded. */
  webview?: { origin: number; resources: { name: string; end: number }[] };
  /** Lines of the extension's log (HostMark). */
  host: { name: string; at: number }[];
  origin: number;
  resources: { name: string; end: number }[];
  marks: { name: string; at: number }[];
}

/**
 * When the workbench's webview frame started and the marks it sets itself (VS Code's
 * pre/index.html: `webview/index.html/<step>`, e.g. content/workerReady once its service worker
 * controls the frame), in wall-clock ms.
 */
async function frameTimes(frame: FrameLocator): Promise<{ origin: number; resources: { name: string; end: number }[] } | undefined> {
  return frame
    .locator('body')
    .evaluate(
      (body: any) => {
        const perf = body.ownerDocument.defaultView.performance;
        const origin = Number(perf.timeOrigin);
        const prefix = 'webview/index.html/';
        const resources = perf
          .getEntriesByType('mark')
          .filter((m: any) => String(m.name).startsWith(prefix))
          .map((m: any) => ({ name: String(m.name).slice(prefix.length), end: origin + m.startTime }));
        return { origin, resources };
      },
      undefined,
      { timeout: 5000 },
    )
    .catch(() => undefined);
}

/** The page's resource loads and landscape:* marks, in wall-clock ms. */
async function pageTimes(frame: FrameLocator): Promise<PageTimes | undefined> {
  return frame
    .locator('body')
    .evaluate((body: any) => {
      const perf = body.ownerDocument.defaultView.performance;
      const origin = Number(perf.timeOrigin);
      return {
        host: [],
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
  const parts = times.host.map((h) => `host ${h.name} ${s(h.at)}`);
  if (times.webview) {
    parts.push(`webview frame ${s(times.webview.origin)}`);
    const seen = new Set<string>();
    for (const r of times.webview.resources) {
      // The frame marks some steps twice; the first is the one that counts.
      if (seen.has(r.name)) continue;
      seen.add(r.name);
      parts.push(`(frame) ${r.name} ${s(r.end)}`);
    }
  }
  parts.push(`page ${s(times.origin)}`);
  for (const r of times.resources) if (/\.(js|css)$/.test(r.name)) parts.push(`${r.name} ${s(r.end)}`);
  for (const m of times.marks) parts.push(`${m.name} ${s(m.at)}`);
  return `s after Enter: ${parts.join(', ')}`;
}

/**
 * Time from `since` (Enter) until `selector` shows in a webview. Never throws: a figure that
 * could not be taken is reported as such and the check goes on as before.
 */
export async function measureLatency(
  page: Page,
  what: string,
  targetMs: number,
  selector: string,
  since: number,
  host?: { log: HostLogReader; marks: HostMark[] },
  drawnMark?: string,
  timeoutMs = 60_000,
): Promise<Latency> {
  const seen = await firstSeen(page, selector, timeoutMs).catch(() => undefined);
  if (!seen) return { what, targetMs, breakdown: `${selector} not seen within ${timeoutMs / 1000} s` };
  const times = await pageTimes(seen.frame);
  if (times) {
    times.webview = await frameTimes(seen.outer);
    if (host) times.host = hostTimes(host.log(), host.marks, since);
  }
  const drawn = times?.marks.find((m) => m.name === drawnMark);
  const frameMark = (name: string) => times?.webview?.resources.find((r) => r.name === name)?.end;
  const [started, workerReady] = [frameMark('content/started'), frameMark('content/workerReady')];
  const workerWaitMs = started !== undefined && workerReady !== undefined ? workerReady - started : undefined;
  return { what, targetMs, ms: seen.at - since, drawnMs: drawn && drawn.at - since, workerWaitMs, breakdown: describe(times, since) };
}

export function formatLatency(l: Latency): string {
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  let figure = l.ms === undefined ? 'not measured' : l.drawnMs === undefined ? sec(l.ms) : `${sec(l.drawnMs)} drawn, ${sec(l.ms)} seen by the test`;
  if (l.drawnMs !== undefined && l.workerWaitMs !== undefined && l.workerWaitMs >= 100) {
    figure += `; ${sec(l.drawnMs - l.workerWaitMs)} drawn without the ${sec(l.workerWaitMs)} the workbench's webview frame waited for its service worker`;
  }
  return `${l.what}: ${figure} (target ${(l.targetMs / 1000).toFixed(0)} s; ${l.breakdown})`;
}
