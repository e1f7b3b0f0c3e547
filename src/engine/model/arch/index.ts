/** Model architectures from the spec grammar: parse, format, infer shapes, built-in names. */
export * from './types';
export { parseArchitecture, MAX_SPEC_CHARS, MAX_NODES, MAX_RES_DEPTH, MAX_SIZE } from './grammar';
export { isLegacySpec } from './legacy';
export { formatArchitecture } from './format';
export { inferShapes, type ArchitectureShapes, type NodeShapes, type TensorShape } from './shapes';
export { BUILTIN_MODELS, expandModelName } from './builtins';
export { archLayout, type ArchLayout, type ArchTensor } from './layout';
export { initArchParams, initArchBuffers } from './init';
export { forwardArch, BN_EPSILON, type BatchNormMode } from './forward';
export { archObjective, archLoss, type ArchNetwork } from './objective';
