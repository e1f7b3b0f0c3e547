/**
 * Built-in model names (issue "Your own networks"): `--model lenet` and the
 * others expand to these spec strings.
 */

/** LeNet-5 for 28×28 grey images, as the loss-landscape tools demonstrate it. */
const LENET = 'input(1,28,28) conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) flatten dense(120) relu dense(84) relu dense(10)';

/** A small conv net for the built-in 8×8 digits: a CNN on built-in data, nothing to download. */
const CNN_DIGITS = 'input(1,8,8) conv(8,3,pad=1) relu conv(16,3,pad=1) relu maxpool(2) flatten dense(32) relu dense(10)';

/**
 * ResNet-20, the CIFAR variant of He et al. 2016: a 3×3 conv to 16 channels,
 * three stages of three basic blocks (16, 32, 64 channels; stride 2 at the
 * start of stages 2 and 3, whose shortcut is then a 1×1 conv plus bn as in
 * torchvision's BasicBlock), global average pooling and a dense layer.
 */
function resnet20(): string {
  const block = (c: number, stride: number) =>
    `res(conv(${c},3${stride > 1 ? `,stride=${stride}` : ''},pad=1,bias=false) bn relu conv(${c},3,pad=1,bias=false) bn) relu`;
  const stage = (c: number, stride: number) => [block(c, stride), block(c, 1), block(c, 1)].join(' ');
  return ['input(3,32,32) conv(16,3,pad=1,bias=false) bn relu', stage(16, 1), stage(32, 2), stage(64, 2), 'gap dense(10)'].join(' ');
}

export const BUILTIN_MODELS: Readonly<Record<string, string>> = {
  lenet: LENET,
  resnet20: resnet20(),
  'cnn-digits': CNN_DIGITS,
};

/** The spec text a --model value stands for: a built-in name's expansion, else the value itself. */
export function expandModelName(value: string): string {
  const key = value.trim();
  return Object.prototype.hasOwnProperty.call(BUILTIN_MODELS, key) ? BUILTIN_MODELS[key] : value;
}
