/** Checkpoints: safetensors read/write, atomic writes, model checkpoints, PyTorch and tfjs imports. */
export type {
  Dtype,
  TensorData,
  TensorIn,
  DecodedTensor,
  DecodedSafetensors,
  TensorHeaderEntry,
  SafetensorsHeader,
  ReadOptions,
} from './safetensors';
export {
  MAX_HEADER_BYTES,
  DEFAULT_MAX_CHECKPOINT_BYTES,
  MAX_CHECKPOINT_BYTES_ENV,
  maxCheckpointBytes,
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  readSafetensorsSync,
  readSafetensorsHeader,
  toFloat32,
} from './safetensors';
export type { AtomicData } from './atomic';
export { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic, writeJsonAtomicAsync, isAtomicTempFile, removeStaleTempFiles } from './atomic';
export type {
  CheckpointMeta,
  ParsedCheckpointMeta,
  CheckpointFormat,
  LoadedModel,
  LoadedCheckpoint,
  LoadOptions,
  CheckpointSummary,
} from './checkpoint';
export {
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_META_KEYS,
  checkpointMetadata,
  encodeCheckpoint,
  saveCheckpoint,
  saveCheckpointAsync,
  parseCheckpointMeta,
  matchesLandscapeLayout,
  thetaFromLandscapeTensors,
  checkpointFromDecoded,
  loadCheckpoint,
  loadCheckpointSync,
  loadModelFile,
  readCheckpointSummary,
} from './checkpoint';
export type { TorchLinearLayer, ImportedWeights } from './torch-import';
export { findTorchLinearLayers, thetaFromTorchTensors, importTorchSafetensors } from './torch-import';
export type { TfjsImportOptions, ImportedTfjsModel } from './tfjs-import';
export { importTfjsModel } from './tfjs-import';
