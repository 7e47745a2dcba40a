/**
 * Language understanding without a trained model: intents by normalized example, built-in intents, and
 * entities by rules. Pure; it sits below flow/, call/ and server/ and imports none of them.
 */
export { normalizeUtterance } from './normalize.ts';
export { BUILTIN_INTENTS } from './builtin-intents.ts';
export { ExampleMatcher } from './example-matcher.ts';
export type { IntentExamples, IntentMatch } from './example-matcher.ts';
export { BUILTIN_ENTITIES, entityFromDtmf, extractBuiltin, extractCustom } from './entities/index.ts';
export type { BuiltinEntity, EntityValues, ExtractContext } from './entities/index.ts';
export {
  DEFAULT_FEATURIZER,
  Featurizer,
  MAX_NORMALIZED_CHARS,
  featureHash,
  fnv1a32,
  validateFeaturizerConfig,
} from './featurizer.ts';
export type { FeaturizerConfig } from './featurizer.ts';
