/** Google Cloud Text-to-Speech: TTS=google with TTS_VOICE and GOOGLE_API_ENDPOINT; fails over to flite. */
import type { TtsEntry } from '../engine-entry.ts';

export const googleTts: TtsEntry = {
  name: 'google',
  embedded: false,
  fallback: 'flite',
  requires: null,
  help: 'google (voice en-US-Standard-C)',
  async open({ config, logger }) {
    // Loaded only when chosen: Google's client costs a few hundred ms to import.
    const { GoogleTts } = await import('../tts/google.ts');
    const engine = new GoogleTts({
      endpoint: config.googleEndpoint,
      ...(config.ttsVoice ? { voice: config.ttsVoice } : {}),
      logger,
    });
    try {
      await engine.warmUp();
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  },
};
