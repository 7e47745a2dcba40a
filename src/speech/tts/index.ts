/** Text-to-speech: the engine contract, the offline flite engine, the shared prompt cache and sentence splitting. */
export type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './engine.ts';
export {
  FLITE_CRASH_WINDOW_MS,
  FLITE_MAX_CRASHES,
  FLITE_MAX_PENDING,
  FLITE_MAX_TEXT_CHARS,
  FLITE_VOICES,
  FliteTts,
} from './flite.ts';
export type { FliteOptions } from './flite.ts';
export { PromptCache } from './prompt-cache.ts';
export type { Prompt, PromptCacheOptions, PromptCacheStats } from './prompt-cache.ts';
export { splitSentences } from './sentences.ts';
