/**
 * The side view page: status, backend, the training form (sideForm.ts), the
 * live charts (liveRun.ts) and the runs/checkpoints list (runsList.ts). A
 * delta that does not continue the charts' copy of the live run exactly
 * (another run, or a gap) makes it ask the host for a fresh snapshot.
 */
import type { BackendLabel, LiveRunStatus, PageHostMessage } from '../src/protocol';
import { post, requestSnapshot, startPage } from './api';
import { append, clear, h } from './dom';
import { LiveRunCharts } from './liveRun';
import { renderRunsList } from './runsList';
import { TrainFormView } from './sideForm';
import { mark } from './timing';

const IDLE_TEXT = 'Ready. Train uses landscape.json, or the defaults when there is none.';

/** The top lines: the run's status, which run the charts show, and the backend. */
class Summary {
  readonly status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', text: 'Connecting…' });
  // Which run the charts show (a study trains several in turn).
  readonly liveRun = h('div', { id: 'live-run', class: 'live-run' });
  private readonly backend = h('span', { id: 'backend', class: 'backend-label', text: 'checking…' });
  readonly element: HTMLElement;

  constructor() {
    const change = h('button', { class: 'link-button', type: 'button', text: 'change', 'aria-label': 'Select the compute backend' });
    change.addEventListener('click', () => post({ type: 'selectBackend' }));
    const backendRow = h('div', { class: 'backend-row' }, h('span', { class: 'muted', text: 'Backend: ' }), this.backend, ' ', change);
    this.element = h('section', { class: 'summary' }, this.status, this.liveRun, backendRow);
  }

  setStatus(s: LiveRunStatus | null): void {
    this.status.textContent = s ? s.text : IDLE_TEXT;
    this.status.dataset.state = s ? s.state : 'idle';
  }

  setBackend(b: BackendLabel): void {
    this.backend.textContent = b.text;
    this.backend.title = b.detail;
  }
}

class SidePage {
  private readonly summary = new Summary();
  private readonly form = new TrainFormView();
  private readonly live = new LiveRunCharts();
  private readonly runsList = h('ul', { id: 'runs-list', class: 'runs-list', 'aria-label': 'Runs and checkpoints in this workspace' });
  private resyncPending = false;

  constructor(app: HTMLElement) {
    clear(app);
    app.removeAttribute('aria-busy');
    append(
      app,
      this.summary.element,
      this.form.element,
      this.live.element,
      h('section', { class: 'runs', 'aria-label': 'Runs' }, h('h2', { text: 'Runs and checkpoints' }), this.runsList),
    );
  }

  onMessage(m: PageHostMessage<'side'>): void {
    switch (m.type) {
      case 'sideSnapshot':
        this.onSnapshot(m);
        break;
      case 'runDelta':
        this.onDelta(m);
        break;
      case 'runs':
        renderRunsList(this.runsList, m.runs);
        break;
      case 'backend':
        this.summary.setBackend(m.backend);
        break;
      case 'form':
        if (!this.form.training) this.form.setForm(m.form, m.experimentFile);
        break;
    }
  }

  private setStatus(s: LiveRunStatus | null): void {
    this.summary.setStatus(s);
    if (s) this.form.setTraining(s.state === 'starting' || s.state === 'running');
  }

  private onSnapshot(m: Extract<PageHostMessage<'side'>, { type: 'sideSnapshot' }>): void {
    mark('snapshot');
    this.resyncPending = false;
    this.form.setChoices({ datasets: m.datasets, optimizers: m.optimizers });
    this.form.setForm(m.form, m.experimentFile);
    this.summary.setBackend(m.backend);
    renderRunsList(this.runsList, m.runs);
    this.summary.liveRun.textContent = m.live ? `Charts: ${m.live.label}` : '';
    this.live.show(m.live);
    this.setStatus(m.live?.status ?? null);
    // A snapshot taken as a run starts may predate the host's job handle: trust the run's state too.
    this.form.setTraining(m.training || m.live?.status.state === 'starting' || m.live?.status.state === 'running');
  }

  private onDelta(d: Extract<PageHostMessage<'side'>, { type: 'runDelta' }>): void {
    if (!this.live.continues(d)) {
      if (!this.resyncPending) {
        this.resyncPending = true;
        requestSnapshot();
      }
      return;
    }
    this.live.extend(d);
    if (d.status) this.setStatus(d.status);
  }
}

export function startSide(app: HTMLElement): void {
  const page = new SidePage(app);
  startPage('side', (m) => page.onMessage(m));
}
