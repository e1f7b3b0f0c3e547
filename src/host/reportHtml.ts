/**
 * Showing a self-contained HTML report (the optimizer study's report.html:
 * Plotly and the data inlined) in a webview without loosening any policy of
 * our own pages. The report gets a Content-Security-Policy of its own that
 * allows exactly the inline scripts the file holds, by their SHA-256 hashes:
 * no script from anywhere else, no inline event handlers, nothing from the
 * network. Our own webviews keep their nonce policy (src/host/html.ts).
 *
 * Pure: strings in, strings out, so the policy is unit-tested.
 */
import { createHash } from 'crypto';

export interface PreparedReport {
  html: string;
  csp: string;
  /** Inline scripts allowed (the report's, plus the one that remembers the panel's state). */
  scripts: number;
  /** External scripts (with src) in the file: the policy blocks them. */
  blocked: number;
}

/** What the HTML parser sees: it turns CRLF and lone CR into LF before anything else, hashes included. */
export function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

export function sha256Source(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

const SCRIPT_RE = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;

/** The inline scripts of a page (their exact text) and how many load a src. */
export function inlineScripts(html: string): { inline: string[]; external: number } {
  const inline: string[] = [];
  let external = 0;
  for (const m of html.matchAll(SCRIPT_RE)) {
    if (/\bsrc\s*=/i.test(m[1])) external++;
    else inline.push(m[2]);
  }
  return { inline, external };
}

export function reportCsp(hashes: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src ${hashes.length ? hashes.join(' ') : "'none'"}`,
    // The report styles itself inline and Plotly injects its rules.
    "style-src 'unsafe-inline'",
    // Plotly's own image export draws through data: and blob: URLs.
    'img-src data: blob:',
    'font-src data:',
  ].join('; ');
}

function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The page with its policy first in <head> and one small script of ours that
 * stores `state` with the webview API, so the panel reopens after a reload.
 * Throws when the file is not an HTML page with a <head>.
 */
export function prepareReport(html: string, state: unknown): PreparedReport {
  const src = normalizeNewlines(html);
  const head = /<head\b[^>]*>/i.exec(src);
  if (!head) throw new Error('not an HTML page (no <head>)');
  const stateScript = `acquireVsCodeApi().setState(${scriptJson(state)});`;
  const { inline, external } = inlineScripts(src);
  const hashes = [...new Set([stateScript, ...inline].map(sha256Source))];
  const csp = reportCsp(hashes);
  // The report is styled for paper (dark text, white plots); a webview's page otherwise takes the
  // editor's background, which in a dark theme leaves the text unreadable. Put first, so the
  // report's own rules still win.
  const paper = '<style>html, body { background: #ffffff; color: #222222; color-scheme: light; }</style>';
  const inject = `\n<meta http-equiv="Content-Security-Policy" content="${csp.replace(/"/g, '&quot;')}">\n${paper}\n<script>${stateScript}</script>\n`;
  const at = head.index + head[0].length;
  return { html: src.slice(0, at) + inject + src.slice(at), csp, scripts: inline.length + 1, blocked: external };
}
