/**
 * The three webview pages, each built by its real host class (the side view
 * provider, the checkpoint viewers, the result panels) on a stand-in panel,
 * with stand-ins for the services behind them; outgoing messages are
 * validated (checkOutgoing). For tests of what a page accepts from its
 * webview and what it sends back. Call installFakeVscode() first: the host
 * modules are required here, after the stand-in is in place.
 */
import type { CheckpointDetails, RunsList, ViewName } from '../../src/protocol';
import { FakeUri, fakeLog, fakeWebviewPanel } from './vscode';

export interface BuiltPage {
  /** The stand-in panel: `send` plays the page, `posted` is what the host sent it. */
  fake: ReturnType<typeof fakeWebviewPanel>;
  log: ReturnType<typeof fakeLog>;
  /** Something that makes the host send the page a message, if the page is ready for one. */
  poke(): void;
  dispose(): void;
}

const EXTENSION = FakeUri.file('/extension');
const noEvent = () => ({ dispose() {} });

/** A one-listener event a test fires. */
function testEvent<T>() {
  let listener: ((e: T) => void) | undefined;
  const event = (l: (e: T) => void) => ((listener = l), { dispose: () => (listener = undefined) });
  return { event, fire: (e: T) => listener?.(e) };
}
const NO_RUNS: RunsList = { runs: [], others: [], truncated: false };

/** What the stand-in worker says a checkpoint holds. */
export const SMALL_CHECKPOINT: CheckpointDetails = { format: 'safetensors', fileSize: 1, metadata: [], spec: null, tensors: [], histograms: [] };

function sidePage(): BuiltPage {
  const { SideViewProvider } = require('../../src/host/sideView') as typeof import('../../src/host/sideView');
  const fake = fakeWebviewPanel('view');
  const log = fakeLog();
  // A run in the store: the provider does not go looking for the last one on disk.
  const store = { current: {}, onEvent: () => () => undefined, snapshot: () => null };
  const runsChanged = testEvent<RunsList>();
  const runs = { onDidChange: runsChanged.event, scanNow: async () => NO_RUNS, list: NO_RUNS };
  const backend = { onDidChange: noEvent, label: { text: 'cpu', detail: '' }, datasets: ['digits'], optimizers: ['sgd'], probe: async () => undefined };
  const training = { running: false, start: async () => undefined, stop: () => false };
  const study = { running: false, stop: () => false };
  const side = new SideViewProvider(EXTENSION as never, store as never, runs as never, backend as never, training as never, study as never, log as never, true);
  side.resolveWebviewView(fake.panel as never);
  return { fake, log, poke: () => runsChanged.fire(NO_RUNS), dispose: () => side.dispose() };
}

function checkpointPage(file: string): BuiltPage {
  const { CheckpointViewers } = require('../../src/host/checkpointViewer') as typeof import('../../src/host/checkpointViewer');
  const fake = fakeWebviewPanel();
  const log = fakeLog();
  const jobs = { start: () => ({ result: Promise.resolve(SMALL_CHECKPOINT), cancel() {} }) };
  const minimumAChanged = testEvent<void>();
  const minimumA = { get: () => undefined, onDidChange: minimumAChanged.event };
  const viewers = new CheckpointViewers(EXTENSION as never, jobs as never, minimumA as never, log as never, true);
  viewers.resolveCustomEditor({ uri: FakeUri.file(file) } as never, fake.panel as never);
  return { fake, log, poke: () => minimumAChanged.fire(), dispose: () => viewers.dispose() };
}

function resultPage(file: string): BuiltPage {
  const { ResultPanels } = require('../../src/host/results/index') as typeof import('../../src/host/results/index');
  const fake = fakeWebviewPanel();
  const log = fakeLog();
  const panels = new ResultPanels(EXTENSION as never, log as never, true);
  panels.resolveCustomEditor({ uri: FakeUri.file(file) } as never, fake.panel as never);
  return { fake, log, poke: () => panels.setStatus(file, 'poked', false), dispose: () => panels.dispose() };
}

/** Page `view` on a stand-in panel; `file` is the checkpoint or result file it shows (the side view shows none). */
export function buildPage(view: ViewName, file: string): BuiltPage {
  if (view === 'side') return sidePage();
  return view === 'checkpoint' ? checkpointPage(file) : resultPage(file);
}

/** Let the host's message handlers (which run after a microtask, some after file reads) finish. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
