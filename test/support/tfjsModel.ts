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

/** Floats in the weights of tfjsConvModel: conv 3·3·2·2 + 2, BatchNorm 4·2, dense 32·3 + 3. */
export const TFJS_CONV_FLOATS = 36 + 2 + 8 + 96 + 3;

/**
 * The model.json of a small functional conv model in the Keras 2 / tfjs
 * layout: input 4×4×2 -> Conv2D(2, 3, same, relu) "c1" -> BatchNormalization
 * "bn1" -> Add with the input -> Flatten -> Dense(3, softmax) "d", its
 * TFJS_CONV_FLOATS float32 weights in the shards named.
 */
export function tfjsConvModel(shards: string[]) {
  const inbound = (...names: string[]) => [names.map((n) => [n, 0, 0, {}])];
  return {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'model',
          layers: [
            { class_name: 'InputLayer', name: 'in', config: { batch_input_shape: [null, 4, 4, 2], dtype: 'float32', name: 'in' }, inbound_nodes: [] },
            { class_name: 'Conv2D', name: 'c1', config: { name: 'c1', filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true }, inbound_nodes: inbound('in') },
            { class_name: 'BatchNormalization', name: 'bn1', config: { name: 'bn1', axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true }, inbound_nodes: inbound('c1') },
            { class_name: 'Add', name: 'add', config: { name: 'add' }, inbound_nodes: inbound('bn1', 'in') },
            { class_name: 'Flatten', name: 'fl', config: { name: 'fl', data_format: 'channels_last' }, inbound_nodes: inbound('add') },
            { class_name: 'Dense', name: 'd', config: { name: 'd', units: 3, activation: 'softmax', use_bias: true }, inbound_nodes: inbound('fl') },
          ],
          input_layers: [['in', 0, 0]],
          output_layers: [['d', 0, 0]],
        },
      },
    },
    weightsManifest: [
      {
        paths: shards,
        weights: [
          { name: 'c1/kernel', shape: [3, 3, 2, 2], dtype: 'float32' },
          { name: 'c1/bias', shape: [2], dtype: 'float32' },
          { name: 'bn1/gamma', shape: [2], dtype: 'float32' },
          { name: 'bn1/beta', shape: [2], dtype: 'float32' },
          { name: 'bn1/moving_mean', shape: [2], dtype: 'float32' },
          { name: 'bn1/moving_variance', shape: [2], dtype: 'float32' },
          { name: 'd/kernel', shape: [32, 3], dtype: 'float32' },
          { name: 'd/bias', shape: [3], dtype: 'float32' },
        ],
      },
    ],
  };
}
