/** The canonical text of an architecture: parseArchitecture(formatArchitecture(a)) gives back a. */
import { DEFAULT_BN_EPS, type Architecture, type LayerNode } from './types';

export function formatArchitecture(a: Architecture): string {
  return formatNodes(a.nodes);
}

export function formatNodes(nodes: readonly LayerNode[]): string {
  return nodes.map(formatNode).join(' ');
}

function formatNode(n: LayerNode): string {
  switch (n.op) {
    case 'input':
      return `input(${n.shape.join(',')})`;
    case 'conv':
      return `conv(${[String(n.out), String(n.kernel), ...(n.stride !== 1 ? [`stride=${n.stride}`] : []), ...(n.pad !== 'valid' ? [`pad=${n.pad}`] : []), ...(n.bias ? [] : ['bias=false'])].join(',')})`;
    case 'maxpool':
    case 'avgpool':
      return `${n.op}(${n.kernel}${n.stride !== n.kernel ? `,stride=${n.stride}` : ''})`;
    case 'zeropad':
      return `zeropad(${zeropadArgs(n).join(',')})`;
    case 'dense':
      return `dense(${n.units}${n.bias ? '' : ',bias=false'})`;
    case 'activation':
      return n.fn;
    case 'bn':
      return n.eps === undefined || n.eps === DEFAULT_BN_EPS ? 'bn' : `bn(eps=${n.eps})`;
    case 'res':
      return `res(${formatNodes(n.body)})`;
    default:
      return n.op;
  }
}

/** The shortest of zeropad's spellings that says it: (p) when all four agree, (h,w) when each axis is symmetric, else (t,b,l,r). */
function zeropadArgs(n: Extract<LayerNode, { op: 'zeropad' }>): number[] {
  if (n.top === n.bottom && n.left === n.right) return n.top === n.left ? [n.top] : [n.top, n.left];
  return [n.top, n.bottom, n.left, n.right];
}
