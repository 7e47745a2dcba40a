/**
 * The embedded engines a call falls back on when Google's speech keeps failing (flows' `speechFailover`): flite
 * for the voice, pocketsphinx for hearing. They load in the background once the server is up, so start-up stays
 * as fast as with Google alone; until one is ready, a failing call goes to the keypad (or is spoken by Google
 * still). Nothing loads when no Google engine is selected: the embedded engines are then the primary ones.
 */
import { mulawToPcm } from '../audio/mulaw.ts';
import type { PromptSource } from '../call/effects.ts';
import type { FallbackSpeech } from '../call/speech-failover.ts';
import type { Logger } from '../observability/logger.ts';
import type { SttEngine } from '../speech/stt/engine.ts';
import { PocketsphinxStt } from '../speech/stt/pocketsphinx.ts';
import { FliteTts } from '../speech/tts/flite.ts';
import { PromptCache } from '../speech/tts/prompt-cache.ts';
import { isSwitchboardError } from '../errors.ts';

export interface OpenedFallback {
  fallback: FallbackSpeech;
  /** Settles once every engine wanted has loaded or failed to. */
  ready: Promise<void>;
  /** One line for the banner. */
  summary: string;
  close(): Promise<void>;
}

const WARM_UP_TEXT = 'Thanks for calling. You can say a few words, or press a key on your phone.';

export function openFallbackSpeech(
  primary: { stt: string; tts: string },
  logger: Logger,
  options: { library?: string | undefined } = {},
): OpenedFallback {
  const wantVoice = primary.tts === 'google';
  const wantHearing = primary.stt === 'google';
  let flite: FliteTts | null = null;
  let prompts: PromptSource | null = null;
  let stt: PocketsphinxStt | null = null;
  let closed = false;

  const load = async (): Promise<void> => {
    if (!wantVoice && !wantHearing) return;
    // flite also speaks the audio pocketsphinx warms up on.
    flite = new FliteTts();
    try {
      await flite.warmUp();
      if (wantVoice && !closed) prompts = new PromptCache(flite);
    } catch (err) {
      logger.warn('embedded voice unavailable for failover', { err });
      return;
    }
    if (!wantHearing || closed) return;
    try {
      const warmUp = await flite.synthesize({ text: WARM_UP_TEXT });
      const engine = await PocketsphinxStt.open({
        warmUpAudio: mulawToPcm(warmUp.mulaw),
        library: options.library,
      });
      if (closed) await engine.close();
      else stt = engine;
    } catch (err) {
      const code = isSwitchboardError(err) ? err.code : 'INTERNAL';
      logger.warn('embedded recognition unavailable for failover; failing calls go to the keypad', {
        code,
        err,
      });
    }
  };
  const ready = load().then(() => {
    if (wantVoice || wantHearing)
      logger.info('embedded engines ready for failover', { voice: prompts !== null, hearing: stt !== null });
  });

  const parts = [
    wantVoice ? 'flite voice' : null,
    wantHearing ? 'pocketsphinx hearing (else the keypad)' : null,
  ];
  const wanted = parts.filter((p) => p !== null).join(', ');
  return {
    fallback: { stt: (): SttEngine | null => stt, prompts: () => prompts },
    ready,
    summary: wanted === '' ? 'none needed' : `${wanted}, loading in the background`,
    close: async () => {
      closed = true;
      await ready.catch(() => {});
      await stt?.close();
      await flite?.close();
    },
  };
}
