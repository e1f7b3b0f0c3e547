/**
 * The one message protocol between the extension host and its webviews: one
 * discriminated union per direction, each with a runtime validator used on
 * both sides (a webview is a web page: anything it sends, or anything that
 * reaches it, is checked before use).
 *
 * The schema library lives in src/schema.ts; what a result panel is sent is
 * each result kind's own schema from src/results/, imported here, not
 * restated. This file must stay free of Node, DOM and vscode imports: it is
 * bundled into the extension host and into the browser bundle alike.
 */
import { LIMITS, S, validate, type Infer, type Schema, type Validated } from './schema';
import { RESULT_KINDS, ResultDataSchema } from './results';
import { CheckpointRefSchema, count, EpochPointSchema, filePath as path, num, StabilityPointSchema, str } from './results/shapes';

export { formatNumber, formatPercent } from './format';

// Result shapes and types, re-exported for the pages and host code that speak of them in messages.
export { ResultDataSchema, RESULT_KINDS, type ResultData, type ResultKind } from './results';
export {
  AnalysisRefSchema,
  CheckpointRefSchema,
  EpochPointSchema,
  HeightNumbersSchema,
  MinimumRefSchema,
  StabilityPointSchema,
  STABILITY_VERDICTS,
  type AnalysisRef,
  type CheckpointRef,
  type EpochPoint,
  type HeightNumbers,
  type MinimumRef,
  type StabilityPoint,
} from './results/shapes';
export { PATH_METHOD_NAMES, PATH_OBJECTIVE_NAMES, PathPlaneSchema, barrierPathView, type BarrierPathView, type PathPlane } from './results/path';
export { MAX_MINIMA, BarrierPairSchema, TreeNodeSchema, barrierMatrixView, type BarrierPair, type BarrierMatrixView, type PairResult, type TreeMerge, type TreeNodeData } from './results/barriers';
export { KERNEL_NAMES, MAX_COMPONENTS, KpcaOverlaySchema, KpcaPointSchema, type KpcaOverlay, type KpcaPoint } from './results/kpca';
export { GradProbeSchema, type GradProbe } from './results/gradcheck';
export { MAX_SLICE_POINTS, SLICE_KIND_NAMES, SliceAxisSchema, SliceDirectionSchema, type SliceAxis } from './results/slice';

// ---------------------------------------------------------------------------
// Shapes of the pages' own messages.

const series = S.array(num, LIMITS.points);

export const RUN_STATES = ['idle', 'starting', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const LiveRunStatusSchema = S.object({
  state: S.oneOf(RUN_STATES),
  /** One human line, e.g. "training digits · epoch 3/8". */
  text: S.string(LIMITS.text),
  epoch: count,
  epochs: count,
});
export type LiveRunStatus = Infer<typeof LiveRunStatusSchema>;

/** The authoritative series of the current (or last) run, as the host holds it. */
export const LiveRunSchema = S.object({
  runId: str,
  runDir: path,
  label: str,
  points: S.array(EpochPointSchema, LIMITS.points),
  checkpoints: S.array(CheckpointRefSchema),
  status: LiveRunStatusSchema,
  /** Stability checks so far (runs with stabilityEvery). */
  stability: S.optional(S.array(StabilityPointSchema, LIMITS.list)),
});
export type LiveRun = Infer<typeof LiveRunSchema>;

export const RunEntrySchema = S.object({
  runDir: path,
  runJson: path,
  label: str,
  detail: str,
  status: str,
  checkpoints: S.array(CheckpointRefSchema),
});
export type RunEntry = Infer<typeof RunEntrySchema>;

export const RunsListSchema = S.object({
  runs: S.array(RunEntrySchema),
  /** Checkpoints (and tfjs model.json files) outside any run folder. */
  others: S.array(CheckpointRefSchema),
  /** True when the scan stopped at its cap. */
  truncated: S.boolean(),
});
export type RunsList = Infer<typeof RunsListSchema>;

export const TrainFormSchema = S.object({
  dataset: S.string(LIMITS.path),
  model: S.string(20_000),
  optimizer: S.string(100),
  epochs: S.int(1, 1_000_000),
  /** Estimate λmax every this many epochs; 0 or absent: off. */
  stabilityEvery: S.optional(S.int(0, 1_000_000)),
});
export type TrainForm = Infer<typeof TrainFormSchema>;

export const BackendLabelSchema = S.object({ text: str, detail: S.string(LIMITS.text) });
export type BackendLabel = Infer<typeof BackendLabelSchema>;

export const TensorStatSchema = S.object({
  name: str,
  shape: S.array(count, LIMITS.shapeRank),
  dtype: S.string(16),
  size: count,
  mean: S.nullable(num),
  std: S.nullable(num),
  min: S.nullable(num),
  max: S.nullable(num),
  norm: S.nullable(num),
});
export type TensorStat = Infer<typeof TensorStatSchema>;

export const HistogramSchema = S.object({
  name: str,
  min: num,
  max: num,
  counts: S.array(count, LIMITS.bins),
});
export type Histogram = Infer<typeof HistogramSchema>;

export const ModelSpecInfoSchema = S.object({
  text: str,
  layers: S.array(S.int(1), 1000),
  activation: str,
  bias: S.boolean(),
  loss: str,
  paramCount: count,
  /** Layer-grammar models: one line per layer with its output shape (dense models list `layers` instead). */
  layerLines: S.optional(S.array(S.string(LIMITS.string), 1000)),
  /** The first convolution's filters [out, in, k, k], for small images (at most 64 filters of up to 11×11). */
  filters: S.optional(S.object({ name: str, shape: S.array(S.int(1), 4), values: S.array(num, 64 * 3 * 121) })),
});
export type ModelSpecInfo = Infer<typeof ModelSpecInfoSchema>;

/** What the checkpoint viewer shows; computed in the worker. */
export const CheckpointDetailsSchema = S.object({
  format: S.oneOf(['safetensors', 'tfjs'] as const),
  fileSize: count,
  metadata: S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text))),
  spec: S.nullable(ModelSpecInfoSchema),
  /** Why no model spec could be read (e.g. a PyTorch file without metadata). */
  specError: S.optional(S.string(LIMITS.text)),
  tensors: S.array(TensorStatSchema, LIMITS.tensors),
  histograms: S.array(HistogramSchema, LIMITS.tensors),
});
export type CheckpointDetails = Infer<typeof CheckpointDetailsSchema>;

const EvalPartSchema = S.object({ loss: S.nullable(num), accuracy: S.optional(S.nullable(num)) });
export const EvalResultSchema = S.object({
  dataset: str,
  backend: str,
  train: EvalPartSchema,
  test: EvalPartSchema,
  seconds: num,
});
export type EvalResult = Infer<typeof EvalResultSchema>;

/** A button in the checkpoint viewer that runs a contributed command on the file. */
export const ActionSchema = S.object({ command: S.string(200), label: str, detail: S.optional(str) });
export type Action = Infer<typeof ActionSchema>;

export const VIEWS = ['side', 'checkpoint', 'result'] as const;
export type ViewName = (typeof VIEWS)[number];

/** What a result panel keeps in its webview state, so the serializer can restore it. */
export const ResultPanelStateSchema = S.object({ kind: S.oneOf(RESULT_KINDS), file: path });
export type ResultPanelState = Infer<typeof ResultPanelStateSchema>;

/** What a checkpoint panel (opened on a tfjs model.json) keeps in its webview state. */
export const CheckpointPanelStateSchema = S.object({ file: path });

/** What a study report panel keeps in its webview state; the report page posts nothing. */
export const ReportPanelStateSchema = S.object({ file: S.string(LIMITS.path) });

// ---------------------------------------------------------------------------
// Host -> webview: one union per page.

/** What the side view (training form, live run, runs list) is sent. */
export const SideHostMessageSchema = S.tagged('type', {
  /** Everything the side view shows; sent when it is ready or visible again. */
  sideSnapshot: S.object({
    type: S.literal('sideSnapshot'),
    live: S.nullable(LiveRunSchema),
    runs: RunsListSchema,
    backend: BackendLabelSchema,
    form: TrainFormSchema,
    datasets: S.array(S.string(LIMITS.path), 1000),
    optimizers: S.array(S.string(100), 100),
    training: S.boolean(),
    /** Workspace-relative path of landscape.json when the form came from it. */
    experimentFile: S.nullable(path),
  }),
  /** New points (and checkpoints, status) of the live run, starting at index `from`. */
  runDelta: S.object({
    type: S.literal('runDelta'),
    runId: str,
    from: count,
    points: S.array(EpochPointSchema, LIMITS.points),
    checkpoints: S.array(CheckpointRefSchema),
    status: S.optional(LiveRunStatusSchema),
    /** New stability checks, starting at index `from` of the run's list. */
    stability: S.optional(S.object({ from: count, points: S.array(StabilityPointSchema, LIMITS.list) })),
  }),
  runs: S.object({ type: S.literal('runs'), runs: RunsListSchema }),
  backend: S.object({ type: S.literal('backend'), backend: BackendLabelSchema }),
  form: S.object({ type: S.literal('form'), form: TrainFormSchema, experimentFile: S.nullable(path) }),
});

/** What the checkpoint viewer is sent. */
export const CheckpointHostMessageSchema = S.tagged('type', {
  checkpoint: S.object({
    type: S.literal('checkpoint'),
    file: path,
    name: str,
    info: CheckpointDetailsSchema,
    actions: S.array(ActionSchema, 100),
  }),
  checkpointError: S.object({ type: S.literal('checkpointError'), file: path, message: S.string(LIMITS.text) }),
  actions: S.object({ type: S.literal('actions'), actions: S.array(ActionSchema, 100) }),
  evaluating: S.object({ type: S.literal('evaluating') }),
  evaluation: S.object({ type: S.literal('evaluation'), result: EvalResultSchema }),
  evaluationError: S.object({ type: S.literal('evaluationError'), message: S.string(LIMITS.text) }),
});

/** What a result panel is sent. */
export const ResultHostMessageSchema = S.tagged('type', {
  result: S.object({ type: S.literal('result'), file: path, title: str, data: ResultDataSchema }),
  resultError: S.object({ type: S.literal('resultError'), file: path, message: S.string(LIMITS.text) }),
  /** A status line under a shown result (e.g. an overlay being computed); busy disables its buttons. */
  resultStatus: S.object({ type: S.literal('resultStatus'), file: path, text: S.string(LIMITS.text), busy: S.boolean() }),
  /**
   * A result still being computed: a status line and the path height per
   * iteration of the path being optimized (series `id`), from index `from`.
   * A page whose copy does not end at `from` asks for a snapshot ('ready').
   */
  resultProgress: S.object({
    type: S.literal('resultProgress'),
    file: path,
    kind: S.oneOf(RESULT_KINDS),
    title: str,
    status: S.string(LIMITS.text),
    series: S.nullable(
      S.object({
        id: str,
        from: count,
        steps: count,
        heights: series,
        best: series,
        /** The straight line's height, drawn as a reference. */
        straight: S.optional(num),
      }),
    ),
  }),
});

/** Everything the host sends (the pages share one bundle, which validates against this). */
export const HostMessageSchema = S.tagged('type', { ...SideHostMessageSchema.variants, ...CheckpointHostMessageSchema.variants, ...ResultHostMessageSchema.variants });
export type SideHostMessage = Infer<typeof SideHostMessageSchema>;
export type CheckpointHostMessage = Infer<typeof CheckpointHostMessageSchema>;
export type ResultHostMessage = Infer<typeof ResultHostMessageSchema>;
export type HostMessage = Infer<typeof HostMessageSchema>;
export type HostMessageType = HostMessage['type'];

// ---------------------------------------------------------------------------
// Webview -> host: what every page may send, then each page's own.

/** What every page sends: handled once, by the page controllers (src/host/pageController.ts, webview/api.ts). */
export const SharedWebviewMessageSchema = S.tagged('type', {
  /** The page loaded (or lost track of the stream) and wants a snapshot. */
  ready: S.object({ type: S.literal('ready'), view: S.oneOf(VIEWS) }),
  inspect: S.object({ type: S.literal('inspect'), path }),
  openRun: S.object({ type: S.literal('openRun'), runJson: path }),
  export: S.object({
    type: S.literal('export'),
    format: S.oneOf(['png', 'svg'] as const),
    dataUrl: S.string(LIMITS.dataUrl),
    name: S.string(200),
  }),
  log: S.object({ type: S.literal('log'), level: S.oneOf(['info', 'warn', 'error'] as const), message: S.string(LIMITS.text) }),
});

/** The side view's own requests. */
export const SideWebviewMessageSchema = S.tagged('type', {
  train: S.object({ type: S.literal('train'), form: TrainFormSchema }),
  stop: S.object({ type: S.literal('stop') }),
  openExperiment: S.object({ type: S.literal('openExperiment') }),
  selectBackend: S.object({ type: S.literal('selectBackend') }),
});

/** The checkpoint viewer's own requests. */
export const CheckpointWebviewMessageSchema = S.tagged('type', {
  evaluate: S.object({ type: S.literal('evaluate') }),
  /** A checkpoint-viewer button: runs one of the offered actions on the viewer's file. */
  runAction: S.object({ type: S.literal('runAction'), command: S.string(200) }),
});

/** A result panel's own requests. */
export const ResultWebviewMessageSchema = S.tagged('type', {
  /**
   * A kernel PCA panel's button: the host asks for a run folder (trajectory)
   * or a path result (path) and projects it into the panel's map. No path
   * comes from the page.
   */
  kpcaOverlay: S.object({ type: S.literal('kpcaOverlay'), source: S.oneOf(['trajectory', 'path'] as const) }),
  /** Remove overlay `index` from the panel's kernel PCA result. */
  removeOverlay: S.object({ type: S.literal('removeOverlay'), index: S.int(0, 99) }),
});

/** Everything a page may send. */
export const WebviewMessageSchema = S.tagged('type', {
  ...SharedWebviewMessageSchema.variants,
  ...SideWebviewMessageSchema.variants,
  ...CheckpointWebviewMessageSchema.variants,
  ...ResultWebviewMessageSchema.variants,
});
export type SharedWebviewMessage = Infer<typeof SharedWebviewMessageSchema>;
export type SideWebviewMessage = Infer<typeof SideWebviewMessageSchema>;
export type CheckpointWebviewMessage = Infer<typeof CheckpointWebviewMessageSchema>;
export type ResultWebviewMessage = Infer<typeof ResultWebviewMessageSchema>;
export type WebviewMessage = Infer<typeof WebviewMessageSchema>;
export type WebviewMessageType = WebviewMessage['type'];

// ---------------------------------------------------------------------------
// Validation entry points.

export function validateHostMessage(m: unknown): Validated<HostMessage> {
  return validate(HostMessageSchema, m, 'message');
}

export function validateWebviewMessage(m: unknown): Validated<WebviewMessage> {
  return validate(WebviewMessageSchema, m, 'message');
}

// ---------------------------------------------------------------------------
// Each page's protocol: what it is sent, and what it may send (its own
// requests and the shared ones, with a 'ready' that names this page). The
// page controllers on both sides (src/host/pageController.ts,
// webview/api.ts) validate against these, so a message meant for another
// page is refused like any malformed one.

const PAGE_OWN_REQUESTS = {
  side: SideWebviewMessageSchema,
  checkpoint: CheckpointWebviewMessageSchema,
  result: ResultWebviewMessageSchema,
} as const;

const PAGE_HOST_MESSAGES = {
  side: SideHostMessageSchema,
  checkpoint: CheckpointHostMessageSchema,
  result: ResultHostMessageSchema,
} as const;

/** What page P is sent. */
export type PageHostMessage<P extends ViewName> = Infer<(typeof PAGE_HOST_MESSAGES)[P]>;
/** Page P's own requests (what its handler table on the host answers). */
export type PageRequest<P extends ViewName> = Infer<(typeof PAGE_OWN_REQUESTS)[P]>;
/** Everything page P may send. */
export type PageWebviewMessage<P extends ViewName> = SharedWebviewMessage | PageRequest<P>;

function pageWebviewSchema<P extends ViewName>(page: P) {
  return S.tagged('type', {
    ...SharedWebviewMessageSchema.variants,
    ready: S.object({ type: S.literal('ready'), view: S.literal(page) }),
    ...PAGE_OWN_REQUESTS[page].variants,
  });
}

const PAGE_WEBVIEW_MESSAGES = { side: pageWebviewSchema('side'), checkpoint: pageWebviewSchema('checkpoint'), result: pageWebviewSchema('result') };

/** Whether a page's message is one every page shares (handled once, by the page controller). */
export function isSharedWebviewMessage(m: WebviewMessage): m is SharedWebviewMessage {
  return Object.prototype.hasOwnProperty.call(SharedWebviewMessageSchema.variants, m.type);
}

/** A message from page `page`: its own requests and the shared ones only. */
export function validatePageMessage<P extends ViewName>(page: P, m: unknown): Validated<PageWebviewMessage<P>> {
  // The lookup by a generic page widens the schema's type; the cast narrows it back.
  return validate(PAGE_WEBVIEW_MESSAGES[page] as Schema<unknown>, m, 'message') as Validated<PageWebviewMessage<P>>;
}

/** A message from the host to page `page`: only what that page is sent. */
export function validatePageHostMessage<P extends ViewName>(page: P, m: unknown): Validated<PageHostMessage<P>> {
  return validate(PAGE_HOST_MESSAGES[page] as Schema<unknown>, m, 'message') as Validated<PageHostMessage<P>>;
}
