/** Renders a "training run" result: summary, the four training charts, the checkpoints. */
import type { ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, TrainingCharts } from '../charts';
import { stabilityFigure } from '../stability';
import { append, h, keyValueRows, onActivate } from '../dom';

export function renderTrainingRun(root: HTMLElement, data: Extract<ResultData, { kind: 'trainingRun' }>): void {
  const name = data.runDir.split(/[\\/]/).pop() ?? 'run';
  const summary = h('tbody');
  keyValueRows(summary, data.summary);
  const charts = new TrainingCharts('run-chart', name);
  const list = h('ul', { id: 'run-checkpoints', class: 'runs-list', 'aria-label': 'Checkpoints of this run' });
  for (const c of data.checkpoints) {
    const li = h('li', { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect checkpoint ${c.label}` }, h('span', { class: 'item-label', text: c.label }));
    onActivate(li, () => inspect(c.path));
    list.appendChild(li);
  }
  if (!data.checkpoints.length) list.appendChild(h('li', { class: 'empty', text: 'No checkpoints in this run folder.' }));
  const stability = data.stability?.length
    ? new Chart({
        id: 'run-chart-stability',
        title: 'Stability: λmax against 2/η',
        ariaLabel: `Top Hessian eigenvalue at ${data.stability.length} checks during training, against the largest value the learning rate is stable for`,
        xTitle: 'epoch',
        yTitle: 'λmax',
        traces: [],
        exportName: `${name}-stability`,
      })
    : undefined;
  if (stability) charts.element.appendChild(stability.card);
  append(
    root,
    h('header', { class: 'page-header' }, h('h1', { text: `Run ${name}` }), h('p', { class: 'muted', text: `${data.runDir} · ${data.points.length} epoch points` })),
    h('section', { 'aria-labelledby': 'h-summary' }, h('h2', { id: 'h-summary', text: 'Summary' }), h('table', { id: 'run-summary', class: 'kv-table' }, summary)),
    h('section', { 'aria-labelledby': 'h-curves' }, h('h2', { id: 'h-curves', text: 'Curves' }), charts.element),
    h('section', { 'aria-labelledby': 'h-ckpts' }, h('h2', { id: 'h-ckpts', text: 'Checkpoints' }), list),
  );
  charts.set(data.points);
  const last = data.points.length ? data.points[data.points.length - 1].epoch : undefined;
  if (stability && data.stability) stability.setFigure(stabilityFigure(data.stability, last));
}
