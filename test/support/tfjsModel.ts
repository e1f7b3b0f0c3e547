/**
 * The model.json of a small tfjs LayersModel, as tfjs-layers 4.22 saves it:
 * 3 inputs -> Dense(5, relu) -> Dropout(0.1) -> Dense(2, softmax), its four
 * float32 weights in the shards named. Tests of the importer start from it and
 * change one part at a time.
 */
export interface TfjsModelParts {
  /** The names of the first Dense layer, the Dropout layer and the output Dense layer. */
  names: [string, string, string];
  /** The weight shard files, in order. */
  shards: string[];
  /** Replace the layer list. */
  layers?: unknown[];
  /** Replace the weight list of the manifest. */
  weights?: unknown[];
  format?: string;
}

export function tfjsDenseModel(parts: TfjsModelParts) {
  const [dense1, dropout, dense2] = parts.names;
  return {
    format: parts.format ?? 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'sequential_1',
        layers: parts.layers ?? [
          { class_name: 'Dense', config: { units: 5, activation: 'relu', use_bias: true, name: dense1, batch_input_shape: [null, 3], dtype: 'float32' } },
          { class_name: 'Dropout', config: { rate: 0.1, name: dropout } },
          { class_name: 'Dense', config: { units: 2, activation: 'softmax', use_bias: true, name: dense2 } },
        ],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: parts.shards,
        weights: parts.weights ?? [
          { name: `${dense1}/kernel`, shape: [3, 5], dtype: 'float32' },
          { name: `${dense1}/bias`, shape: [5], dtype: 'float32' },
          { name: `${dense2}/kernel`, shape: [5, 2], dtype: 'float32' },
          { name: `${dense2}/bias`, shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
}
