/**
 * The checkpoint viewer page: metadata, model spec, tensor statistics,
 * per-layer weight histograms, re-evaluation on request, and the actions of
 * the explorer context menu. Every value from the file is shown as text.
 */
import { formatNumber, formatPercent, type Action, type CheckpointInfo, type EvalResult, type HostMessage } from '../src/protocol';
import { post, onHostMessage, setState } from './api';
import { Chart } from './charts';
import { append, clear, h, keyValueRows } from './dom';
import { mark } from './timing';

type ButtonEl = HTMLElementTagNameMap['vscode-button'];

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function startCheckpoint(app: HTMLElement): void {
  const title = h('h1', { id: 'checkpoint-title', text: 'Checkpoint' });
  const subtitle = h('p', { id: 'checkpoint-file', class: 'muted' });
  const error = h('div', { id: 'error', class: 'error', role: 'alert', hidden: true });
  const loading = h('p', { id: 'loading', class: 'muted', role: 'status', text: 'Reading the checkpoint…' });

  const actions = h('div', { id: 'actions', class: 'buttons', role: 'group', 'aria-label': 'Checkpoint actions' });
  const evaluateBtn = h('vscode-button', { id: 'btn-evaluate', 'aria-label': 'Re-evaluate train and test loss and accuracy', text: 'Re-evaluate loss and accuracy' }) as ButtonEl;
  evaluateBtn.addEventListener('click', () => {
    if (!evaluateBtn.disabled) post({ type: 'evaluate' });
  });
  const evalStatus = h('p', { id: 'evaluation-status', class: 'muted', role: 'status', text: 'Not evaluated yet: press Re-evaluate to rebuild the dataset from the metadata and measure.' });
  const evalBody = h('tbody');
  const evalTable = h(
    'table',
    { id: 'evaluation-table', class: 'data-table', hidden: true, 'aria-label': 'Re-evaluated loss and accuracy' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }), h('th', { scope: 'col', text: 'loss' }), h('th', { scope: 'col', text: 'accuracy' }))),
    evalBody,
  );

  const modelSpec = h('div', { id: 'model-spec', class: 'model-spec', 'aria-label': 'Model' });
  const metaBody = h('tbody');
  const metaTable = h('table', { id: 'metadata-table', class: 'kv-table', 'aria-label': 'Checkpoint metadata' }, metaBody);
  const tensorBody = h('tbody');
  const cols = ['name', 'shape', 'dtype', 'mean', 'std', 'min', 'max', 'norm'];
  const tensorTable = h(
    'table',
    { id: 'tensor-table', class: 'data-table', 'aria-label': 'Tensors and their statistics' },
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col', text: c })))),
    tensorBody,
  );
  const histograms = h('div', { id: 'histograms', class: 'charts' });
  let charts: Chart[] = [];

  const content = h(
    'div',
    { id: 'content', hidden: true },
    h('section', { 'aria-label': 'Actions' }, actions),
    h('section', { 'aria-labelledby': 'h-eval' }, h('h2', { id: 'h-eval', text: 'Loss and accuracy' }), evalStatus, evalTable),
    h('section', { 'aria-labelledby': 'h-model' }, h('h2', { id: 'h-model', text: 'Model' }), modelSpec),
    h('section', { 'aria-labelledby': 'h-meta' }, h('h2', { id: 'h-meta', text: 'Metadata' }), metaTable),
    h('section', { 'aria-labelledby': 'h-tensors' }, h('h2', { id: 'h-tensors', text: 'Tensors' }), h('div', { class: 'table-scroll' }, tensorTable)),
    h('section', { 'aria-labelledby': 'h-hist' }, h('h2', { id: 'h-hist', text: 'Weight histograms' }), histograms),
  );

  clear(app);
  app.removeAttribute('aria-busy');
  append(app, h('header', { class: 'page-header' }, title, subtitle), loading, error, content);

  const renderActions = (list: Action[]) => {
    clear(actions);
    for (const a of list) {
      const b = h('vscode-button', { secondary: true, 'aria-label': a.detail ? `${a.label} (${a.detail})` : a.label, title: a.detail ?? a.label, text: a.label, 'data-command': a.command });
      b.addEventListener('click', () => post({ type: 'runAction', command: a.command }));
      actions.appendChild(b);
    }
    actions.appendChild(evaluateBtn);
  };

  const renderInfo = (file: string, name: string, info: CheckpointInfo, acts: Action[]) => {
    title.textContent = name;
    subtitle.textContent = `${file} · ${info.format} · ${fmtBytes(info.fileSize)}`;
    loading.hidden = true;
    error.hidden = true;
    content.hidden = false;
    renderActions(acts);

    clear(modelSpec);
    if (info.spec) {
      const s = info.spec;
      append(
        modelSpec,
        h('p', { class: 'spec-line', text: `${s.text} · ${s.paramCount.toLocaleString('en-US')} parameters` }),
        h(
          'ol',
          { class: 'layers', 'aria-label': 'Layers' },
          ...s.layers.slice(1).map((w, i) =>
            h('li', { text: `dense ${s.layers[i]} → ${w}${s.bias ? ' + bias' : ''}${i < s.layers.length - 2 ? `, ${s.activation}` : `, output (${s.loss})`}` }),
          ),
        ),
      );
    } else {
      append(modelSpec, h('p', { class: 'warning', text: `No Landscape model spec: ${info.specError ?? 'unknown layout'}` }));
      evaluateBtn.disabled = true;
    }

    keyValueRows(metaBody, info.metadata.length ? info.metadata : [['(none)', 'this file has no metadata']]);

    clear(tensorBody);
    for (const t of info.tensors) {
      const cells = [t.name, `[${t.shape.join(', ')}]`, t.dtype, formatNumber(t.mean), formatNumber(t.std), formatNumber(t.min), formatNumber(t.max), formatNumber(t.norm)];
      tensorBody.appendChild(h('tr', {}, ...cells.map((c, i) => h('td', { class: i === 0 ? 'tensor-name' : i > 2 ? 'num' : undefined, text: c }))));
    }

    for (const c of charts) c.dispose();
    charts = [];
    clear(histograms);
    info.histograms.forEach((hist, i) => {
      const width = (hist.max - hist.min) / hist.counts.length;
      const centers = hist.counts.map((_, k) => hist.min + (k + 0.5) * width);
      const c = new Chart({
        id: `hist-${i}`,
        title: hist.name,
        ariaLabel: `Histogram of the values of ${hist.name}, from ${formatNumber(hist.min)} to ${formatNumber(hist.max)}`,
        xTitle: 'value',
        yTitle: 'count',
        traces: [{ name: hist.name, color: 'blue', type: 'bar' }],
        exportName: `${name.replace(/\.[^.]*$/, '')}-${hist.name}-histogram`,
        height: 160,
      });
      histograms.appendChild(c.card);
      c.setData([{ x: centers, y: hist.counts }]);
      charts.push(c);
    });
    if (!info.histograms.length) histograms.appendChild(h('p', { class: 'muted', text: 'No weight matrices to plot.' }));
  };

  const renderEvaluation = (r: EvalResult) => {
    evaluateBtn.disabled = false;
    evalTable.hidden = false;
    evalStatus.textContent = `Evaluated on ${r.dataset} with the ${r.backend} backend in ${r.seconds.toFixed(1)} s.`;
    clear(evalBody);
    const row = (label: string, p: EvalResult['train']) =>
      h('tr', {}, h('th', { scope: 'row', text: label }), h('td', { text: formatNumber(p.loss) }), h('td', { text: p.accuracy === undefined ? '–' : formatPercent(p.accuracy) }));
    append(evalBody, row('train', r.train), row('test', r.test));
  };

  onHostMessage((m: HostMessage) => {
    switch (m.type) {
      case 'checkpoint':
        // Lets a panel opened on a model.json come back after a window reload.
        mark('checkpoint');
        setState({ file: m.file });
        renderInfo(m.file, m.name, m.info, m.actions);
        mark('table');
        break;
      case 'checkpointError':
        setState({ file: m.file });
        loading.hidden = true;
        content.hidden = true;
        error.hidden = false;
        error.textContent = m.message;
        break;
      case 'actions':
        renderActions(m.actions);
        break;
      case 'evaluating':
        evaluateBtn.disabled = true;
        evalStatus.textContent = 'Evaluating… (rebuilding the dataset and running the network on it)';
        break;
      case 'evaluation':
        renderEvaluation(m.result);
        break;
      case 'evaluationError':
        evaluateBtn.disabled = false;
        evalStatus.textContent = `Could not evaluate: ${m.message}`;
        break;
      default:
        break;
    }
  });
  post({ type: 'ready', view: 'checkpoint' });
}
