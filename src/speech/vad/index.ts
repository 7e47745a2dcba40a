/** Voice activity detection backed by a model (Silero); the energy VAD and turn detector live in audio/. */
export { SileroStream, SileroVad } from './silero.ts';
export type { ProbabilityListener, SileroStats, SileroVadOptions } from './silero.ts';
export {
  SILERO_CHUNK,
  SILERO_CHUNK_MS,
  SILERO_CONTEXT,
  SILERO_ROW,
  SILERO_SAMPLE_RATE,
  SILERO_STATE,
  SileroModel,
  sileroModelPath,
} from './silero-model.ts';
export type { SileroModelOptions } from './silero-model.ts';
