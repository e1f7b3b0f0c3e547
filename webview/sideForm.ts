/**
 * The side view's training form (vscode-elements): dataset, optimizer,
 * model, epochs and stability checks, the Train and Stop buttons, and the
 * hint that says where the settings come from. It checks what the user
 * typed before asking the host to train.
 */
import type { TrainForm } from '../src/protocol';
import { post } from './api';
import { append, clear, h } from './dom';

type SelectEl = HTMLElementTagNameMap['vscode-single-select'];
type TextEl = HTMLElementTagNameMap['vscode-textfield'];
type ButtonEl = HTMLElementTagNameMap['vscode-button'];

export interface FormChoices {
  datasets: readonly string[];
  optimizers: readonly string[];
}

function field(label: string, forId: string, control: HTMLElement): HTMLElement {
  return h('div', { class: 'field' }, h('vscode-label', { for: forId, text: label }), control);
}

/** The options of a select, keeping a current value that is not among them (from landscape.json). */
function setOptions(sel: SelectEl, values: readonly string[], current: string): void {
  const all = values.includes(current) || !current ? [...values] : [...values, current];
  clear(sel);
  for (const v of all) sel.appendChild(h('vscode-option', { value: v, text: v }));
  sel.value = current;
}

function linkButton(text: string, ariaLabel: string, onClick: () => void): HTMLElement {
  const b = h('button', { class: 'link-button', type: 'button', text, 'aria-label': ariaLabel });
  b.addEventListener('click', onClick);
  return b;
}

export class TrainFormView {
  readonly element: HTMLElement;
  private readonly dataset = h('vscode-single-select', { id: 'f-dataset', 'aria-label': 'Dataset' }) as SelectEl;
  private readonly model = h('vscode-textfield', { id: 'f-model', 'aria-label': 'Model: layer widths from input to output', placeholder: '64-32-32-10' }) as TextEl;
  private readonly optimizer = h('vscode-single-select', { id: 'f-optimizer', 'aria-label': 'Optimizer' }) as SelectEl;
  private readonly epochs = h('vscode-textfield', { id: 'f-epochs', type: 'number', min: 1, 'aria-label': 'Epochs' }) as TextEl;
  private readonly stabilityEvery = h('vscode-textfield', {
    id: 'f-stability',
    type: 'number',
    min: 0,
    placeholder: 'off',
    'aria-label': 'Estimate the sharpness λmax every this many epochs (empty: off)',
    title: 'Every this many epochs, estimate λmax of the training loss and chart it against the 2/η line (stabilityEvery in landscape.json). Empty: off.',
  }) as TextEl;
  private readonly train = h('vscode-button', { id: 'btn-train', 'aria-label': 'Train with these settings', text: 'Train' }) as ButtonEl;
  private readonly stop = h('vscode-button', { id: 'btn-stop', secondary: true, disabled: true, 'aria-label': 'Stop training', text: 'Stop' }) as ButtonEl;
  private readonly formError = h('div', { id: 'form-error', class: 'form-error', role: 'alert' });
  private readonly experimentHint = h('div', { class: 'hint', id: 'experiment-hint' });
  private choices: FormChoices = { datasets: [], optimizers: [] };
  private trainingNow = false;

  constructor() {
    this.element = h(
      'section',
      { class: 'train-form', 'aria-label': 'Training settings' },
      h(
        'div',
        { class: 'field-grid' },
        field('Dataset', 'f-dataset', this.dataset),
        field('Optimizer', 'f-optimizer', this.optimizer),
        field('Model', 'f-model', this.model),
        field('Epochs', 'f-epochs', this.epochs),
        field('Stability every', 'f-stability', this.stabilityEvery),
      ),
      h('div', { class: 'buttons' }, this.train, this.stop),
      this.formError,
      this.experimentHint,
    );
    this.train.addEventListener('click', () => this.submit());
    this.stop.addEventListener('click', () => post({ type: 'stop' }));
  }

  get training(): boolean {
    return this.trainingNow;
  }

  setChoices(choices: FormChoices): void {
    this.choices = choices;
  }

  setForm(f: TrainForm, experimentFile: string | null): void {
    setOptions(this.dataset, this.choices.datasets, f.dataset);
    setOptions(this.optimizer, this.choices.optimizers, f.optimizer);
    this.model.value = f.model;
    this.epochs.value = String(f.epochs);
    this.stabilityEvery.value = f.stabilityEvery ? String(f.stabilityEvery) : '';
    this.showSource(experimentFile);
  }

  /** While a run trains, Train waits and Stop works. */
  setTraining(on: boolean): void {
    this.trainingNow = on;
    this.train.disabled = on;
    this.stop.disabled = !on;
  }

  private showSource(experimentFile: string | null): void {
    clear(this.experimentHint);
    const openExperiment = () => post({ type: 'openExperiment' });
    if (experimentFile) {
      append(this.experimentHint, 'Settings from ', linkButton(experimentFile, `Open ${experimentFile}`, openExperiment), '; the fields above override it for this view.');
    } else {
      append(this.experimentHint, 'No landscape.json: defaults. ', linkButton('New Experiment', 'Create landscape.json', openExperiment), ' writes one to edit.');
    }
  }

  private submit(): void {
    if (this.trainingNow) return;
    const f = this.read();
    this.formError.textContent = typeof f === 'string' ? f : '';
    if (typeof f !== 'string') post({ type: 'train', form: f });
  }

  /** The form as the host wants it, or what is wrong with it. */
  private read(): TrainForm | string {
    const n = Number(this.epochs.value);
    if (!Number.isInteger(n) || n < 1) return 'Epochs must be a whole number of at least 1.';
    // The host checks the spec itself (grammar and shapes) and answers with the grammar's message.
    if (this.model.value.trim().length === 0 || this.model.value.length > 20000) return 'Model must be layer widths such as 64-32-32-10, a layer spec or a built-in name such as cnn-digits.';
    if (!this.dataset.value) return 'Choose a dataset.';
    if (!this.optimizer.value) return 'Choose an optimizer.';
    const st = this.stabilityEvery.value.trim() === '' ? 0 : Number(this.stabilityEvery.value);
    if (!Number.isInteger(st) || st < 0) return 'Stability every must be a whole number of epochs (empty: off).';
    return { dataset: this.dataset.value, model: this.model.value.trim(), optimizer: this.optimizer.value, epochs: n, stabilityEvery: st };
  }
}
