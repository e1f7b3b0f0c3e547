/**
 * The engine as a library (dist/engine.js, CommonJS, no VS Code). It exports
 * the `tf` instance it computes with, so callers build objectives on the
 * same tfjs copy and backend.
 */
export { tf, initBackend, backendInfo, describeBackend, parseBackendChoice, BACKEND_CHOICES, BACKEND_ENV } from './backend';
export type { BackendInfo, BackendName, BackendChoice } from './backend';
export { TFJS_NODE_ENV } from './tfjsNodeLoader';
export type { LoadedTfjsNode, TfjsNodeSource } from './tfjsNodeLoader';
export * from './errors';
export { Rng } from './rng';
export * from './objective';
export * from './model/spec';
export * from './model/network';
export * from './data';
export * from './optim';
export * from './checkpoint';
export * from './train';
export * from './evaluate';
export { LANDSCAPE_VERSION } from './version';
export * from './checkpointObjective';
export * from './pool';
export * from './path';
export * from './analysis';
export * from './study';
export { fastInfo, setFastEnabled, setFastThreads, isFastObjective } from './fast';
export type { FastObjective, FastPath } from './fast';
