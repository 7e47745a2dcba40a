/** Audio for 8 kHz mu-law telephony: codec, resampling, WAV files, framing, levels and real-time pacing. Pure. */
export { MULAW_SILENCE, decodeMulawSample, encodeMulawSample, mulawToPcm, pcmToMulaw } from './mulaw.ts';
export { Resampler, resample } from './resample.ts';
export type { ResamplerOptions } from './resample.ts';
export { readWav, writeWavMulaw, writeWavPcm16 } from './wav.ts';
export type { WavAudio } from './wav.ts';
export {
  FRAME_BYTES,
  FRAME_MS,
  FRAME_SAMPLES,
  SAMPLE_RATE,
  durationMs,
  framesToBase64,
  silence,
  splitFrames,
} from './frames.ts';
export { activeSpeechMs, dbfs, rms, tonePower } from './level.ts';
export { trimSilence } from './trim.ts';
export type { TrimOptions } from './trim.ts';
export { Pacer, PacerClock } from './pacer.ts';
export type { PacerClockOptions, PacerOptions, PacerSink } from './pacer.ts';
