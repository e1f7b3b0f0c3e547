/**
 * Keras layers as layer-grammar nodes, walking the graph from the input with
 * its shape, in PyTorch's conventions (NCHW): Conv2D, MaxPooling2D,
 * AveragePooling2D, GlobalAveragePooling2D, BatchNormalization, Flatten,
 * Dense, Activation/ReLU, Dropout, ZeroPadding2D (as zeropad) and Add as
 * res(...). A fused activation ('relu' on a Conv2D or Dense) becomes its own
 * node after the layer; 'linear' is none. A Conv2D's 'same' padding is the
 * conv's own pad when it is the same on every side (stride 1 with an odd
 * kernel always is); else, as TF splits it with the extra row at the bottom,
 * a zeropad(t,b,l,r) node before a 'valid' conv (keras-padding.ts).
 *
 * Each layer with weights keeps a plan: which Keras layer, and in which order
 * its flat input features arrive (after a channels_last Flatten they are
 * H,W,C; ours are C,H,W, so the next Dense's rows are permuted).
 */
import type { LayerNode, NodeActivation } from '../model/arch';
import { NODE_ACTIVATIONS } from '../model/arch';
import { badInput } from './safetensors';
import { describeValue, type KerasItem, type KerasLayer } from './keras-graph';
import { isEven, isZero, samePaddingSides, zeroPaddingSides, type Sides } from './keras-padding';

/** A node of the architecture, with the Keras layer whose weights it takes. */
export interface ConvertedNode {
  node: LayerNode;
  layer?: KerasLayer;
  /** For Dense and BatchNormalization on flat features: [C, H, W] when those arrive in H,W,C order. */
  hwc?: [number, number, number];
  body?: ConvertedNode[];
  shortcut?: ConvertedNode[];
}

interface State {
  shape: number[];
  hwc?: [number, number, number];
}

type Json = Record<string, unknown>;

export class LayerConverter {
  /** Set when a softmax on the output was left out (the cross-entropy loss adds it). */
  softmaxStripped = false;

  constructor(private readonly file: string) {}

  private fail(layer: KerasLayer, msg: string): Error {
    return badInput(`layer "${layer.name}" (${layer.className}) ${msg}`, this.file);
  }

  /** The nodes of `items` on input `state` (updated in place); `last` marks the model's final items. */
  convert(items: readonly KerasItem[], state: State, last: boolean): ConvertedNode[] {
    const out: ConvertedNode[] = [];
    items.forEach((item, i) => {
      const isLast = last && i === items.length - 1;
      if ('add' in item) out.push(this.residual(item, state));
      else out.push(...this.layer(item.layer, state, isLast));
    });
    return out;
  }

  private residual(item: Extract<KerasItem, { add: KerasLayer }>, state: State): ConvertedNode {
    if (state.hwc) throw this.fail(item.add, 'adds flattened image features; put the residual blocks before Flatten');
    const inner: State = { shape: [...state.shape] };
    const body = this.convert(item.body, inner, false);
    const shortcut = this.convert(item.shortcut, { shape: [...state.shape] }, false);
    state.shape = inner.shape;
    return { node: { op: 'res', body: body.map((b) => b.node) }, layer: item.add, body, shortcut };
  }

  private layer(l: KerasLayer, s: State, isLast: boolean): ConvertedNode[] {
    const c = l.config;
    if (c.data_format === 'channels_first') {
      throw this.fail(l, 'uses data_format channels_first; only channels_last models (the Keras default) import');
    }
    switch (l.className) {
      case 'Conv2D':
        return this.withActivation(l, this.conv(l, s), isLast);
      case 'ZeroPadding2D':
        return [this.zeroPadding(l, s)];
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        return [this.pool(l, s)];
      case 'GlobalAveragePooling2D':
        return [this.gap(l, s)];
      case 'BatchNormalization':
        return [this.batchNorm(l, s)];
      case 'Flatten':
        return this.flatten(l, s);
      case 'Dense':
        return this.withActivation(l, this.dense(l, s), isLast);
      case 'Activation':
      case 'ReLU':
      case 'Softmax':
        return this.activationNodes(l, activationOf(l), isLast);
      case 'Dropout':
        // Identity at inference, and it holds no weights.
        return [];
      default:
        throw this.fail(l, 'is not supported; Conv2D, ZeroPadding2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, BatchNormalization, Flatten, Dense, Activation, Dropout and Add import');
    }
  }

  private withActivation(l: KerasLayer, node: ConvertedNode | ConvertedNode[], isLast: boolean): ConvertedNode[] {
    return [...(Array.isArray(node) ? node : [node]), ...this.activationNodes(l, normaliseActivation(l.config.activation), isLast)];
  }

  private activationNodes(l: KerasLayer, fn: string, isLast: boolean): ConvertedNode[] {
    if (fn === 'linear') return [];
    if (fn === 'softmax') {
      if (!isLast) throw this.fail(l, 'applies softmax before the output; only a softmax on the output imports (the cross-entropy loss adds it)');
      this.softmaxStripped = true;
      return [];
    }
    if (isLast) throw this.fail(l, `ends the model with activation ${fn}; only linear (logits or regression) or softmax outputs import`);
    if (!(NODE_ACTIVATIONS as readonly string[]).includes(fn)) throw this.fail(l, `uses activation "${fn}"; the supported ones are ${NODE_ACTIVATIONS.join(', ')}, linear and softmax`);
    return [{ node: { op: 'activation', fn: fn as NodeActivation } }];
  }

  private image(l: KerasLayer, s: State): [number, number, number] {
    if (s.shape.length !== 3) throw this.fail(l, `needs an image input [height, width, channels]; here the input is flat (${s.shape[0]} features)`);
    return [s.shape[0], s.shape[1], s.shape[2]];
  }

  /** The conv, after a zeropad node when Keras pads it unevenly. */
  private conv(l: KerasLayer, s: State): ConvertedNode[] {
    const c = l.config;
    const [, H, W] = this.image(l, s);
    const out = this.whole(l, c.filters, 'filters');
    const k = this.square(l, c.kernel_size ?? c.kernelSize, 'kernel_size');
    const stride = this.square(l, c.strides ?? 1, 'strides');
    const dilation = this.square(l, c.dilation_rate ?? c.dilationRate ?? 1, 'dilation_rate');
    if (dilation !== 1) throw this.fail(l, `has dilation_rate ${describeValue(c.dilation_rate)}; only undilated convolutions import`);
    if (c.groups !== undefined && c.groups !== 1) throw this.fail(l, `has groups ${describeValue(c.groups)}; only ungrouped convolutions import`);
    const sides = this.padding(l, [H, W], k, stride);
    const bias = this.useBias(l);
    const node = (pad: number): ConvertedNode => ({ node: { op: 'conv', out, kernel: k, stride, pad: pad === 0 ? 'valid' : stride === 1 && 2 * pad === k - 1 ? 'same' : pad, bias }, layer: l });
    if (isEven(sides)) {
      s.shape = [out, this.windowed(l, H, k, stride, sides.top), this.windowed(l, W, k, stride, sides.top)];
      return [node(sides.top)];
    }
    const [Hp, Wp] = [H + sides.top + sides.bottom, W + sides.left + sides.right];
    s.shape = [out, this.windowed(l, Hp, k, stride, 0), this.windowed(l, Wp, k, stride, 0)];
    return [{ node: { op: 'zeropad', ...sides } }, node(0)];
  }

  private zeroPadding(l: KerasLayer, s: State): ConvertedNode {
    const [C, H, W] = this.image(l, s);
    const sides = zeroPaddingSides(l.config.padding);
    if (!sides) throw this.fail(l, `has padding ${describeValue(l.config.padding)}; expected p, [h, w] or [[top, bottom], [left, right]] with whole numbers ≥ 0`);
    s.shape = [C, H + sides.top + sides.bottom, W + sides.left + sides.right];
    return { node: { op: 'zeropad', ...sides }, layer: l };
  }

  private pool(l: KerasLayer, s: State): ConvertedNode {
    const c = l.config;
    const [C, H, W] = this.image(l, s);
    const k = this.square(l, c.pool_size ?? c.poolSize ?? 2, 'pool_size');
    const stride = c.strides === null || c.strides === undefined ? k : this.square(l, c.strides, 'strides');
    // TF's padded pooling ignores the padding (max) or leaves it out of the average: no zeros reproduce it.
    if (!isZero(this.padding(l, [H, W], k, stride))) throw this.fail(l, "pads its windows ('same'), which pooling does without counting the padding; pooling imports without padding only");
    s.shape = [C, this.windowed(l, H, k, stride, 0), this.windowed(l, W, k, stride, 0)];
    return { node: { op: l.className === 'MaxPooling2D' ? 'maxpool' : 'avgpool', kernel: k, stride }, layer: l };
  }

  private gap(l: KerasLayer, s: State): ConvertedNode {
    const [C] = this.image(l, s);
    if (l.config.keepdims === true || l.config.keep_dims === true) throw this.fail(l, 'keeps the spatial dimensions (keepdims); only keepdims=false imports');
    s.shape = [C];
    return { node: { op: 'gap' }, layer: l };
  }

  private batchNorm(l: KerasLayer, s: State): ConvertedNode {
    const c = l.config;
    const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : c.axis ?? -1;
    const channelAxis = s.shape.length === 3 ? 3 : 1;
    if (axis !== -1 && axis !== channelAxis) throw this.fail(l, `normalises over axis ${describeValue(c.axis)}; only the channel axis (-1) imports`);
    const eps = c.epsilon ?? 1e-3;
    if (typeof eps !== 'number' || !(eps > 0 && eps <= 1)) throw this.fail(l, `has epsilon ${describeValue(c.epsilon)}; expected a number above 0 and at most 1`);
    return { node: { op: 'bn', eps }, layer: l, ...(s.hwc ? { hwc: s.hwc } : {}) };
  }

  private flatten(l: KerasLayer, s: State): ConvertedNode[] {
    if (s.shape.length === 1) return [];
    const [C, H, W] = s.shape as [number, number, number];
    s.shape = [C * H * W];
    // Keras flattens channels_last maps H,W,C; ours are C,H,W (the same order when C or H·W is 1).
    if (H * W > 1 && C > 1) s.hwc = [C, H, W];
    return [{ node: { op: 'flatten' }, layer: l }];
  }

  private dense(l: KerasLayer, s: State): ConvertedNode {
    if (s.shape.length !== 1) throw this.fail(l, 'reads an image; put Flatten or GlobalAveragePooling2D before it');
    const units = this.whole(l, l.config.units, 'units');
    const hwc = s.hwc;
    s.shape = [units];
    s.hwc = undefined;
    return { node: { op: 'dense', units, bias: this.useBias(l) }, layer: l, ...(hwc ? { hwc } : {}) };
  }

  /** The zeros Keras pads a window's input with on each side: TF's split for 'same', none for 'valid'. */
  private padding(l: KerasLayer, sizes: number[], k: number, stride: number): Sides {
    const mode = l.config.padding ?? 'valid';
    if (mode === 'valid') return { top: 0, bottom: 0, left: 0, right: 0 };
    if (mode !== 'same') throw this.fail(l, `has padding ${describeValue(mode)}; expected 'same' or 'valid'`);
    return samePaddingSides(sizes, k, stride);
  }

  private windowed(l: KerasLayer, n: number, k: number, stride: number, pad: number): number {
    if (n + 2 * pad < k) throw this.fail(l, `has a window of ${k} that does not fit its input of ${n}`);
    return Math.floor((n + 2 * pad - k) / stride) + 1;
  }

  private useBias(l: KerasLayer): boolean {
    const b = l.config.use_bias ?? l.config.useBias ?? true;
    if (typeof b !== 'boolean') throw this.fail(l, `has use_bias ${describeValue(b)}; expected true or false`);
    return b;
  }

  private whole(l: KerasLayer, v: unknown, what: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 1 << 20) throw this.fail(l, `has ${what} ${describeValue(v)}; expected a whole number in 1..${1 << 20}`);
    return v;
  }

  /** A size given as n or [n, n]; rectangular ones do not import. */
  private square(l: KerasLayer, v: unknown, what: string): number {
    const list = Array.isArray(v) ? v : [v, v];
    if (list.length !== 2 || list[0] !== list[1]) throw this.fail(l, `has ${what} ${describeValue(v)}; only square sizes import`);
    return this.whole(l, list[0], what);
  }
}


/** Keras and tfjs spell activations the same (snake_case); None and a missing one are linear. */
function normaliseActivation(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v !== 'string') return describeValue(v);
  const a = v.toLowerCase();
  return a === 'none' ? 'linear' : a;
}

function activationOf(l: KerasLayer): string {
  const c: Json = l.config;
  if (l.className === 'Softmax') return 'softmax';
  if (l.className === 'Activation') return normaliseActivation(c.activation);
  const max = c.max_value ?? c.maxValue;
  const slope = c.negative_slope ?? c.negativeSlope ?? 0;
  const threshold = c.threshold ?? 0;
  // ReLU layer: plain only.
  return (max === null || max === undefined) && slope === 0 && threshold === 0 ? 'relu' : `relu with ${describeValue({ max, slope, threshold })}`;
}
