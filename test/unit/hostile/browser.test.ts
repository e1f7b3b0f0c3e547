/**
 * The webview pages in a real browser (Debian's Chromium through
 * playwright-core), served from a stand-in origin with the extension's own
 * HTML shell (src/host/html.ts) and a fresh build of webview/main.ts:
 *   - the Content-Security-Policy blocks inline scripts, inline event
 *     handlers, scripts with a wrong nonce and scripts without one, while the
 *     nonce'd scripts (Plotly, the page) run; without the policy the same
 *     inline script does run, so the test can fail;
 *   - checkpoint metadata, tensor names, file names, run labels and result
 *     summaries holding HTML or script are shown as text, never as markup.
 * Skips with a message when Chromium is not installed (scripts/e2e-setup.sh
 * installs it; LANDSCAPE_E2E_CHROMIUM points at another binary).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, renderHtml } from '../../../src/host/html';
import { validateHostMessage, type CheckpointDetails, type HostMessage } from '../../../src/protocol';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { sampleMatrix, samplePath } from '../../support/barrierSamples';

// The page-side globals the evaluate() callbacks use: declared here, module-local,
// because the project's tsconfig has no DOM lib (and must not get one).
interface El {
  tagName: string;
  textContent: string | null;
  innerHTML: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  querySelector(s: string): El | null;
  querySelectorAll(s: string): ArrayLike<El>;
  appendChild(e: El): void;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El>; createElement(tag: string): El; getElementById(id: string): El | null };
declare const window: Record<string, unknown> & { postMessage(m: unknown, origin: string): void };

const repo = path.resolve(__dirname, '../../..');
const CHROMIUM = process.env.LANDSCAPE_E2E_CHROMIUM ?? '/usr/bin/chromium';
const skip = fs.existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}: run scripts/e2e-setup.sh (or apt-get install chromium) to run the CSP and rendering checks`;
const ORIGIN = 'https://landscape.test';

let browser: Browser | undefined;
let tmp: string;
let webviewJs: string;
const plotlyJs = path.join(repo, 'node_modules/plotly.js-strict-dist-min/plotly-strict.min.js');
const css = path.join(repo, 'media/landscape.css');

/** Markup that would run code or show as markup if it were parsed anywhere. */
const HOSTILE = {
  img: '<img src=x onerror="window.__pwned=\'img\'">',
  script: '<script>window.__pwned="script"</script>',
  bold: '<b>bold</b>',
  svg: '<svg onload="window.__pwned=\'svg\'"></svg>',
  iframe: '<iframe src="javascript:window.parent.__pwned=\'iframe\'"></iframe>',
  link: '<a href="javascript:window.__pwned=\'link\'">click</a>',
  entity: '&lt;b&gt;not bold&lt;/b&gt; &amp; &#x3C;',
  quote: '"><img src=x onerror=window.__pwned=1>',
};

interface Served {
  html: string;
  requests: string[];
}

/** Open `html` as ORIGIN/index.html with the bundle, Plotly and the stylesheet served beside it. */
async function open(served: Served): Promise<Page> {
  const page = await browser!.newPage();
  page.on('pageerror', (e) => served.requests.push(`pageerror: ${e.message}`));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    served.requests.push(url.pathname);
    const body: Record<string, [string | Buffer, string]> = {
      '/index.html': [served.html, 'text/html'],
      '/dist/webview.js': [fs.readFileSync(webviewJs), 'text/javascript'],
      '/dist/plotly.min.js': [fs.readFileSync(plotlyJs), 'text/javascript'],
      '/media/landscape.css': [fs.readFileSync(css), 'text/css'],
      '/evil.js': ['window.__pwned = "external";', 'text/javascript'],
    };
    const hit = body[url.pathname];
    if (hit) await route.fulfill({ status: 200, contentType: hit[1], body: hit[0] });
    else await route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/index.html`);
  return page;
}

/** The shell as the extension renders it, with a stand-in acquireVsCodeApi (nonce'd) and `extra` injected first in <body>. */
function shell(view: 'side' | 'checkpoint' | 'result', title: string, extra = '', withCsp = true): { html: string; nonce: string } {
  const nonce = makeNonce();
  let html = renderHtml({
    view,
    title,
    cspSource: ORIGIN,
    nonce,
    plotlyUri: `${ORIGIN}/dist/plotly.min.js`,
    scriptUri: `${ORIGIN}/dist/webview.js`,
    styleUri: `${ORIGIN}/media/landscape.css`,
  });
  if (!withCsp) html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '');
  const setup = `<script nonce="${nonce}">
window.__posted = []; window.__violations = []; window.__state = undefined;
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });
window.__nonced = 'ran';
</script>`;
  html = html.replace(/<body([^>]*)>/, `<body$1>\n${setup}\n${extra}`);
  return { html, nonce };
}

async function waitReady(page: Page, view: string): Promise<void> {
  await page.waitForFunction((v) => (window.__posted as { type: string; view?: string }[]).some((m) => m.type === 'ready' && m.view === v), view, { timeout: 20_000 });
}

async function send(page: Page, m: HostMessage): Promise<void> {
  const v = validateHostMessage(m);
  assert.ok(v.ok, `the test's message is invalid: ${v.ok ? '' : v.error}`);
  await page.evaluate((msg) => window.postMessage(msg, '*'), m as unknown as Record<string, unknown>);
}

/** Elements that would exist only if some string had been parsed as markup. */
async function injected(page: Page, root = '#app'): Promise<string[]> {
  return page.evaluate((sel) => {
    const out: string[] = [];
    const r = document.querySelector(sel);
    if (!r) return ['no root'];
    for (const el of Array.from(r.querySelectorAll('*'))) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'img', 'iframe', 'b', 'object', 'embed'].includes(tag)) out.push(tag);
      for (const a of Array.from(el.attributes)) {
        if (/^on/i.test(a.name)) out.push(`${tag}[${a.name}]`);
        if (/^\s*javascript:/i.test(a.value)) out.push(`${tag}[${a.name}=javascript:]`);
      }
    }
    return out;
  }, root);
}

before(async () => {
  if (skip) return;
  tmp = makeTempDir('browser');
  webviewJs = path.join(tmp, 'webview.js');
  // A fresh bundle of the current sources, built as esbuild.mjs builds dist/webview.js.
  await esbuild.build({
    entryPoints: [path.join(repo, 'webview/main.ts')],
    outfile: webviewJs,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    external: ['plotly.js-strict-dist-min'],
    logLevel: 'silent',
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--host-resolver-rules=MAP * ~NOTFOUND'],
  });
});

after(async () => {
  await browser?.close();
  removeTempDir(tmp);
});

describe('webview Content-Security-Policy in Chromium', { skip, timeout: 120_000 }, () => {
  const attacks = (nonce: string) =>
    [
      `<script>window.__inline = 'ran'</script>`,
      `<script nonce="${nonce.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}">window.__wrongNonce = 'ran'</script>`,
      `<script src="${ORIGIN}/evil.js"></script>`,
      `<img src="${ORIGIN}/missing.png" onerror="window.__onerror = 'ran'">`,
      `<div id="click-me" onclick="window.__onclick = 'ran'">x</div>`,
      `<a id="js-link" href="javascript:window.__jslink='ran'">x</a>`,
    ].join('\n');
  /** The attacks go right after the nonced setup script, so its violation listener sees them. */
  const withAttacks = (html: string, nonce: string) => html.replace("window.__nonced = 'ran';\n</script>", `window.__nonced = 'ran';\n</script>\n${attacks(nonce)}`);

  it('blocks inline and un-nonced scripts while the nonced page scripts run', async () => {
    const s = shell('checkpoint', 'CSP probe');
    const served: Served = { html: withAttacks(s.html, s.nonce), requests: [] };
    const page = await open(served);
    await waitReady(page, 'checkpoint');
    await page.click('#click-me').catch(() => undefined);
    await page.click('#js-link').catch(() => undefined);
    await page.waitForTimeout(300);
    // The page runs Plotly (nonce'd, added by its own script) once it has drawn, or after a second without data.
    await page.waitForFunction(() => typeof window.Plotly === 'object', undefined, { timeout: 30_000 }).catch(() => undefined);
    const w = await page.evaluate(() => {
      const g = window as unknown as Record<string, unknown>;
      return { nonced: g.__nonced, inline: g.__inline, wrong: g.__wrongNonce, onerror: g.__onerror, onclick: g.__onclick, jslink: g.__jslink, pwned: g.__pwned, violations: g.__violations as string[], plotly: typeof g.Plotly };
    });
    assert.equal(w.nonced, 'ran', 'the nonced setup script must run');
    assert.equal(w.plotly, 'object', 'the nonced Plotly script must run');
    assert.equal(w.inline, undefined, 'an inline script without the nonce ran');
    assert.equal(w.wrong, undefined, 'a script with a wrong nonce ran');
    assert.equal(w.pwned, undefined, 'a script from the page origin without a nonce ran');
    assert.equal(w.onerror, undefined, 'an inline onerror handler ran');
    assert.equal(w.onclick, undefined, 'an inline onclick handler ran');
    assert.equal(w.jslink, undefined, 'a javascript: link ran');
    assert.ok(w.violations.filter((v) => v.startsWith('script-src')).length >= 4, `violations: ${w.violations.join('; ')}`);
    assert.ok(!served.requests.includes('/evil.js'), 'the un-nonced external script was even fetched');
    assert.deepEqual(served.requests.filter((r) => r.startsWith('pageerror')), []);
    await page.close();
  });

  it('without the policy the same inline script runs (so the check above can fail)', async () => {
    const s = shell('checkpoint', 'no CSP', '', false);
    const served: Served = { html: withAttacks(s.html, s.nonce), requests: [] };
    const page = await open(served);
    await page.waitForFunction(() => window.__inline === 'ran', undefined, { timeout: 10_000 });
    await page.close();
  });
});

describe('each page takes only its own messages from the host, in Chromium', { skip, timeout: 120_000 }, () => {
  const info: CheckpointDetails = { format: 'safetensors', fileSize: 1, metadata: [['model', '2-4-2']], spec: null, tensors: [], histograms: [] };
  const foreign: Record<'side' | 'checkpoint' | 'result', HostMessage> = {
    side: { type: 'checkpoint', file: '/w/x.safetensors', name: 'x', info, actions: [] },
    checkpoint: { type: 'resultError', file: '/w/x.json', message: 'not for this page' },
    result: { type: 'runs', runs: { runs: [], others: [], truncated: false } },
  };

  for (const view of ['side', 'checkpoint', 'result'] as const) {
    it(`${view}: says ready once, and logs and drops a message meant for another page`, async () => {
      const page = await open({ html: shell(view, 'x').html, requests: [] });
      await waitReady(page, view);
      const app = () => page.evaluate(() => document.getElementById('app')!.innerHTML);
      const before = await app();
      await send(page, foreign[view]);
      await page.waitForFunction(() => (window.__posted as { type: string }[]).some((m) => m.type === 'log'), undefined, { timeout: 10_000 });
      const posted = (await page.evaluate(() => window.__posted)) as { type: string; level?: string; message?: string; view?: string }[];
      assert.deepEqual(posted.filter((m) => m.type === 'ready'), [{ type: 'ready', view }]);
      const logs = posted.filter((m) => m.type === 'log');
      assert.equal(logs.length, 1, JSON.stringify(logs));
      assert.equal(logs[0].level, 'warn');
      assert.match(logs[0].message!, new RegExp(`ignored an invalid message from the host \\(message.type: unknown type "${foreign[view].type}"\\)`));
      assert.equal(await app(), before, 'the page changed for a message meant for another page');
      await page.close();
    });
  }
});

describe('hostile strings render as text in Chromium', { skip, timeout: 120_000 }, () => {
  const hostileInfo = (): CheckpointDetails => ({
    format: 'safetensors',
    fileSize: 1234,
    metadata: [
      ['model', '2-4-2'],
      ['dataset', HOSTILE.img],
      [HOSTILE.script, HOSTILE.svg],
      ['optimizer', HOSTILE.bold],
      ['note', HOSTILE.iframe],
      ['link', HOSTILE.link],
      ['entity', HOSTILE.entity],
      ['quote', HOSTILE.quote],
    ],
    spec: { text: `2-4-2 relu ${HOSTILE.bold}`, layers: [2, 4, 2], activation: HOSTILE.img, bias: true, loss: HOSTILE.script, paramCount: 22 },
    tensors: [{ name: HOSTILE.img, shape: [2, 4], dtype: HOSTILE.bold, size: 8, mean: 0, std: 1, min: -1, max: 1, norm: 2 }],
    histograms: [{ name: HOSTILE.link, min: -1, max: 1, counts: [1, 2, 3, 2] }],
  });

  it('checkpoint viewer: metadata, names, model and tensors', async () => {
    const s = shell('checkpoint', HOSTILE.img);
    const served: Served = { html: s.html, requests: [] };
    const page = await open(served);
    await waitReady(page, 'checkpoint');
    const file = `/w/${HOSTILE.quote}.safetensors`;
    await send(page, { type: 'checkpoint', file, name: HOSTILE.svg, info: hostileInfo(), actions: [{ command: 'landscape.setMinimumA', label: HOSTILE.img, detail: HOSTILE.bold }] });
    await page.waitForSelector('#metadata-table tr');
    await page.waitForTimeout(500);
    assert.deepEqual(await injected(page), []);
    const rows = await page.$$eval('#metadata-table tr', (trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']));
    assert.deepEqual(rows, hostileInfo().metadata);
    assert.equal(await page.textContent('#checkpoint-title'), HOSTILE.svg);
    assert.ok((await page.textContent('#checkpoint-file'))!.includes(file));
    assert.equal(await page.$eval('#tensor-table tbody tr td', (td) => td.textContent), HOSTILE.img);
    assert.ok((await page.textContent('#model-spec'))!.includes(HOSTILE.bold));
    assert.equal(await page.$eval('#actions vscode-button[data-command]', (b) => b.textContent), HOSTILE.img);
    const pwned = await page.evaluate(() => window.__pwned);
    assert.equal(pwned, undefined);
    // The title of the page itself came through the shell's escaping.
    assert.equal(await page.title(), HOSTILE.img);
    await page.close();
  });

  it('checkpoint viewer: a CNN lists its layers with shapes and draws its first convolution\'s filters', async () => {
    const page = await open({ html: shell('checkpoint', 'cnn').html, requests: [] });
    await waitReady(page, 'checkpoint');
    // Filter 0 runs from −1 (black) to +1 (white); filter 1 is all zero (mid grey).
    const values = [...Array.from({ length: 9 }, (_, i) => (i - 4) / 4), ...Array(9).fill(0)];
    const info: CheckpointDetails = {
      ...hostileInfo(),
      spec: {
        text: 'input(1,8,8) conv(2,3,pad=1) relu flatten dense(10)',
        layers: [64, 10],
        activation: 'relu',
        bias: true,
        loss: 'cross-entropy',
        paramCount: 1310,
        layerLines: ['conv(2,3,pad=1) → 2×8×8', HOSTILE.img, 'flatten → 128', 'dense(10) → 10'],
        filters: { name: 'layers.0.weight', shape: [2, 1, 3, 3], values },
      },
    };
    await send(page, { type: 'checkpoint', file: '/w/cnn.safetensors', name: 'cnn', info, actions: [] });
    await page.waitForSelector('.filter-row canvas');
    assert.deepEqual(await injected(page), []);
    const lines = await page.$$eval('#model-spec ol.layers li', (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(lines, info.spec!.layerLines);
    type Canvas2d = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null };
    const pixels = await page.$$eval('.filter-row canvas', (cs) =>
      (cs as unknown as Canvas2d[]).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        // The first and last cell of each filter, red channel.
        return [d[0], d[(c.width * c.height - 1) * 4]];
      }),
    );
    assert.equal(pixels.length, 2);
    assert.deepEqual(pixels[0], [0, 255]);
    assert.ok(Math.abs(pixels[1][0] - 128) <= 1 && Math.abs(pixels[1][1] - 128) <= 1, `grey ${pixels[1]}`);
    await page.close();
  });

  it('checkpoint viewer: an error message holding markup', async () => {
    const page = await open({ html: shell('checkpoint', 'x').html, requests: [] });
    await waitReady(page, 'checkpoint');
    await send(page, { type: 'checkpointError', file: '/w/x.safetensors', message: `/w/x.safetensors: ${HOSTILE.img} ${HOSTILE.script}` });
    await page.waitForSelector('#error:not([hidden])');
    assert.deepEqual(await injected(page), []);
    assert.equal(await page.textContent('#error'), `/w/x.safetensors: ${HOSTILE.img} ${HOSTILE.script}`);
    await page.close();
  });

  it('side view: run and checkpoint labels, backend, form', async () => {
    const page = await open({ html: shell('side', 'Landscape').html, requests: [] });
    await waitReady(page, 'side');
    const ck = { path: `/w/runs/${HOSTILE.quote}/final.safetensors`, label: HOSTILE.img, detail: HOSTILE.script };
    await send(page, {
      type: 'sideSnapshot',
      live: null,
      runs: {
        runs: [{ runDir: '/w/runs/r', runJson: '/w/runs/r/run.json', label: HOSTILE.svg, detail: HOSTILE.bold, status: HOSTILE.iframe, checkpoints: [ck] }],
        others: [{ path: '/w/x.safetensors', label: HOSTILE.link, detail: HOSTILE.entity }],
        truncated: false,
      },
      backend: { text: HOSTILE.img, detail: HOSTILE.script },
      form: { dataset: HOSTILE.img, model: '2-4-2', optimizer: HOSTILE.bold, epochs: 1 },
      datasets: ['digits', HOSTILE.svg],
      optimizers: ['sgd'],
      training: false,
      experimentFile: HOSTILE.quote,
    });
    await page.waitForSelector('#runs-list .run-item');
    await page.waitForTimeout(300);
    assert.deepEqual(await injected(page), []);
    const labels = await page.$$eval('#runs-list .item-label', (els) => els.map((e) => e.textContent));
    assert.deepEqual(labels, [HOSTILE.svg, HOSTILE.img, HOSTILE.link]);
    assert.equal(await page.textContent('#backend'), HOSTILE.img);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await page.close();
  });

  it('result panel: a training run summary', async () => {
    const page = await open({ html: shell('result', 'Run').html, requests: [] });
    await waitReady(page, 'result');
    await send(page, {
      type: 'result',
      file: '/w/runs/r/run.json',
      title: HOSTILE.img,
      data: {
        kind: 'trainingRun',
        runDir: `/w/runs/${HOSTILE.img}`,
        status: HOSTILE.script,
        summary: [
          [HOSTILE.script, HOSTILE.img],
          ['dataset', HOSTILE.iframe],
        ],
        points: [{ epoch: 0, step: 0, trainLoss: 1, testLoss: 1, gradNorm: 1, lr: 0.1, time: 0 }],
        checkpoints: [{ path: '/w/runs/r/final.safetensors', label: HOSTILE.svg }],
      },
    });
    await page.waitForSelector('#run-summary tr');
    await page.waitForTimeout(300);
    assert.deepEqual(await injected(page), []);
    const rows = await page.$$eval('#run-summary tr', (trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']));
    assert.deepEqual(rows, [
      [HOSTILE.script, HOSTILE.img],
      ['dataset', HOSTILE.iframe],
    ]);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await page.close();
  });

  it('barrier path: hostile labels stay text; a path without its plane says so instead of drawing it', async () => {
    const page = await open({ html: shell('result', 'Barrier').html, requests: [] });
    await waitReady(page, 'result');
    const drawn = { ...samplePath('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors'), labelA: HOSTILE.bold };
    await send(page, { type: 'result', file: '/w/runs/r1/final__r2-final.path.json', title: HOSTILE.img, data: drawn });
    await page.waitForSelector('#chart-plane');
    assert.deepEqual(await injected(page), []);
    assert.match((await page.textContent('#endpoints')) ?? '', /A: <b>/);
    assert.match((await page.textContent('#plane-note')) ?? '', /A is at \(0, 0\), B at \(2, 0\)/);
    const { plane: _p, ...flat } = drawn;
    await send(page, { type: 'result', file: '/w/runs/r1/final__r2-final.path.json', title: 'x', data: flat });
    await page.waitForFunction(() => !document.querySelector('#chart-plane'));
    assert.match((await page.textContent('#plane-note')) ?? '', /not drawn in a plane/);
    assert.ok(await page.$('#chart-profile'), 'the profile is still drawn');
    await page.close();
  });

  it('barrier matrix: checkpoint labels in chart ticks and hover text', async () => {
    const page = await open({ html: shell('result', 'Barriers').html, requests: [] });
    await waitReady(page, 'result');
    const labels = [HOSTILE.bold, '<a href="https://evil.test/">click</a>', 'r3<br>two lines'];
    await send(page, { type: 'result', file: '/w/runs/barriers.json', title: HOSTILE.img, data: sampleMatrix('/w/runs', labels) });
    await page.waitForSelector('#app .main-svg');
    await page.waitForTimeout(500);
    assert.deepEqual(await injected(page), []);
    const svg = await page.evaluate(() => ({
      anchors: document.querySelectorAll('#app svg a').length,
      text: Array.from(document.querySelectorAll('#app svg .xtick text')).map((t) => t.textContent),
    }));
    assert.equal(svg.anchors, 0, 'a label became a link in the chart');
    for (const l of labels) assert.ok(svg.text.includes(l), `tick label ${JSON.stringify(l)} not shown as text: ${JSON.stringify(svg.text)}`);
    await page.close();
  });

  it('the detector finds markup when there is some (so the checks above can fail)', async () => {
    const page = await open({ html: shell('checkpoint', 'x').html, requests: [] });
    await waitReady(page, 'checkpoint');
    await page.evaluate((html) => {
      const d = document.createElement('div');
      d.innerHTML = html;
      document.getElementById('app')!.appendChild(d);
    }, `${HOSTILE.img}${HOSTILE.bold}${HOSTILE.link}`);
    const found = await injected(page);
    assert.ok(found.includes('img') && found.includes('b') && found.includes('img[onerror]') && found.some((f) => f.includes('javascript:')), found.join(', '));
    await page.close();
  });
});
