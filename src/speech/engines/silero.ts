/** Silero VAD, one model batched across every call; VAD_UNAVAILABLE when it or onnxruntime cannot load. */
import type { VadEntry } from '../engine-entry.ts';
import { SileroVad } from '../vad/silero.ts';

export const silero: VadEntry = {
  name: 'silero',
  label: 'Silero',
  unavailable: 'VAD_UNAVAILABLE',
  async open({ logger, clock }) {
    const vad = await SileroVad.create({
      onError: (err) => logger.error('voice activity detection failed for a batch', { err }),
      ...(clock ? { clock } : {}),
    });
    return {
      open: (listener) => vad.open(listener),
      summary: 'Silero v5 (batched across calls)',
      dropped: () => vad.stats.dropped,
      close: () => vad.close(),
    };
  },
};
