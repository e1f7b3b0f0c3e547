/**
 * Keras' zero padding as the layer grammar writes it: the rows and columns
 * TF's 'same' adds around a window's input, and ZeroPadding2D's argument.
 * TF pads 'same' by total = max((ceil(n/s) − 1)·s + k − n, 0) on each axis
 * and puts the odd one at the end (bottom, right), so a 3×3 stride-2 conv on
 * an even input pads 0 on top and 1 below: ours only when written as its own
 * zeropad before a 'valid' conv.
 */

/** Zeros on each side of an image: rows above and below, columns left and right. */
export interface Sides {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** TF's 'same' padding of a k×k window with stride s on an input of height × width. */
export function samePaddingSides([height, width]: readonly number[], k: number, stride: number): Sides {
  const split = (n: number): [number, number] => {
    const total = Math.max((Math.ceil(n / stride) - 1) * stride + k - n, 0);
    const before = Math.floor(total / 2);
    return [before, total - before];
  };
  const [top, bottom] = split(height);
  const [left, right] = split(width);
  return { top, bottom, left, right };
}

/** Whether every side gets the same number of zeros (then a conv pads them itself). */
export function isEven(p: Sides): boolean {
  return p.top === p.bottom && p.left === p.right && p.top === p.left;
}

export function isZero(p: Sides): boolean {
  return p.top + p.bottom + p.left + p.right === 0;
}

/**
 * ZeroPadding2D's `padding` as Keras and tfjs write it: p, [h, w] or
 * [[top, bottom], [left, right]]; undefined when it is none of these with
 * whole numbers ≥ 0 (the caller names the layer in its error).
 */
export function zeroPaddingSides(v: unknown): Sides | undefined {
  const n = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x <= 1 << 20;
  const pair = (x: unknown): [number, number] | undefined => (n(x) ? [x, x] : Array.isArray(x) && x.length === 2 && n(x[0]) && n(x[1]) ? [x[0], x[1]] : undefined);
  if (n(v)) return { top: v, bottom: v, left: v, right: v };
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [rows, cols] = [pair(v[0]), pair(v[1])];
  return rows && cols ? { top: rows[0], bottom: rows[1], left: cols[0], right: cols[1] } : undefined;
}
