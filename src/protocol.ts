/**
 * The one message protocol between the extension host and its webviews: one
 * discriminated union per direction, each with a runtime validator used on
 * both sides (a webview is a web page: anything it sends, or anything that
 * reaches it, is checked before use).
 *
 * Types are inferred from the validators, so the two cannot drift apart.
 * This file must stay free of Node, DOM and vscode imports: it is bundled
 * into the extension host and into the browser bundle alike.
 */

// ---------------------------------------------------------------------------
// A minimal schema library: each schema checks a value and carries its type.

export interface Schema<T> {
  /** Returns null when `v` matches, else a message naming the offending path. */
  readonly check: (v: unknown, at: string) => string | null;
  readonly isOptional?: boolean;
  /** Phantom field carrying the static type; never set at run time. */
  readonly __type?: T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['isOptional'] extends true ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectType<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Caps keep a hostile or buggy peer from making us allocate without bound. */
export const LIMITS = {
  string: 4096,
  path: 4096,
  text: 100_000,
  /** An exported PNG of a large panel, as a data URL. */
  dataUrl: 40 * 1024 * 1024,
  points: 1_000_000,
  list: 10_000,
  bins: 1000,
  tensors: 10_000,
  shapeRank: 8,
} as const;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'string' ? 'a string' : `${typeof v}`;
}

export const S = {
  string(max: number = LIMITS.string): Schema<string> {
    return {
      check: (v, at) =>
        typeof v !== 'string' ? `${at}: expected a string, got ${describe(v)}` : v.length > max ? `${at}: string longer than ${max}` : null,
    };
  },
  /** A finite number (NaN and ±Infinity do not survive JSON and are refused). */
  number(): Schema<number> {
    return {
      check: (v, at) => (typeof v === 'number' && Number.isFinite(v) ? null : `${at}: expected a finite number, got ${describe(v)}`),
    };
  },
  int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> {
    return {
      check: (v, at) =>
        typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
          ? null
          : `${at}: expected a whole number in ${min}..${max}, got ${typeof v === 'number' ? v : describe(v)}`,
    };
  },
  boolean(): Schema<boolean> {
    return { check: (v, at) => (typeof v === 'boolean' ? null : `${at}: expected true or false, got ${describe(v)}`) };
  },
  literal<const L extends string>(value: L): Schema<L> {
    return { check: (v, at) => (v === value ? null : `${at}: expected "${value}"`) };
  },
  oneOf<const L extends readonly string[]>(values: L): Schema<L[number]> {
    return {
      check: (v, at) =>
        typeof v === 'string' && (values as readonly string[]).includes(v) ? null : `${at}: expected one of ${values.join(', ')}`,
    };
  },
  array<T>(item: Schema<T>, max: number = LIMITS.list): Schema<T[]> {
    return {
      check: (v, at) => {
        if (!Array.isArray(v)) return `${at}: expected an array, got ${describe(v)}`;
        if (v.length > max) return `${at}: more than ${max} items`;
        for (let i = 0; i < v.length; i++) {
          const e = item.check(v[i], `${at}[${i}]`);
          if (e) return e;
        }
        return null;
      },
    };
  },
  tuple<A, B>(a: Schema<A>, b: Schema<B>): Schema<[A, B]> {
    return {
      check: (v, at) => {
        if (!Array.isArray(v) || v.length !== 2) return `${at}: expected a pair`;
        return a.check(v[0], `${at}[0]`) ?? b.check(v[1], `${at}[1]`);
      },
    };
  },
  nullable<T>(s: Schema<T>): Schema<T | null> {
    return { check: (v, at) => (v === null ? null : s.check(v, at)) };
  },
  optional<T>(s: Schema<T>): Schema<T> & { readonly isOptional: true } {
    return { check: (v, at) => (v === undefined ? null : s.check(v, at)), isOptional: true };
  },
  /** A plain object with exactly these keys (unknown keys are refused). */
  object<const Sh extends Shape>(shape: Sh): Schema<ObjectType<Sh>> & { readonly shape: Sh } {
    const keys = Object.keys(shape);
    return {
      shape,
      check: (v, at) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
        const o = v as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          if (!Object.prototype.hasOwnProperty.call(shape, k)) return `${at}: unexpected field "${k}"`;
        }
        for (const k of keys) {
          const s = shape[k];
          if (!(k in o) && !s.isOptional) return `${at}.${k}: missing`;
          const e = s.check(o[k], `${at}.${k}`);
          if (e) return e;
        }
        return null;
      },
    };
  },
  /** A union discriminated by `tag`; each variant is an object schema keyed by its tag value. */
  tagged<const K extends string, const V extends Record<string, Schema<unknown>>>(
    tag: K,
    variants: V,
  ): Schema<{ [T in keyof V]: Infer<V[T]> }[keyof V]> & { readonly variants: V } {
    return {
      variants,
      check: (v, at) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
        const t = (v as Record<string, unknown>)[tag];
        if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(variants, t)) {
          return `${at}.${tag}: unknown ${tag} ${typeof t === 'string' ? `"${t.slice(0, 60)}"` : describe(t)}`;
        }
        return variants[t].check(v, at);
      },
    };
  },
};

// ---------------------------------------------------------------------------
// Shared data shapes.

const num = S.number();
const optNum = S.optional(S.number());
const str = S.string();
const path = S.string(LIMITS.path);
const count = S.int(0);

/** One epoch event of a training run (epoch 0 is the initial point). */
export const EpochPointSchema = S.object({
  epoch: count,
  step: count,
  trainLoss: num,
  testLoss: num,
  accuracy: optNum,
  testAccuracy: optNum,
  gradNorm: num,
  lr: num,
  time: num,
});
export type EpochPoint = Infer<typeof EpochPointSchema>;

/** The verdicts of a stability check (see src/engine/trainingStability.ts). */
export const STABILITY_VERDICTS = ['stable', 'edge', 'unstable', 'not-applicable'] as const;

/**
 * One stability check of a training run (TrainConfig.stabilityEvery): λmax of
 * the training loss and the largest stable λmax at the learning rate (the 2/η
 * line; absent without a rate).
 */
export const StabilityPointSchema = S.object({
  epoch: count,
  step: count,
  lambdaMax: num,
  errorEstimate: optNum,
  threshold: optNum,
  lr: optNum,
  verdict: S.oneOf(STABILITY_VERDICTS),
  message: S.string(LIMITS.string),
});
export type StabilityPoint = Infer<typeof StabilityPointSchema>;

/** A checkpoint file shown in a list. */
export const CheckpointRefSchema = S.object({
  path,
  label: str,
  detail: S.optional(str),
});
export type CheckpointRef = Infer<typeof CheckpointRefSchema>;

export const RUN_STATES = ['idle', 'starting', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const RunStatusSchema = S.object({
  state: S.oneOf(RUN_STATES),
  /** One human line, e.g. "training digits · epoch 3/8". */
  text: S.string(LIMITS.text),
  epoch: count,
  epochs: count,
});
export type RunStatus = Infer<typeof RunStatusSchema>;

/** The authoritative series of the current (or last) run, as the host holds it. */
export const LiveRunSchema = S.object({
  runId: str,
  runDir: path,
  label: str,
  points: S.array(EpochPointSchema, LIMITS.points),
  checkpoints: S.array(CheckpointRefSchema),
  status: RunStatusSchema,
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
  model: S.string(200),
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
});
export type ModelSpecInfo = Infer<typeof ModelSpecInfoSchema>;

/** What the checkpoint viewer shows; computed in the worker. */
export const CheckpointInfoSchema = S.object({
  format: S.oneOf(['safetensors', 'tfjs'] as const),
  fileSize: count,
  metadata: S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text))),
  spec: S.nullable(ModelSpecInfoSchema),
  /** Why no model spec could be read (e.g. a PyTorch file without metadata). */
  specError: S.optional(S.string(LIMITS.text)),
  tensors: S.array(TensorStatSchema, LIMITS.tensors),
  histograms: S.array(HistogramSchema, LIMITS.tensors),
});
export type CheckpointInfo = Infer<typeof CheckpointInfoSchema>;

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

/** The numbers of one path's height: H, where it lies, and the barriers from each end and their mean. */
export const HeightNumbersSchema = S.object({
  height: num,
  tAtMax: num,
  barrierFromA: num,
  barrierFromB: num,
  barrierFromMean: num,
});
export type HeightNumbers = Infer<typeof HeightNumbersSchema>;

/** A minimum named in a barrier result. `path` is absolute in messages, relative to the result file on disk. */
export const MinimumRefSchema = S.object({ path, label: str, loss: S.nullable(num) });
export type MinimumRef = Infer<typeof MinimumRefSchema>;

const series = S.array(num, LIMITS.points);
const cell = S.nullable(num);
/** At most this many minima in one all-pairs result (the matrices are n×n). */
export const MAX_MINIMA = 500;
const matrix = S.array(S.array(cell, MAX_MINIMA), MAX_MINIMA);
const kvRows = S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text)), 200);

export const PATH_METHOD_NAMES = ['fourier', 'linear', 'neb'] as const;
export const PATH_OBJECTIVE_NAMES = ['minimax', 'sum', 'squared'] as const;

/**
 * The path drawn in the plane through A spanned by B − A (axis 1) and the
 * orthonormalised deviation of the path point farthest from the straight
 * line (axis 2), at the profile's t. Computed in the worker in float64.
 */
export const PathPlaneSchema = S.object({
  x: series,
  y: series,
  /** ‖B − A‖: B sits at (distanceAB, 0). */
  distanceAB: num,
  /** Distance of the farthest path point from the straight line, and its t. */
  maxDeviation: num,
  tAtMaxDeviation: num,
  /** Largest distance of a path point from the plane (how much the drawing leaves out). */
  maxResidual: num,
  /** Optional loss over a grid of the plane: z[iy][ix] at (gridX[ix], gridY[iy]); null where not finite. */
  surface: S.optional(
    S.object({
      x: S.array(num, 1000),
      y: S.array(num, 1000),
      z: S.array(S.array(cell, 1000), 1000),
    }),
  ),
});
export type PathPlane = Infer<typeof PathPlaneSchema>;

/** One computed pair of an all-pairs result, with its dense profiles (for the pair chart under the matrix). */
export const PairResultSchema = S.object({
  i: count,
  j: count,
  optimized: HeightNumbersSchema,
  straight: HeightNumbersSchema,
  iterations: count,
  profile: S.object({ t: series, straight: series, optimized: series }),
});
export type PairResult = Infer<typeof PairResultSchema>;

/**
 * Disconnectivity graph, flattened: node k < n is minimum k; node n + m is
 * merges[m]. The root is the last merge (or minimum 0 when n = 1).
 */
export const TreeMergeSchema = S.object({ height: S.nullable(num), children: S.array(count, MAX_MINIMA) });
export type TreeMerge = Infer<typeof TreeMergeSchema>;

/** Kernels of kernel PCA (the engine's KERNELS; a unit test keeps them equal). */
export const KERNEL_NAMES = ['rbf', 'polynomial', 'sigmoid', 'cosine', 'linear'] as const;
/** Slice kinds (the engine's SLICE_KINDS; a unit test keeps them equal). */
export const SLICE_KIND_NAMES = ['line', 'random', 'hessian', 'plane', 'random-plane'] as const;
/** Most components a kernel PCA result may carry. */
export const MAX_COMPONENTS = 100;
/** Most grid points per axis of a slice. */
export const MAX_SLICE_POINTS = 4096;

/** A checkpoint an analysis result is about. `path` is absolute in messages, relative to the result file on disk. */
export const AnalysisRefSchema = S.object({ path, label: str });
export type AnalysisRef = Infer<typeof AnalysisRefSchema>;

const coords = S.array(num, MAX_COMPONENTS);

/** One checkpoint in a kernel PCA map, with what its metadata says. */
export const KpcaPointSchema = S.object({
  path,
  label: str,
  run: S.optional(str),
  optimizer: S.optional(S.string(100)),
  epoch: optNum,
  /** Training loss and accuracy, test loss and accuracy, as recorded in the metadata. */
  loss: optNum,
  accuracy: optNum,
  testLoss: optNum,
  testAccuracy: optNum,
  coords,
});
export type KpcaPoint = Infer<typeof KpcaPointSchema>;

/** Vectors projected into a fitted map afterwards: a run's trajectory, or points along a path. */
export const KpcaOverlaySchema = S.object({
  kind: S.oneOf(['trajectory', 'path'] as const),
  label: str,
  /** The run folder, or the path result file. */
  source: path,
  points: S.array(S.object({ label: str, coords, epoch: optNum, t: optNum, loss: optNum, testAccuracy: optNum }), LIMITS.list),
});
export type KpcaOverlay = Infer<typeof KpcaOverlaySchema>;

export const GradProbeSchema = S.object({
  kind: S.oneOf(['coordinate', 'direction', 'gradient'] as const),
  index: S.optional(count),
  direction: S.optional(count),
  h: num,
  analytic: num,
  numeric: num,
  absError: num,
  relError: num,
  noise: num,
  kink: S.boolean(),
  crossings: S.optional(count),
  stepDependence: num,
  status: S.oneOf(['ok', 'kink', 'fail'] as const),
});
export type GradProbe = Infer<typeof GradProbeSchema>;

/** Where a slice direction came from: enough to draw it again. */
export const SliceDirectionSchema = S.object({
  kind: S.string(40),
  seed: S.optional(S.int()),
  normalization: S.optional(S.string(40)),
  bias: S.optional(S.string(40)),
  model: S.optional(str),
  norm: num,
  description: S.optional(S.string(LIMITS.text)),
  eigenvalue: optNum,
  residual: optNum,
  lanczos: S.optional(S.object({ seed: S.int(), iterations: count, which: S.string(40), tol: num, hvp: S.string(40), converged: S.boolean() })),
});

export const SliceAxisSchema = S.object({
  name: S.string(20),
  label: str,
  values: S.array(num, MAX_SLICE_POINTS),
  range: S.tuple(num, num),
  points: count,
  direction: SliceDirectionSchema,
});
export type SliceAxis = Infer<typeof SliceAxisSchema>;

const sliceAt = S.object({ x: num, y: optNum, loss: num });

/** Result-panel payloads, one variant per kind. Later issues add theirs here. */
export const ResultDataSchema = S.tagged('kind', {
  trainingRun: S.object({
    kind: S.literal('trainingRun'),
    runDir: path,
    status: str,
    summary: S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text))),
    points: S.array(EpochPointSchema, LIMITS.points),
    checkpoints: S.array(CheckpointRefSchema),
    /** Stability checks from metrics.jsonl (runs trained with stabilityEvery). */
    stability: S.optional(S.array(StabilityPointSchema, LIMITS.list)),
  }),
  /** One path between two minima: straight line and optimized path, heights, history, the plane drawing. */
  barrierPath: S.object({
    kind: S.literal('barrierPath'),
    a: MinimumRefSchema,
    b: MinimumRefSchema,
    method: S.oneOf(PATH_METHOD_NAMES),
    objective: S.optional(S.oneOf(PATH_OBJECTIVE_NAMES)),
    straight: HeightNumbersSchema,
    optimized: HeightNumbersSchema,
    /** Losses on the dense grid (10·(M − 1) + 1 points), the same t for both. */
    profile: S.object({ t: series, straight: series, optimized: series }),
    /** Path-point height per iteration and the best kept so far. */
    history: S.object({ height: series, best: series }),
    plane: PathPlaneSchema,
    iterations: count,
    bestIteration: count,
    dataset: str,
    backend: str,
    seconds: num,
    /** Display rows: settings and provenance. */
    settings: kvRows,
    /**
     * The Fourier coefficients b_n of the kept path (on disk only: kernel PCA
     * projects points of the path from them; panels do not get them).
     */
    coefficients: S.optional(S.array(S.array(num, LIMITS.points), 1000)),
  }),
  /** Barriers between every pair (or a random selection) of a set of minima. */
  barrierMatrix: S.object({
    kind: S.literal('barrierMatrix'),
    /** The folder the result was saved in (absolute in messages, "." on disk). */
    folder: path,
    minima: S.array(MinimumRefSchema, MAX_MINIMA),
    /** Saddle heights H_ij of the optimized paths; the diagonal holds each minimum's loss. */
    heights: matrix,
    /** H_ij − mean(loss_i, loss_j); zero on the diagonal, null where not computed. */
    barriers: matrix,
    /** The straight lines' heights, for comparison. */
    straightHeights: matrix,
    pairs: S.array(PairResultSchema, LIMITS.list),
    mst: S.array(S.object({ i: count, j: count, height: num }), MAX_MINIMA),
    tree: S.array(TreeMergeSchema, MAX_MINIMA),
    /** "all" or "random:N". */
    selection: S.string(100),
    dataset: str,
    backend: str,
    seconds: num,
    settings: kvRows,
  }),
  /** Kernel PCA of checkpoints: the map, its spectrum, and the overlays projected into it later. */
  kpca: S.object({
    kind: S.literal('kpca'),
    /** The folder the result was saved in (absolute in messages, "." on disk). */
    folder: path,
    kernel: S.object({ kernel: S.oneOf(KERNEL_NAMES), gamma: optNum, degree: S.optional(S.int(1, 1000)), coef0: optNum }),
    components: S.int(1, MAX_COMPONENTS),
    n: count,
    dim: count,
    eigenvalues: series,
    explainedVariance: series,
    /** Every eigenvalue of the centred kernel matrix, for the scree plot. */
    spectrum: series,
    warnings: S.array(S.string(LIMITS.text), 100),
    points: S.array(KpcaPointSchema, LIMITS.list),
    overlays: S.array(KpcaOverlaySchema, 100),
    backend: str,
    seconds: num,
    settings: kvRows,
  }),
  /** Top Hessian eigenvalues, the trace and the stability verdict of one checkpoint. */
  hessian: S.object({
    kind: S.literal('hessian'),
    checkpoint: AnalysisRefSchema,
    model: str,
    dim: count,
    dataset: str,
    samples: count,
    loss: num,
    eigenvalues: series,
    errorEstimates: series,
    residuals: series,
    iterations: count,
    converged: S.boolean(),
    restarts: count,
    hvp: S.string(100),
    /** Why finite differences were used, when autodiff was tried first. */
    hvpNote: S.optional(S.string(LIMITS.text)),
    seed: count,
    k: count,
    trace: S.optional(S.object({ estimate: num, standardError: num, samples: count })),
    stability: S.object({
      verdict: S.oneOf(STABILITY_VERDICTS),
      lambdaMax: num,
      lr: optNum,
      momentum: optNum,
      l2: optNum,
      /** The bound on η·λmax: 2 for gradient descent. */
      limit: num,
      /** limit / η: the 2/η line. */
      threshold: optNum,
      ratio: optNum,
      maxStableLr: optNum,
      message: S.string(LIMITS.text),
      lrSource: S.oneOf(['flag', 'asked', 'metadata', 'none'] as const),
      optimizer: S.nullable(S.string(200)),
    }),
    backend: str,
    seconds: num,
    settings: kvRows,
  }),
  /** Autodiff gradient against central differences, probe by probe. */
  gradcheck: S.object({
    kind: S.literal('gradcheck'),
    checkpoint: AnalysisRefSchema,
    model: str,
    activation: S.string(40),
    dataset: str,
    samples: count,
    loss: num,
    passed: S.boolean(),
    maxRelError: num,
    maxRelErrorSmooth: num,
    maxScaledError: num,
    /** Index of the probe with the largest relative error; −1 when none is resolved. */
    worst: S.int(-1),
    failures: count,
    kinks: count,
    unresolved: count,
    tolerance: num,
    relativeNoise: num,
    kinkMethod: S.oneOf(['detector', 'step-dependence'] as const),
    gradNorm: num,
    seed: count,
    dim: count,
    stepRule: S.string(LIMITS.text),
    evaluations: count,
    probes: S.array(GradProbeSchema, LIMITS.list),
    backend: str,
    seconds: num,
    settings: kvRows,
  }),
  /** The loss on a line (1D) or a plane (2D) of parameter space. */
  slice: S.object({
    kind: S.literal('slice'),
    sliceKind: S.oneOf(SLICE_KIND_NAMES),
    checkpoints: S.array(AnalysisRefSchema, 3),
    x: SliceAxisSchema,
    /** The second axis of a 2D slice. */
    y: S.optional(SliceAxisSchema),
    /** values[iy][ix] (Plotly's z); a 1D slice has one row. */
    values: S.array(S.array(num, MAX_SLICE_POINTS), MAX_SLICE_POINTS),
    markers: S.array(S.object({ label: str, x: num, y: optNum, loss: num }), 100),
    parameterization: str,
    centre: S.object({ label: str, hash: S.string(200), norm: num, loss: num }),
    min: sliceAt,
    max: sliceAt,
    /** Cosine between the two directions of a 2D slice. */
    cosine: optNum,
    evaluations: count,
    batchSize: count,
    model: str,
    dataset: str,
    samples: count,
    backend: str,
    seconds: num,
    settings: kvRows,
  }),
});
export type ResultData = Infer<typeof ResultDataSchema>;
export type ResultKind = ResultData['kind'];
export const RESULT_KINDS = Object.keys(ResultDataSchema.variants) as ResultKind[];

export const VIEWS = ['side', 'checkpoint', 'result'] as const;
export type ViewName = (typeof VIEWS)[number];

/** What a result panel keeps in its webview state, so the serializer can restore it. */
export const ResultPanelStateSchema = S.object({ kind: S.oneOf(RESULT_KINDS), file: path });
export type ResultPanelState = Infer<typeof ResultPanelStateSchema>;

/** What a checkpoint panel (opened on a tfjs model.json) keeps in its webview state. */
export const CheckpointPanelStateSchema = S.object({ file: path });

// ---------------------------------------------------------------------------
// Host -> webview.

export const HostMessageSchema = S.tagged('type', {
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
    status: S.optional(RunStatusSchema),
    /** New stability checks, starting at index `from` of the run's list. */
    stability: S.optional(S.object({ from: count, points: S.array(StabilityPointSchema, LIMITS.list) })),
  }),
  runs: S.object({ type: S.literal('runs'), runs: RunsListSchema }),
  backend: S.object({ type: S.literal('backend'), backend: BackendLabelSchema }),
  form: S.object({ type: S.literal('form'), form: TrainFormSchema, experimentFile: S.nullable(path) }),
  checkpoint: S.object({
    type: S.literal('checkpoint'),
    file: path,
    name: str,
    info: CheckpointInfoSchema,
    actions: S.array(ActionSchema, 100),
  }),
  checkpointError: S.object({ type: S.literal('checkpointError'), file: path, message: S.string(LIMITS.text) }),
  actions: S.object({ type: S.literal('actions'), actions: S.array(ActionSchema, 100) }),
  evaluating: S.object({ type: S.literal('evaluating') }),
  evaluation: S.object({ type: S.literal('evaluation'), result: EvalResultSchema }),
  evaluationError: S.object({ type: S.literal('evaluationError'), message: S.string(LIMITS.text) }),
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
export type HostMessage = Infer<typeof HostMessageSchema>;
export type HostMessageType = HostMessage['type'];

// ---------------------------------------------------------------------------
// Webview -> host.

export const WebviewMessageSchema = S.tagged('type', {
  /** The page loaded (or lost track of the stream) and wants a snapshot. */
  ready: S.object({ type: S.literal('ready'), view: S.oneOf(VIEWS) }),
  train: S.object({ type: S.literal('train'), form: TrainFormSchema }),
  stop: S.object({ type: S.literal('stop') }),
  inspect: S.object({ type: S.literal('inspect'), path }),
  openRun: S.object({ type: S.literal('openRun'), runJson: path }),
  openExperiment: S.object({ type: S.literal('openExperiment') }),
  selectBackend: S.object({ type: S.literal('selectBackend') }),
  evaluate: S.object({ type: S.literal('evaluate') }),
  /** A checkpoint-viewer button: runs one of the offered actions on the viewer's file. */
  runAction: S.object({ type: S.literal('runAction'), command: S.string(200) }),
  export: S.object({
    type: S.literal('export'),
    format: S.oneOf(['png', 'svg'] as const),
    dataUrl: S.string(LIMITS.dataUrl),
    name: S.string(200),
  }),
  log: S.object({ type: S.literal('log'), level: S.oneOf(['info', 'warn', 'error'] as const), message: S.string(LIMITS.text) }),
  /**
   * A kernel PCA panel's button: the host asks for a run folder (trajectory)
   * or a path result (path) and projects it into the panel's map. No path
   * comes from the page.
   */
  kpcaOverlay: S.object({ type: S.literal('kpcaOverlay'), source: S.oneOf(['trajectory', 'path'] as const) }),
  /** Remove overlay `index` from the panel's kernel PCA result. */
  removeOverlay: S.object({ type: S.literal('removeOverlay'), index: S.int(0, 99) }),
});
export type WebviewMessage = Infer<typeof WebviewMessageSchema>;
export type WebviewMessageType = WebviewMessage['type'];

// ---------------------------------------------------------------------------
// Display helpers, so host messages and webview tables print numbers alike.

export function formatNumber(x: number | undefined | null, digits = 4): string {
  if (x === undefined || x === null) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

export function formatPercent(x: number | undefined | null): string {
  return x === undefined || x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

// ---------------------------------------------------------------------------
// Validation entry points.

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

export function validateHostMessage(m: unknown): Validated<HostMessage> {
  const e = HostMessageSchema.check(m, 'message');
  return e === null ? { ok: true, value: m as HostMessage } : { ok: false, error: e };
}

export function validateWebviewMessage(m: unknown): Validated<WebviewMessage> {
  const e = WebviewMessageSchema.check(m, 'message');
  return e === null ? { ok: true, value: m as WebviewMessage } : { ok: false, error: e };
}

export function validate<T>(schema: Schema<T>, v: unknown, at = 'value'): Validated<T> {
  const e = schema.check(v, at);
  return e === null ? { ok: true, value: v as T } : { ok: false, error: e };
}

/** A short, log-safe preview of an invalid message (never the whole thing: it may be huge). */
export function previewMessage(m: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(m) ?? String(m);
  } catch {
    s = String(m);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}
