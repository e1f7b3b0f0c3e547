/** The webview shell's Content-Security-Policy, and the viewer's tensor statistics. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImageDataUrl, escapeHtml, makeCsp, makeNonce, renderHtml } from '../../../src/host/html';
import { histogram, tensorStat } from '../../../src/worker/tensorStats';

describe('webview HTML', () => {
  const html = renderHtml({
    view: 'checkpoint',
    title: '<img src=x onerror=alert(1)>.safetensors',
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce: 'abc123==',
    plotlyUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/plotly.min.js',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/landscape.css',
  });

  it('allows scripts only by nonce and nothing from the network', () => {
    const csp = makeCsp('https://src', 'N0nce');
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(directives['default-src'], ["'none'"]);
    assert.deepEqual(directives['script-src'], ["'nonce-N0nce'"]);
    assert.deepEqual(directives['style-src'], ['https://src', "'unsafe-inline'"]);
    assert.deepEqual(directives['img-src'], ['https://src', 'data:', 'blob:']);
    assert.deepEqual(directives['font-src'], ['https://src']);
    assert.ok(!/unsafe-eval|\*|http:/.test(csp));
  });

  it('puts the policy first, the nonce on every script, and escapes the title', () => {
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'));
    // One script element: Plotly is preloaded (by nonce too) and run by the page once it has drawn (webview/plotly.ts).
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    const preload = html.match(/<link rel="preload"[^>]*>/g) ?? [];
    assert.equal(preload.length, 1);
    assert.match(preload[0], /as="script"/);
    for (const s of [...scripts, ...preload]) assert.match(s, /nonce="abc123=="/);
    assert.ok(html.indexOf('plotly.min.js') < html.indexOf('webview.js'), 'Plotly loads first');
    assert.ok(!html.includes('<img'), 'the title is escaped');
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /data-view="checkpoint"/);
    assert.equal(escapeHtml(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;');
  });

  it('makes a fresh 128-bit nonce each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const n = makeNonce();
      assert.equal(Buffer.from(n, 'base64').length, 16);
      seen.add(n);
    }
    assert.equal(seen.size, 100);
  });

  it('decodes exported images only when they are what they claim', () => {
    assert.deepEqual(decodeImageDataUrl('data:image/png;base64,AAEC', 'png'), Buffer.from([0, 1, 2]));
    assert.equal(decodeImageDataUrl('data:image/svg+xml,%3Csvg%2F%3E', 'svg')?.toString(), '<svg/>');
    assert.equal(decodeImageDataUrl('data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E', 'svg')?.toString(), '<svg/>');
    assert.equal(decodeImageDataUrl('data:text/html;base64,AAEC', 'png'), undefined);
    assert.equal(decodeImageDataUrl('data:image/png;base64,AAEC', 'svg'), undefined);
    assert.equal(decodeImageDataUrl('https://evil/x.png', 'png'), undefined);
    assert.equal(decodeImageDataUrl('data:image/png;base64,<script>', 'png'), undefined);
  });
});

describe('tensor statistics', () => {
  it('gives known answers in float64', () => {
    const s = tensorStat('w', 'F32', [2, 2], new Float32Array([1, 2, 3, 4]));
    assert.equal(s.mean, 2.5);
    assert.ok(Math.abs(s.std! - Math.sqrt(1.25)) < 1e-12);
    assert.equal(s.min, 1);
    assert.equal(s.max, 4);
    assert.ok(Math.abs(s.norm! - Math.sqrt(30)) < 1e-12);
    // Large offset: a one-pass variance would lose everything here.
    const off = tensorStat('b', 'F64', [3], new Float64Array([1e8 + 1, 1e8 + 2, 1e8 + 3]));
    assert.ok(Math.abs(off.std! - Math.sqrt(2 / 3)) < 1e-6, String(off.std));
    assert.deepEqual(tensorStat('e', 'F32', [0], new Float32Array(0)), { name: 'e', dtype: 'F32', shape: [0], size: 0, mean: null, std: null, min: null, max: null, norm: null });
  });

  it('bins values into equal-width histograms that count every finite value', () => {
    const h = histogram('w', [0, 0.1, 0.5, 0.99, 1, NaN, Infinity], 4)!;
    assert.equal(h.min, 0);
    assert.equal(h.max, 1);
    assert.deepEqual(h.counts, [2, 0, 1, 2]);
    const c = histogram('c', [3, 3, 3], 5)!;
    assert.deepEqual([c.min, c.max], [2.5, 3.5]);
    assert.equal(c.counts.reduce((a, b) => a + b, 0), 3);
    assert.equal(histogram('n', [NaN], 3), undefined);
  });
});
