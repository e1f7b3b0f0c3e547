/**
 * The HTML shell of every Landscape webview. Plotly is only preloaded here:
 * the page's own script builds the page, shows the host's first data and
 * then runs Plotly with this nonce (webview/plotly.ts), so 5 MB of script
 * never stands between opening a view and seeing it.
 * Pure (strings in, string out) so the Content-Security-Policy is
 * unit-tested: scripts only by nonce, nothing from the network, styles and
 * images only from the extension's own files (plus inline styles, which
 * Plotly injects, and data:/blob: images, which plot export uses).
 */
import { randomBytes } from 'crypto';
import type { ViewName } from '../protocol';

/** 128 bits from the OS CSPRNG, never Math.random: a guessable nonce defeats the policy. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function makeCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface HtmlOptions {
  view: ViewName;
  title: string;
  cspSource: string;
  nonce: string;
  /** webview URIs (asWebviewUri) of the page's Plotly build in dist/ (see webview.ts), dist/webview.js and media/landscape.css. */
  plotlyUri: string;
  scriptUri: string;
  styleUri: string;
}

export function renderHtml(o: HtmlOptions): string {
  const a = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(makeCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a(o.styleUri)}">
<link rel="preload" as="script" id="plotly-preload" nonce="${a(o.nonce)}" href="${a(o.plotlyUri)}">
<title>${a(o.title)}</title>
</head>
<body data-view="${a(o.view)}">
<main id="app" aria-busy="true"><p class="loading">Loading…</p></main>
<script nonce="${a(o.nonce)}" src="${a(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** Decode a data URL from Plotly.toImage: base64 PNG, or base64/percent-encoded SVG. */
export function decodeImageDataUrl(dataUrl: string, format: 'png' | 'svg'): Buffer | undefined {
  const m = /^data:([a-z+/.-]+)(;charset=[a-z0-9-]+)?(;base64)?,/i.exec(dataUrl);
  if (!m) return undefined;
  const mime = m[1].toLowerCase();
  if ((format === 'png' && mime !== 'image/png') || (format === 'svg' && mime !== 'image/svg+xml')) return undefined;
  const body = dataUrl.slice(m[0].length);
  if (m[3]) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return undefined;
    return Buffer.from(body, 'base64');
  }
  try {
    return Buffer.from(decodeURIComponent(body), 'utf8');
  } catch {
    return undefined;
  }
}
