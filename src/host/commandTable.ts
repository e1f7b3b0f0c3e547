/**
 * Every command the extension contributes, in one table. The handlers live in
 * src/host/commands/ (one file per command); package.json's `contributes`
 * must list the same ids and titles, which test/unit/host-manifest.test.ts
 * checks. Adding a command: a row here, a handler file, a line in
 * commands/index.ts, and its manifest entries (see notes/extension.md).
 *
 * Pure data: the unit tests import it without VS Code.
 */

export const CATEGORY = 'Landscape';

/** `when` clause matching the files our explorer actions apply to. */
export const CHECKPOINT_FILE_WHEN = 'resourceExtname == .safetensors || resourceFilename == model.json';

export interface CommandInfo {
  id: string;
  /** Shown as "Landscape: <title>" in the palette. */
  title: string;
  /** Codicon for view and editor title bars. */
  icon?: string;
  /** Offered in the explorer context menu of checkpoint files (and tfjs model.json). */
  explorerContext?: boolean;
  /** The `when` clause of that menu entry, when it is not CHECKPOINT_FILE_WHEN. */
  explorerWhen?: string;
  /** Offered as a button in the checkpoint viewer (receives the viewer's file). */
  viewerAction?: boolean;
  /** Label of that button, when it should differ from the title. */
  viewerLabel?: string;
  /** Training or writing files: asks for workspace trust first. */
  needsTrust?: boolean;
}

export const COMMANDS = {
  newExperiment: { id: 'landscape.newExperiment', title: 'New Experiment', icon: '$(new-file)', needsTrust: true },
  train: { id: 'landscape.train', title: 'Train', icon: '$(play)', needsTrust: true },
  stop: { id: 'landscape.stop', title: 'Stop', icon: '$(debug-stop)' },
  openPanel: { id: 'landscape.openPanel', title: 'Open Panel' },
  inspectCheckpoint: { id: 'landscape.inspectCheckpoint', title: 'Inspect Checkpoint', explorerContext: true },
  selectBackend: { id: 'landscape.selectBackend', title: 'Select Backend', icon: '$(server-environment)' },
  showLog: { id: 'landscape.showLog', title: 'Show Log', icon: '$(output)' },
  setMinimumA: {
    id: 'landscape.setMinimumA',
    title: 'Set as Minimum A',
    explorerContext: true,
    viewerAction: true,
  },
  findPath: { id: 'landscape.findPath', title: 'Find Path Between Minima', icon: '$(debug-step-over)', needsTrust: true },
  barrierToMinimumA: {
    id: 'landscape.barrierToMinimumA',
    title: 'Compute Barrier to Minimum A',
    explorerContext: true,
    explorerWhen: `landscape.minimumASet && (${CHECKPOINT_FILE_WHEN})`,
    viewerAction: true,
    needsTrust: true,
  },
  barrierBetweenSelected: {
    id: 'landscape.barrierBetweenSelected',
    title: 'Compute Barrier Between Selected',
    explorerContext: true,
    explorerWhen: `listMultiSelection && !explorerResourceIsFolder && (${CHECKPOINT_FILE_WHEN})`,
    needsTrust: true,
  },
  barriersBetween: {
    id: 'landscape.barriersBetween',
    title: 'Barriers Between Checkpoints',
    explorerContext: true,
    explorerWhen: 'explorerResourceIsFolder || listMultiSelection',
    needsTrust: true,
  },
  compareOptimizers: { id: 'landscape.compareOptimizers', title: 'Compare Optimizers', icon: '$(beaker)', needsTrust: true },
  instability: { id: 'landscape.instability', title: 'Instability Analysis', needsTrust: true },
  kernelPca: {
    id: 'landscape.kernelPca',
    title: 'Kernel PCA of Checkpoints',
    icon: '$(graph-scatter)',
    explorerContext: true,
    explorerWhen: 'explorerResourceIsFolder || listMultiSelection',
    needsTrust: true,
  },
  addToKpcaSet: { id: 'landscape.addToKpcaSet', title: 'Add to Kernel PCA Set', explorerContext: true, viewerAction: true },
  clearKpcaSet: { id: 'landscape.clearKpcaSet', title: 'Clear Kernel PCA Set' },
  hessianSpectrum: {
    id: 'landscape.hessianSpectrum',
    title: 'Hessian Spectrum and Stability',
    explorerContext: true,
    viewerAction: true,
    viewerLabel: 'Hessian Spectrum',
    needsTrust: true,
  },
  gradientCheck: { id: 'landscape.gradientCheck', title: 'Gradient Check', explorerContext: true, viewerAction: true, needsTrust: true },
  plotSlice: { id: 'landscape.plotSlice', title: 'Plot Slice', icon: '$(graph-line)', needsTrust: true },
  plotSliceAround: { id: 'landscape.plotSliceAround', title: 'Plot Slice Around', explorerContext: true, viewerAction: true, viewerLabel: 'Plot Slice', needsTrust: true },
} as const satisfies Record<string, CommandInfo>;

export type CommandKey = keyof typeof COMMANDS;
export const COMMAND_LIST: readonly CommandInfo[] = Object.values(COMMANDS);

/** Commands used between our own views; registered but not contributed (not in the palette). */
export const INTERNAL_COMMANDS = {
  /** Open a run's result panel; argument: the Uri of its run.json. */
  openRun: 'landscape.openRun',
  /** The kernel PCA set's status-bar item: run kernel PCA on the set, or clear it. */
  kpcaSetMenu: 'landscape.kpcaSetMenu',
} as const;

/** Context keys the manifest's `when` clauses use. */
export const CONTEXT_KEYS = {
  /** A training job or a study is running (shows Stop in the view title). */
  training: 'landscape.training',
  /** Minimum A is set (shows "Compute Barrier to Minimum A"). */
  minimumASet: 'landscape.minimumASet',
  /** The kernel PCA set holds checkpoints (shows "Clear Kernel PCA Set" in the palette). */
  kpcaSetNonEmpty: 'landscape.kpcaSetNonEmpty',
} as const;

/** VS Code's own context keys our `when` clauses use. */
export const BUILTIN_CONTEXT_KEYS = ['view', 'resourceExtname', 'resourceFilename', 'listMultiSelection', 'explorerResourceIsFolder'] as const;

export const VIEW_IDS = {
  container: 'landscape',
  side: 'landscape.sideView',
} as const;

export const WEBVIEW_TYPES = {
  /** Custom editor for *.safetensors. */
  checkpointEditor: 'landscape.checkpoint',
  /** Checkpoint viewer opened on a tfjs model.json (a plain webview panel). */
  checkpointPanel: 'landscape.checkpointPanel',
  /** Result panels (training runs, barrier paths and matrices, kernel PCA, Hessian, gradient check, slices). */
  result: 'landscape.result',
  /** Result files (*.path.json, barriers.json, *.kpca.json, *.hessian.json, *.gradcheck.json, *.slice.json) opened from the explorer: a read-only custom editor. */
  resultEditor: 'landscape.resultFile',
  /** The optimizer study's report.html. */
  report: 'landscape.report',
} as const;

export const OUTPUT_CHANNEL = 'Landscape';

/** Settings (contributes.configuration), as `landscape.<key>`. */
export const SECTION = 'landscape';
export const SETTING_KEYS = {
  backend: 'backend',
  checkpointEvery: 'checkpointEvery',
  runsFolder: 'runsFolder',
  maxStreamRate: 'maxStreamRate',
  pathSteps: 'path.steps',
  pathPoints: 'path.points',
  pathPlaneGrid: 'path.planeGrid',
  pathMethod: 'path.method',
  slicePoints1d: 'slice.points1d',
  slicePoints2d: 'slice.points2d',
  hessianTopK: 'hessian.topK',
  hessianTraceSamples: 'hessian.traceSamples',
  hessianDensity: 'hessian.density',
  hessianPerLayer: 'hessian.perLayer',
  kpcaKernel: 'kpca.kernel',
  tfjsNodePath: 'tfjsNodePath',
  queue: 'queue',
} as const;
export const SETTING_DEFAULTS = {
  backend: 'auto' as 'auto' | 'tensorflow' | 'wasm' | 'cpu',
  checkpointEvery: 10,
  runsFolder: 'runs',
  maxStreamRate: 20,
  pathSteps: 100,
  pathPoints: 30,
  pathPlaneGrid: 25,
  pathMethod: 'fourier' as 'fourier' | 'bezier' | 'polychain',
  slicePoints1d: 41,
  slicePoints2d: 31,
  hessianTopK: 5,
  hessianTraceSamples: 32,
  hessianDensity: true,
  hessianPerLayer: true,
  kpcaKernel: 'rbf' as 'rbf' | 'polynomial' | 'sigmoid' | 'cosine' | 'linear',
  tfjsNodePath: '',
  queue: '',
};

/** Ranges of the analysis settings (the manifest says the same; a bad value falls back to the default). */
export const ANALYSIS_SETTING_RANGES = {
  slicePoints1d: [2, 1001],
  slicePoints2d: [2, 201],
  hessianTopK: [1, 50],
  hessianTraceSamples: [0, 10_000],
} as const;
