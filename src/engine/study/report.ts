/**
 * The study's self-contained report.html: Plotly inlined, data embedded as
 * JSON, no network access, so it opens offline and can be mailed around.
 * Every string from the data goes through escapeHtml or JSON embedding with
 * '<' escaped, so names cannot inject markup.
 */
import * as fs from 'fs';
import * as path from 'path';
import { computeError } from '../errors';
import type { StudyResult } from './study';
import { describeRefinement, refinementStats } from './refinementStats';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to place inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function findPlotlyBundle(): string {
  const candidates = [
    path.join(__dirname, 'plotly.min.js'),
    path.join(__dirname, '..', 'plotly.min.js'),
    path.join(__dirname, '..', '..', '..', 'dist', 'plotly.min.js'),
  ];
  try {
    candidates.push(require.resolve('plotly.js-strict-dist-min/plotly-strict.min.js'));
  } catch {
    // not installed (production install of the CLI): the copies in dist/ are tried
  }
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw computeError(`the Plotly bundle for the report was not found (looked in ${candidates.join(', ')}); run npm run build`);
}

function fmt(x: number | undefined): string {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? x.toExponential(2) : x.toFixed(4);
}

/** The page's styles (no interpolation: nothing from the data goes in here). */
const REPORT_STYLE = `<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; font-size: 1.25rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.yes { color: #11631b; font-weight: 600; } td.no { color: #a11d1d; font-weight: 600; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; } .plot { width: 520px; height: 380px; }
p.note { color: #555; font-size: 0.9rem; }
</style>`;

/** One row per claim of the paper: reproduced or not, and the evidence. */
function verdictRows(r: StudyResult): string {
  return r.verdicts
    .map(
      (v) =>
        `<tr><td>${escapeHtml(v.claim)}</td><td class="${v.reproduced ? 'yes' : 'no'}">${v.reproduced ? 'reproduced' : 'not reproduced'}</td><td>${escapeHtml(v.evidence)}</td></tr>`,
    )
    .join('\n');
}

/** One row per solution (final and early-stopped) with its losses and accuracies. */
function solutionRows(r: StudyResult): string {
  return r.solutions
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.id)}</td><td>${escapeHtml(s.optimizer)}</td><td>${s.seed}</td><td>${escapeHtml(s.kind)}</td><td>${s.epoch}</td>` +
        `<td>${fmt(s.trainLoss)}</td><td>${fmt(s.testLoss)}</td><td>${fmt(s.trainAccuracy)}</td><td>${fmt(s.testAccuracy)}</td></tr>`,
    )
    .join('\n');
}

/** One row per pair: the straight line's and the optimized path's heights and barriers, and H before refinement. */
function barrierRows(r: StudyResult): string {
  return r.barriers
    .map(
      (b) =>
        `<tr><td>${escapeHtml(b.optimizer)}</td><td>${escapeHtml(b.a)}</td><td>${escapeHtml(b.b)}</td><td>${fmt(b.lossA)}</td><td>${fmt(b.lossB)}</td>` +
        `<td>${fmt(b.straight.height)}</td><td>${fmt(b.straight.barrierFromMean)}</td><td>${fmt(b.optimized.height)}</td><td>${fmt(b.optimized.barrierFromMean)}</td><td>${fmt(b.optimized.tAtMax)}</td><td>${fmt(b.refinement?.optimizedHeight)}</td></tr>`,
    )
    .join('\n');
}

/** How the study was run, as label and text pairs (escaped when rendered). */
function configRows(r: StudyResult): [string, string][] {
  const c = r.config;
  return [
    ['preset', c.preset],
    ['data', `${c.dataset} (built-in UCI optical digits, CC BY 4.0), split seed ${c.seed}`],
    ['network', `${c.model}, ReLU, ${c.bias ? 'with' : 'without'} biases, ${r.paramCount} parameters`],
    ['seeds per optimizer', String(c.seeds)],
    ['SGD', `${c.sgd.epochs} epochs, mini-batch ${c.sgd.batch}, lr ${c.sgd.lr}`],
    ['L-BFGS', `${c.lbfgs.epochs} full-batch iterations, golden-section line search, history 10`],
    ['path search', `FourierPathFinder, objective ${c.path.objective}, ${c.path.points} points, ${c.path.modes} modes, ${c.path.steps} Adam steps (lr ${c.path.lr}), λ ${c.path.lambda}; heights on a 10× denser grid`],
    ['pairs', `up to ${c.pairsPerGroup} random pairs of final solutions per optimizer`],
    ['kernel PCA', `RBF, γ = 1/P = ${r.kpca.gamma.toExponential(3)}`],
    ['backend', `${r.backend} (tfjs ${r.versions.tfjs}, Node ${r.versions.node}, Landscape ${r.versions.landscape})`],
    ['time', `${r.timing.totalSeconds.toFixed(0)} s (training ${r.timing.trainSeconds.toFixed(0)} s, paths ${r.timing.pathSeconds.toFixed(0)} s); reused ${r.reused.runs} runs and ${r.reused.paths} paths`],
  ];
}

/** What the charts plot, embedded in the page as JSON. */
function chartData(r: StudyResult) {
  return {
    barriers: r.barriers.map((b) => ({ optimizer: b.optimizer, straight: b.straight.barrierFromMean, optimized: b.optimized.barrierFromMean, label: `${b.a} ↔ ${b.b}`, profile: b.profile })),
    kpca: r.kpca,
    solutions: r.solutions.map((s) => ({ id: s.id, optimizer: s.optimizer, kind: s.kind, trainLoss: s.trainLoss, testLoss: s.testLoss, testAccuracy: s.testAccuracy })),
  };
}

/** The script that draws the histograms, path profiles and kernel PCA scatter from `data` (see chartData). */
function chartScript(data: ReturnType<typeof chartData>): string {
  return `(function () {
  var D = ${scriptJson(data)};
  var colors = { sgd: '#1f77b4', lbfgs: '#d62728' };
  var names = { sgd: 'SGD', lbfgs: 'L-BFGS' };
  ['sgd', 'lbfgs'].forEach(function (g) {
    var bs = D.barriers.filter(function (b) { return b.optimizer === g; });
    // Straight and optimized barriers differ by orders of magnitude: bin them
    // by log10, or the optimized ones collapse into one invisible bar at 0.
    var lg = function (v) { return Math.log10(Math.max(v, 1e-12)); };
    Plotly.newPlot('hist-' + g, [
      { type: 'histogram', name: 'straight line', x: bs.map(function (b) { return lg(b.straight); }), opacity: 0.6, marker: { color: '#999' }, xbins: { size: 0.25 } },
      { type: 'histogram', name: 'optimized path', x: bs.map(function (b) { return lg(b.optimized); }), opacity: 0.75, marker: { color: colors[g] }, xbins: { size: 0.25 } }
    ], { title: { text: names[g] + ': barriers (' + bs.length + ' pairs)' }, barmode: 'overlay', xaxis: { title: { text: 'log10 of the barrier above the mean endpoint loss' } }, yaxis: { title: { text: 'pairs' } } }, { responsive: true });
  });
  var prof = [];
  D.barriers.forEach(function (b) {
    prof.push({ type: 'scatter', mode: 'lines', name: b.label + ' straight', x: b.profile.t, y: b.profile.straight, line: { dash: 'dot', color: colors[b.optimizer] }, legendgroup: b.label });
    prof.push({ type: 'scatter', mode: 'lines', name: b.label + ' optimized', x: b.profile.t, y: b.profile.optimized, line: { color: colors[b.optimizer] }, legendgroup: b.label });
  });
  Plotly.newPlot('profiles', prof, { title: { text: 'Training loss along each path (dotted: straight line)' }, xaxis: { title: { text: 't' } }, yaxis: { title: { text: 'training loss' }, type: 'log' } }, { responsive: true });
  var sc = [];
  ['sgd', 'lbfgs'].forEach(function (g) {
    ['final', 'early'].forEach(function (k) {
      var idx = [];
      D.solutions.forEach(function (s, i) { if (s.optimizer === g && s.kind === k) idx.push(i); });
      sc.push({ type: 'scatter', mode: 'markers', name: names[g] + ' ' + k,
        x: idx.map(function (i) { return D.kpca.projections[i][0]; }), y: idx.map(function (i) { return D.kpca.projections[i][1] || 0; }),
        text: idx.map(function (i) { var s = D.solutions[i]; return s.id + '<br>train ' + s.trainLoss.toExponential(2) + ', test ' + s.testLoss.toFixed(3); }),
        hoverinfo: 'text', marker: { size: 11, color: colors[g], symbol: k === 'final' ? 'circle' : 'diamond-open' } });
    });
  });
  Plotly.newPlot('kpca', sc, { title: { text: 'RBF kernel PCA of all solutions' }, xaxis: { title: { text: 'component 1' } }, yaxis: { title: { text: 'component 2' } } }, { responsive: true });
})();`;
}

export function renderReport(r: StudyResult, plotlySource: string = fs.readFileSync(findPlotlyBundle(), 'utf8')): string {
  const data = chartData(r);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Landscape optimizer study</title>
${REPORT_STYLE}
</head>
<body>
<h1>Optimizer study: SGD against L-BFGS minima</h1>
<p class="note">After Yu &amp; Morozov 2026 (arXiv 2602.21276), at laptop scale. Barriers are heights of the training loss
along the path above the mean of its two endpoint losses. Path heights are measured on a grid ten times denser than the
optimized points.</p>
<h2>Verdicts</h2>
<table id="verdicts"><thead><tr><th>Finding of the paper</th><th>Here</th><th>Evidence</th></tr></thead><tbody>
${verdictRows(r)}
</tbody></table>
<h2>Barriers</h2>
<p id="refinement" class="note">${escapeHtml(describeRefinement(refinementStats(r.barriers), fmt))}</p>
<div class="plots"><div id="hist-sgd" class="plot" aria-label="Barrier histogram for SGD"></div><div id="hist-lbfgs" class="plot" aria-label="Barrier histogram for L-BFGS"></div></div>
<div class="plots"><div id="profiles" class="plot" style="width:1060px" aria-label="Loss along the straight and optimized paths"></div></div>
<table id="barrier-table"><thead><tr><th>optimizer</th><th>A</th><th>B</th><th>loss A</th><th>loss B</th><th>straight H</th><th>straight barrier</th><th>optimized H</th><th>optimized barrier</th><th>t at max</th><th>H before refinement</th></tr></thead><tbody>
${barrierRows(r)}
</tbody></table>
<h2>Kernel PCA of the solutions</h2>
<div class="plots"><div id="kpca" class="plot" style="width:700px;height:480px" aria-label="Kernel PCA scatter of the solutions"></div></div>
<p class="note">Explained variance: component 1 ${(r.kpca.explainedVariance[0] * 100).toFixed(1)}%, component 2 ${((r.kpca.explainedVariance[1] ?? 0) * 100).toFixed(1)}%.</p>
<h2>Losses</h2>
<table id="loss-table"><thead><tr><th>solution</th><th>optimizer</th><th>seed</th><th>kind</th><th>epoch</th><th>train loss</th><th>test loss</th><th>train acc.</th><th>test acc.</th></tr></thead><tbody>
${solutionRows(r)}
</tbody></table>
<p class="note">"early" is the early-stopped solution: the epoch with the lowest test loss.</p>
<h2>Configuration</h2>
<table id="config"><tbody>
${configRows(r).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</tbody></table>
<script>${plotlySource}</script>
<script>
${chartScript(data)}
</script>
</body>
</html>
`;
}

/** A terminal summary: one line per verdict plus the group means. */
export function summaryLines(r: StudyResult): string[] {
  const lines: string[] = [];
  const groups = ['sgd', 'lbfgs'] as const;
  const nm = { sgd: 'SGD', lbfgs: 'L-BFGS' };
  lines.push('optimizer  runs  mean train loss  mean test acc.  pairs  mean straight barrier  mean optimized barrier');
  for (const g of groups) {
    const fin = r.solutions.filter((s) => s.optimizer === g && s.kind === 'final');
    const bs = r.barriers.filter((b) => b.optimizer === g);
    const m = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    lines.push(
      `${nm[g].padEnd(9)}  ${String(fin.length).padStart(4)}  ${fmt(m(fin.map((s) => s.trainLoss))).padStart(15)}  ${fmt(m(fin.map((s) => s.testAccuracy ?? NaN))).padStart(14)}  ` +
        `${String(bs.length).padStart(5)}  ${fmt(m(bs.map((b) => b.straight.barrierFromMean))).padStart(21)}  ${fmt(m(bs.map((b) => b.optimized.barrierFromMean))).padStart(22)}`,
    );
  }
  lines.push(describeRefinement(refinementStats(r.barriers), fmt));
  lines.push('');
  for (const v of r.verdicts) lines.push(`${v.reproduced ? 'REPRODUCED    ' : 'NOT REPRODUCED'}  ${v.claim}: ${v.evidence}`);
  return lines;
}
