/**
 * The side view page: status, backend, the training form (vscode-elements),
 * the live charts and the runs/checkpoints list. It keeps a copy of the live
 * run's points; a delta that does not continue that copy exactly (another
 * run, or a gap) makes it ask the host for a fresh snapshot.
 */
import type { EpochPoint, HostMessage, LiveRun, RunStatus, RunsList, StabilityPoint, TrainForm } from '../src/protocol';
import { post, onHostMessage } from './api';
import { Chart, TrainingCharts } from './charts';
import { stabilityFigure } from './stability';
import { append, byId, clear, h, onActivate } from './dom';
import { mark } from './timing';

type SelectEl = HTMLElementTagNameMap['vscode-single-select'];
type TextEl = HTMLElementTagNameMap['vscode-textfield'];
type ButtonEl = HTMLElementTagNameMap['vscode-button'];

interface State {
  runId: string | null;
  points: EpochPoint[];
  stability: StabilityPoint[];
  /** The live run's epochs (where the 2/η line ends). */
  epochs: number;
  training: boolean;
  resyncPending: boolean;
}

const IDLE_TEXT = 'Ready. Train uses landscape.json, or the defaults when there is none.';

export function startSide(app: HTMLElement): void {
  const state: State = { runId: null, points: [], stability: [], epochs: 0, training: false, resyncPending: false };

  const status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', text: 'Connecting…' });
  // Which run the charts show (a study trains several in turn).
  const liveRun = h('div', { id: 'live-run', class: 'live-run' });
  const backend = h('span', { id: 'backend', class: 'backend-label', text: 'checking…' });
  const changeBackend = h('button', { class: 'link-button', type: 'button', text: 'change', 'aria-label': 'Select the compute backend' });
  changeBackend.addEventListener('click', () => post({ type: 'selectBackend' }));

  const dataset = h('vscode-single-select', { id: 'f-dataset', 'aria-label': 'Dataset' }) as SelectEl;
  const model = h('vscode-textfield', { id: 'f-model', 'aria-label': 'Model: layer widths from input to output', placeholder: '64-32-32-10' }) as TextEl;
  const optimizer = h('vscode-single-select', { id: 'f-optimizer', 'aria-label': 'Optimizer' }) as SelectEl;
  const epochs = h('vscode-textfield', { id: 'f-epochs', type: 'number', min: 1, 'aria-label': 'Epochs' }) as TextEl;
  const stabilityEvery = h('vscode-textfield', {
    id: 'f-stability',
    type: 'number',
    min: 0,
    placeholder: 'off',
    'aria-label': 'Estimate the sharpness λmax every this many epochs (empty: off)',
    title: 'Every this many epochs, estimate λmax of the training loss and chart it against the 2/η line (stabilityEvery in landscape.json). Empty: off.',
  }) as TextEl;
  const train = h('vscode-button', { id: 'btn-train', 'aria-label': 'Train with these settings', text: 'Train' }) as ButtonEl;
  const stop = h('vscode-button', { id: 'btn-stop', secondary: true, disabled: true, 'aria-label': 'Stop training', text: 'Stop' }) as ButtonEl;
  const formError = h('div', { id: 'form-error', class: 'form-error', role: 'alert' });
  const experimentHint = h('div', { class: 'hint', id: 'experiment-hint' });

  const field = (label: string, forId: string, control: HTMLElement) =>
    h('div', { class: 'field' }, h('vscode-label', { for: forId, text: label }), control);

  const form = h(
    'section',
    { class: 'train-form', 'aria-label': 'Training settings' },
    h('div', { class: 'field-grid' }, field('Dataset', 'f-dataset', dataset), field('Optimizer', 'f-optimizer', optimizer), field('Model', 'f-model', model), field('Epochs', 'f-epochs', epochs), field('Stability every', 'f-stability', stabilityEvery)),
    h('div', { class: 'buttons' }, train, stop),
    formError,
    experimentHint,
  );

  const charts = new TrainingCharts('chart', 'training');
  const stabilityChart = new Chart({
    id: 'chart-stability',
    title: 'Stability: λmax against 2/η',
    ariaLabel: 'Top Hessian eigenvalue of the training loss at each stability check, against the largest value the learning rate is stable for (the 2/η line); the verdict is in the hover',
    xTitle: 'epoch',
    yTitle: 'λmax',
    traces: [],
    emptyText: 'no stability checks yet',
    exportName: 'training-stability',
  });
  // Shown once a run reports stability checks (stabilityEvery), so runs without them keep four charts.
  stabilityChart.card.hidden = true;
  charts.element.appendChild(stabilityChart.card);
  const drawStability = () => {
    stabilityChart.card.hidden = state.stability.length === 0;
    if (state.stability.length) stabilityChart.setFigure(stabilityFigure(state.stability, state.epochs || undefined));
  };
  const runsList = h('ul', { id: 'runs-list', class: 'runs-list', 'aria-label': 'Runs and checkpoints in this workspace' });

  clear(app);
  app.removeAttribute('aria-busy');
  append(
    app,
    h('section', { class: 'summary' }, status, liveRun, h('div', { class: 'backend-row' }, h('span', { class: 'muted', text: 'Backend: ' }), backend, ' ', changeBackend)),
    form,
    charts.element,
    h('section', { class: 'runs', 'aria-label': 'Runs' }, h('h2', { text: 'Runs and checkpoints' }), runsList),
  );

  // --- form -------------------------------------------------------------------------------
  const setOptions = (sel: SelectEl, values: readonly string[], current: string) => {
    const all = values.includes(current) || !current ? [...values] : [...values, current];
    clear(sel);
    for (const v of all) sel.appendChild(h('vscode-option', { value: v, text: v }));
    sel.value = current;
  };
  let choices = { datasets: [] as string[], optimizers: [] as string[] };
  const setForm = (f: TrainForm, experimentFile: string | null) => {
    setOptions(dataset, choices.datasets, f.dataset);
    setOptions(optimizer, choices.optimizers, f.optimizer);
    model.value = f.model;
    epochs.value = String(f.epochs);
    stabilityEvery.value = f.stabilityEvery ? String(f.stabilityEvery) : '';
    clear(experimentHint);
    if (experimentFile) {
      const open = h('button', { class: 'link-button', type: 'button', text: experimentFile, 'aria-label': `Open ${experimentFile}` });
      open.addEventListener('click', () => post({ type: 'openExperiment' }));
      append(experimentHint, 'Settings from ', open, '; the fields above override it for this view.');
    } else {
      const create = h('button', { class: 'link-button', type: 'button', text: 'New Experiment', 'aria-label': 'Create landscape.json' });
      create.addEventListener('click', () => post({ type: 'openExperiment' }));
      append(experimentHint, 'No landscape.json: defaults. ', create, ' writes one to edit.');
    }
  };
  const readForm = (): TrainForm | string => {
    const n = Number(epochs.value);
    if (!Number.isInteger(n) || n < 1) return 'Epochs must be a whole number of at least 1.';
    if (!/^\s*\d+(\s*[-x,]\s*\d+)+\s*$/.test(model.value)) return 'Model must be layer widths such as 64-32-32-10.';
    if (!dataset.value) return 'Choose a dataset.';
    if (!optimizer.value) return 'Choose an optimizer.';
    const st = stabilityEvery.value.trim() === '' ? 0 : Number(stabilityEvery.value);
    if (!Number.isInteger(st) || st < 0) return 'Stability every must be a whole number of epochs (empty: off).';
    return { dataset: dataset.value, model: model.value.trim(), optimizer: optimizer.value, epochs: n, stabilityEvery: st };
  };
  train.addEventListener('click', () => {
    if (state.training) return;
    const f = readForm();
    formError.textContent = typeof f === 'string' ? f : '';
    if (typeof f !== 'string') post({ type: 'train', form: f });
  });
  stop.addEventListener('click', () => post({ type: 'stop' }));

  const setTraining = (on: boolean) => {
    state.training = on;
    train.disabled = on;
    stop.disabled = !on;
  };

  // --- status, backend, runs ----------------------------------------------------------------
  const setStatus = (s: RunStatus | null) => {
    status.textContent = s ? s.text : IDLE_TEXT;
    status.dataset.state = s ? s.state : 'idle';
    if (s) setTraining(s.state === 'starting' || s.state === 'running');
  };

  const renderRuns = (list: RunsList) => {
    clear(runsList);
    const item = (cls: string, label: string, detail: string | undefined, aria: string, onClick: () => void, extra?: HTMLElement) => {
      const li = h('li', { class: cls, tabindex: 0, role: 'button', 'aria-label': aria, title: detail ?? label });
      append(li, h('span', { class: 'item-label', text: label }), extra, detail ? h('span', { class: 'item-detail', text: detail }) : null);
      onActivate(li, onClick);
      return li;
    };
    for (const r of list.runs) {
      const badge = h('span', { class: `badge badge-${r.status.replace(/[^a-z]/g, '')}`, text: r.status });
      runsList.appendChild(item('run-item', r.label, r.detail, `Open run ${r.label}`, () => post({ type: 'openRun', runJson: r.runJson }), badge));
      for (const c of r.checkpoints) {
        runsList.appendChild(item('checkpoint-item nested', c.label, c.detail, `Inspect checkpoint ${c.label} of run ${r.label}`, () => post({ type: 'inspect', path: c.path })));
      }
    }
    if (list.others.length) {
      runsList.appendChild(h('li', { class: 'group-label', role: 'presentation', text: 'Other checkpoints' }));
      for (const c of list.others) {
        runsList.appendChild(item('checkpoint-item', c.label, c.detail, `Inspect checkpoint ${c.label}`, () => post({ type: 'inspect', path: c.path })));
      }
    }
    if (!list.runs.length && !list.others.length) {
      runsList.appendChild(h('li', { class: 'empty', text: 'No runs or checkpoints in this workspace yet. Train to make some.' }));
    }
    if (list.truncated) runsList.appendChild(h('li', { class: 'empty', text: 'Only the first runs and checkpoints are listed.' }));
  };

  // --- live run -----------------------------------------------------------------------------
  const setLive = (live: LiveRun | null) => {
    state.runId = live?.runId ?? null;
    state.points = live ? live.points.slice() : [];
    state.stability = live?.stability ? live.stability.slice() : [];
    state.epochs = live?.status.epochs ?? 0;
    liveRun.textContent = live ? `Charts: ${live.label}` : '';
    charts.set(state.points);
    drawStability();
    setStatus(live?.status ?? null);
  };

  const onDelta = (d: Extract<HostMessage, { type: 'runDelta' }>) => {
    if (d.runId !== state.runId || d.from !== state.points.length || (d.stability && d.stability.from !== state.stability.length)) {
      if (!state.resyncPending) {
        state.resyncPending = true;
        post({ type: 'ready', view: 'side' });
      }
      return;
    }
    state.points.push(...d.points);
    charts.extend(d.points);
    if (d.status) {
      state.epochs = d.status.epochs;
      setStatus(d.status);
    }
    if (d.stability?.points.length) {
      state.stability.push(...d.stability.points);
      drawStability();
    }
  };

  onHostMessage((m) => {
    switch (m.type) {
      case 'sideSnapshot':
        mark('snapshot');
        state.resyncPending = false;
        choices = { datasets: m.datasets, optimizers: m.optimizers };
        setForm(m.form, m.experimentFile);
        byId('backend').textContent = m.backend.text;
        backend.title = m.backend.detail;
        renderRuns(m.runs);
        setLive(m.live);
        // A snapshot taken as a run starts may predate the host's job handle: trust the run's state too.
        setTraining(m.training || m.live?.status.state === 'starting' || m.live?.status.state === 'running');
        break;
      case 'runDelta':
        onDelta(m);
        break;
      case 'runs':
        renderRuns(m.runs);
        break;
      case 'backend':
        backend.textContent = m.backend.text;
        backend.title = m.backend.detail;
        break;
      case 'form':
        if (!state.training) setForm(m.form, m.experimentFile);
        break;
      default:
        break;
    }
  });
  post({ type: 'ready', view: 'side' });
}
