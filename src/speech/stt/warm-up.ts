/**
 * The one warm-up of pocketsphinx: a few seconds of the agent's own voice, decoded once by each new decoder so
 * its running cepstral mean fits speech before a caller's first words (a cold decoder gets a third of the words
 * right; see PocketsphinxOptions.warmUpAudio).
 */
import { mulawToPcm } from '../../audio/mulaw.ts';
import type { TtsEngine } from '../tts/engine.ts';

// About four seconds of ordinary speech: enough for a decoder's cepstral mean to settle before a caller talks.
export const WARM_UP_TEXT =
  'Thanks for calling. How can I help you today? You can say a few words, or press a key on your phone.';

/** WARM_UP_TEXT spoken by `voice`, as 8 kHz PCM. */
export async function warmUpAudio(voice: TtsEngine): Promise<Int16Array> {
  return mulawToPcm((await voice.synthesize({ text: WARM_UP_TEXT })).mulaw);
}
