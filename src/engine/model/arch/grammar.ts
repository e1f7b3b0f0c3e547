/**
 * The model-spec grammar shared by `--model`, the side panel's model field
 * and landscape.json. Tokens are separated by spaces:
 *
 *   input(C,H,W) | input(D)
 *   conv(out,k[,stride=s][,pad=same|valid|p][,bias=false])
 *   maxpool(k[,stride=s]) | avgpool(k[,stride=s]) | gap | flatten
 *   zeropad(p) | zeropad(h,w) | zeropad(t,b,l,r)   zeros around the image
 *   bn | bn(eps=e)          BatchNorm; e is added to the variance (default 1e-5)
 *   relu | tanh | sigmoid | softplus | elu
 *   dense(units[,bias=false])
 *   res(<tokens>)            a residual block adding its input
 *
 * Today's dense form, "64-32-32-10 [activation] [no-bias] [loss]", still
 * parses and means the same network (see legacy.ts), and the built-in names
 * (lenet, resnet20, cnn-digits) stand for their specs (builtins.ts). Errors are input errors
 * that quote the token and say what was expected.
 */
import { inputError } from '../../errors';
import { attributed } from './source';
import { quoteText } from '../../text';
import { DEFAULT_BN_EPS, NODE_ACTIVATIONS, type Architecture, type LayerNode, type NodeActivation, type Padding } from './types';
import { isLegacySpec, parseLegacySpec } from './legacy';
import { expandModelName } from './builtins';

/** Longest spec text accepted (resnet20 written out is about 1 KB). */
export const MAX_SPEC_CHARS = 20_000;
/** Most nodes, counting those inside residual blocks. */
export const MAX_NODES = 2_000;
/** How deep residual blocks may nest. */
export const MAX_RES_DEPTH = 4;
/** Largest width, channel count, kernel, stride or padding. */
export const MAX_SIZE = 1 << 20;

/**
 * Parses a spec. `source` names where it came from (a landscape.json path,
 * "--model"), and every error message starts with it.
 */
export function parseArchitecture(text: string, source?: string): Architecture {
  return attributed(source, () => parseSpecText(text));
}

function parseSpecText(text: string): Architecture {
  if (typeof text !== 'string') throw inputError('model spec must be text');
  if (text.length > MAX_SPEC_CHARS) throw inputError(`model spec is ${text.length} characters long; at most ${MAX_SPEC_CHARS} are accepted`);
  text = expandModelName(text);
  if (isLegacySpec(text)) return parseLegacySpec(text);
  const counter = { nodes: 0 };
  const nodes = parseTokens(text, 0, counter);
  if (nodes.length === 0) throw inputError('model spec is empty; write layers such as "input(1,28,28) conv(6,5) relu flatten dense(10)" or widths such as 64-32-10');
  if (nodes[0].op !== 'input') throw inputError(`model spec must start with input(C,H,W) or input(D), not "${describe(nodes[0])}"`);
  nodes.slice(1).forEach((n) => {
    if (n.op === 'input') throw inputError('model spec has a second input(...); only the first token may be the input');
  });
  return { nodes };
}

/** Splits at spaces outside parentheses and parses each token. */
function parseTokens(text: string, depth: number, counter: { nodes: number }): LayerNode[] {
  const nodes: LayerNode[] = [];
  for (const token of splitTopLevel(text, /\s/)) {
    if (++counter.nodes > MAX_NODES) throw inputError(`model spec has more than ${MAX_NODES} layers`);
    nodes.push(parseToken(token, depth, counter));
  }
  return nodes;
}

/** Pieces of text separated by characters matching `sep` at parenthesis depth 0; unbalanced parentheses are an error. */
export function splitTopLevel(text: string, sep: RegExp): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const push = (end: number) => {
    const piece = text.slice(start, end).trim();
    if (piece) out.push(piece);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) throw inputError(`model spec has a ")" without its "(" at character ${i + 1}`);
    else if (depth === 0 && sep.test(c)) {
      push(i);
      start = i + 1;
    }
  }
  if (depth > 0) throw inputError(`model spec has ${depth} unclosed "("`);
  push(text.length);
  return out;
}

function parseToken(token: string, depth: number, counter: { nodes: number }): LayerNode {
  const m = /^([a-z][a-z0-9-]*)(?:\((.*)\))?$/s.exec(token);
  if (!m) throw inputError(`model spec: ${quoteText(token)} is not a layer; write name or name(arguments), e.g. conv(16,3)`);
  const [, name, inner] = m;
  if (name === 'res') {
    if (inner === undefined || inner.trim() === '') throw inputError('model spec: res(...) needs the layers of its block inside the parentheses');
    if (depth + 1 > MAX_RES_DEPTH) throw inputError(`model spec: residual blocks nest more than ${MAX_RES_DEPTH} deep`);
    const body = parseTokens(inner, depth + 1, counter);
    if (body.some((n) => n.op === 'input')) throw inputError('model spec: input(...) cannot stand inside res(...)');
    return { op: 'res', body };
  }
  const args = inner === undefined ? undefined : splitTopLevel(inner, /,/);
  return parseSimple(name, args, token);
}

function parseSimple(name: string, args: string[] | undefined, token: string): LayerNode {
  if ((NODE_ACTIVATIONS as readonly string[]).includes(name)) return noArgs({ op: 'activation', fn: name as NodeActivation }, args, token);
  switch (name) {
    case 'input':
      return inputNode(need(args, token, 'input(C,H,W) or input(D)'), token);
    case 'conv':
      return convNode(need(args, token, 'conv(out,k[,stride=s][,pad=same|valid|p][,bias=false])'), token);
    case 'maxpool':
    case 'avgpool':
      return poolNode(name, need(args, token, `${name}(k[,stride=s])`), token);
    case 'dense':
      return denseNode(need(args, token, 'dense(units[,bias=false])'), token);
    case 'zeropad':
      return zeropadNode(need(args, token, ZEROPAD_FORM), token);
    case 'bn':
      return args === undefined ? { op: 'bn' } : bnNode(args, token);
    case 'gap':
    case 'flatten':
      return noArgs({ op: name }, args, token);
    default:
      throw inputError(`model spec: unknown layer ${quoteText(name)}; choose from input, conv, maxpool, avgpool, gap, zeropad, bn, ${NODE_ACTIVATIONS.join(', ')}, flatten, dense, res`);
  }
}

function inputNode(args: string[], token: string): LayerNode {
  if (args.length !== 1 && args.length !== 3) throw inputError(`model spec: ${quoteText(token)} needs one size (features) or three (channels, height, width)`);
  return { op: 'input', shape: args.map((a, i) => positive(a, token, ['size', 'channels', 'height', 'width'][args.length === 1 ? 0 : i + 1])) };
}

function convNode(args: string[], token: string): LayerNode {
  const { positional, named } = splitArgs(args, token, ['stride', 'pad', 'bias'], 2);
  const pad = parsePadding(named.pad, token);
  return {
    op: 'conv',
    out: positive(positional[0], token, 'output channels'),
    kernel: positive(positional[1], token, 'kernel size'),
    stride: named.stride === undefined ? 1 : positive(named.stride, token, 'stride'),
    pad,
    bias: parseBool(named.bias, token, true),
  };
}

function poolNode(op: 'maxpool' | 'avgpool', args: string[], token: string): LayerNode {
  const { positional, named } = splitArgs(args, token, ['stride'], 1);
  const kernel = positive(positional[0], token, 'window size');
  return { op, kernel, stride: named.stride === undefined ? kernel : positive(named.stride, token, 'stride') };
}

function denseNode(args: string[], token: string): LayerNode {
  const { positional, named } = splitArgs(args, token, ['bias'], 1);
  return { op: 'dense', units: positive(positional[0], token, 'units'), bias: parseBool(named.bias, token, true) };
}

const ZEROPAD_FORM = 'zeropad(p), zeropad(h,w) or zeropad(top,bottom,left,right)';

/** zeropad(p): p on every side; zeropad(h,w): h rows above and below, w columns left and right; zeropad(t,b,l,r): each side its own. */
function zeropadNode(args: string[], token: string): LayerNode {
  if (args.some((a) => a.includes('='))) throw inputError(`model spec: ${quoteText(token)} takes plain numbers: ${ZEROPAD_FORM}`);
  const names = args.length === 1 ? ['padding'] : args.length === 2 ? ['height padding', 'width padding'] : args.length === 4 ? ['top padding', 'bottom padding', 'left padding', 'right padding'] : undefined;
  if (!names) throw inputError(`model spec: ${quoteText(token)} has ${args.length} arguments; write ${ZEROPAD_FORM}`);
  const v = args.map((a, i) => whole(a, token, `${names[i]} (argument ${i + 1})`, 0));
  const [top, bottom, left, right] = v.length === 1 ? [v[0], v[0], v[0], v[0]] : v.length === 2 ? [v[0], v[0], v[1], v[1]] : v;
  return { op: 'zeropad', top, bottom, left, right };
}

/** bn(eps=e): e a positive number up to 1, written as 0.001 or 1e-3; the default is left out so the canonical text stays "bn". */
function bnNode(args: string[], token: string): LayerNode {
  const { named } = splitArgs(args, token, ['eps'], 0);
  if (named.eps === undefined) throw inputError(`model spec: ${quoteText(token)} needs eps=e, or write bn without parentheses`);
  const t = named.eps;
  const eps = /^(\d+\.?\d*|\.\d+)(e[-+]?\d{1,3})?$/i.test(t) ? Number(t) : NaN;
  if (!(eps > 0 && eps <= 1)) throw inputError(`model spec: in ${quoteText(token)} eps must be a number above 0 and at most 1, such as 0.001, not ${quoteText(t)}`);
  return eps === DEFAULT_BN_EPS ? { op: 'bn' } : { op: 'bn', eps };
}

/** Positional arguments first (exactly `count`), then name=value pairs from `allowed`, each at most once. */
function splitArgs(args: string[], token: string, allowed: string[], count: number) {
  const positional: string[] = [];
  const named: Record<string, string | undefined> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) {
      if (Object.keys(named).length > 0) throw inputError(`model spec: in ${quoteText(token)} the plain arguments come before name=value ones`);
      positional.push(a);
      continue;
    }
    const key = a.slice(0, eq).trim();
    if (!allowed.includes(key)) throw inputError(`model spec: ${quoteText(token)} has no option ${quoteText(key)}; it takes ${allowed.map((k) => `${k}=`).join(', ')}`);
    if (key in named) throw inputError(`model spec: ${quoteText(token)} gives ${key}= twice`);
    named[key] = a.slice(eq + 1).trim();
  }
  if (positional.length !== count) throw inputError(`model spec: ${quoteText(token)} needs ${count} plain argument${count === 1 ? '' : 's'}, got ${positional.length}`);
  return { positional, named };
}

function parsePadding(v: string | undefined, token: string): Padding {
  if (v === undefined || v === 'valid') return 'valid';
  if (v === 'same') return 'same';
  return whole(v, token, 'padding', 0);
}

function parseBool(v: string | undefined, token: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === 'true' || v === 'false') return v === 'true';
  throw inputError(`model spec: in ${quoteText(token)} bias= is true or false, not ${quoteText(v)}`);
}

function need(args: string[] | undefined, token: string, form: string): string[] {
  if (args === undefined || args.length === 0) throw inputError(`model spec: ${quoteText(token)} needs arguments: ${form}`);
  return args;
}

function noArgs(node: LayerNode, args: string[] | undefined, token: string): LayerNode {
  if (args !== undefined) throw inputError(`model spec: ${quoteText(token)} takes no arguments`);
  return node;
}

function positive(v: string, token: string, what: string): number {
  return whole(v, token, what, 1);
}

function whole(v: string, token: string, what: string, min: number): number {
  const t = v.trim();
  const n = /^\d{1,8}$/.test(t) ? Number(t) : NaN;
  if (!(n >= min && n <= MAX_SIZE)) throw inputError(`model spec: in ${quoteText(token)} the ${what} must be a whole number from ${min} to ${MAX_SIZE}, not ${quoteText(t)}`);
  return n;
}


function describe(n: LayerNode): string {
  return n.op === 'activation' ? n.fn : n.op;
}
