/**
 * pocketsphinx, the embedded recognizer: STT=pocketsphinx with POCKETSPHINX_LIBRARY, and the one Google's fails
 * over to. Warmed up on the agent's own voice (stt/warm-up.ts).
 */
import type { SttEntry } from '../engine-entry.ts';
import { PocketsphinxStt } from '../stt/pocketsphinx.ts';
import { warmUpAudio } from '../stt/warm-up.ts';

export const pocketsphinx: SttEntry = {
  name: 'pocketsphinx',
  embedded: true,
  fallback: null,
  // Without it, open() rejects with STT_UNAVAILABLE saying the same (stt/pocketsphinx-binding.ts, decoder.ts).
  requires: 'apt-get install libpocketsphinx3 pocketsphinx-en-us',
  help: 'pocketsphinx (needs apt-get install libpocketsphinx3 pocketsphinx-en-us; without it calls take keys only)',
  unavailable: 'STT_UNAVAILABLE',
  async open({ config, clock, voice }) {
    return PocketsphinxStt.open({
      warmUpAudio: await warmUpAudio(voice),
      library: config.pocketsphinxLibrary,
      ...(clock ? { clock } : {}),
    });
  },
};
