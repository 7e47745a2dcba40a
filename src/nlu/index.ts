/**
 * Language understanding: intents by normalized example and built-in intents, entities by rules, and the trained
 * intent model (featurizer, MLP trainer, ONNX writer, onnxruntime session). It sits below flow/, call/ and
 * server/ and imports none of them; only the trainer and the model session touch anything outside it.
 */
export { normalizeUtterance } from './normalize.ts';
export { BUILTIN_INTENTS } from './builtin-intents.ts';
export { ExampleMatcher } from './example-matcher.ts';
export type { IntentExamples, IntentMatch } from './example-matcher.ts';
export { BUILTIN_ENTITIES, entityFromDtmf, extractBuiltin, extractCustom } from './entities/index.ts';
export type { BuiltinEntity, CustomOptions, EntityValues, ExtractContext } from './entities/index.ts';
export {
  DEFAULT_FEATURIZER,
  Featurizer,
  MAX_NORMALIZED_CHARS,
  featureHash,
  fnv1a32,
  validateFeaturizerConfig,
} from './featurizer.ts';
export type { FeaturizerConfig } from './featurizer.ts';
export { ProtoWriter, WireType, encodeVarint } from './protobuf.ts';
export { ONNX_INPUT, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT, mlpToOnnx } from './onnx-writer.ts';
export type { OnnxMlpWeights } from './onnx-writer.ts';
export { IntentSession } from './onnx-session.ts';
export type { IntentSessionOptions } from './onnx-session.ts';
export { checkWeights, forward, forwardSparse } from './mlp.ts';
export type { MlpWeights } from './mlp.ts';
export { Rng } from './random.ts';
export { MAX_EXAMPLES, MAX_LABELS, predict, train } from './trainer.ts';
export type { TrainedModel, TrainingData, TrainingOptions } from './trainer.ts';
export { IntentModel, MODEL_FORMAT_VERSION, writeModelDir } from './model-dir.ts';
