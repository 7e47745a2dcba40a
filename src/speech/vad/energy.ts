/** The energy VAD (src/audio/energy-vad.ts) as a VadOpener: synchronous, for when Silero is not available. */
import { EnergyVad } from '../../audio/energy-vad.ts';
import { FRAME_MS, FRAME_BYTES } from '../../audio/frames.ts';
import type { VadOpener } from './opener.ts';

export const openEnergyVad: VadOpener = (onProbability) => {
  const vad = new EnergyVad();
  let atMs = 0;
  return {
    pushPcm(frame) {
      // One 8 kHz sample per mu-law byte: a frame of FRAME_BYTES samples lasts FRAME_MS.
      const durationMs = (frame.length / FRAME_BYTES) * FRAME_MS;
      onProbability(vad.process(frame), atMs, durationMs);
      atMs += durationMs;
    },
    close() {},
  };
};
