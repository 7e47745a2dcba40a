/** flite, the embedded voice: TTS=flite with TTS_VOICE, and the voice Google's fails over to. */
import type { TtsEntry } from '../engine-entry.ts';
import { FliteTts } from '../tts/flite.ts';

export const flite: TtsEntry = {
  name: 'flite',
  embedded: true,
  fallback: null,
  requires: null,
  help: 'flite (voice rms)',
  async open({ config, clock, role }) {
    // As a fallback, TTS_VOICE names the primary's voice: flite speaks with its own default.
    const voice = role === 'primary' ? config.ttsVoice : undefined;
    const engine = new FliteTts({ ...(voice ? { voice } : {}), ...(clock ? { clock } : {}) });
    try {
      await engine.warmUp();
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  },
};
