/**
 * The embedded engines a call falls back on when a cloud engine's speech keeps failing (flows'
 * `speechFailover`): each chosen engine names its fallback in the speech registry (src/speech/registry.ts), flite
 * for Google's voice and pocketsphinx for Google's hearing. They load in the background once the server is up,
 * so start-up stays as fast as with the cloud engines alone; until one is ready, a failing call goes to the
 * keypad (or is spoken by the cloud voice still). Nothing loads when the chosen engines are embedded: they are
 * then the primary ones.
 */
import type { PromptSource } from '../call/effects.ts';
import type { FallbackSpeech } from '../call/speech-failover.ts';
import { isSwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { SpeechConfig } from '../speech/engine-entry.ts';
import { fallbacksFor } from '../speech/registry.ts';
import type { SttEngine } from '../speech/stt/engine.ts';
import type { TtsEngine } from '../speech/tts/engine.ts';
import { PromptCache } from '../speech/tts/prompt-cache.ts';

export interface OpenedFallback {
  fallback: FallbackSpeech;
  /** Settles once every engine wanted has loaded or failed to. */
  ready: Promise<void>;
  /** One line for the banner. */
  summary: string;
  close(): Promise<void>;
}

export function openFallbackSpeech(config: SpeechConfig, logger: Logger): OpenedFallback {
  const wanted = fallbacksFor(config);
  let voice: TtsEngine | null = null;
  let prompts: PromptSource | null = null;
  let stt: SttEngine | null = null;
  let closed = false;

  const load = async (): Promise<void> => {
    if (!wanted.voice && !wanted.hearing) return;
    // The embedded voice also speaks the audio the recognizer warms up on.
    try {
      voice = await wanted.warmUpVoice.open({ config, logger, role: 'fallback' });
      if (closed) return;
      if (wanted.voice) prompts = new PromptCache(voice);
    } catch (err) {
      logger.warn('embedded voice unavailable for failover', { err });
      return;
    }
    if (!wanted.hearing || closed) return;
    try {
      const engine = await wanted.hearing.open({ config, logger, role: 'fallback', voice });
      if (closed) await engine?.close();
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
    if (wanted.voice || wanted.hearing)
      logger.info('embedded engines ready for failover', { voice: prompts !== null, hearing: stt !== null });
  });

  const parts = [
    wanted.voice ? `${wanted.voice.name} voice` : null,
    wanted.hearing ? `${wanted.hearing.name} hearing (else the keypad)` : null,
  ].filter((p) => p !== null);
  return {
    fallback: { stt: (): SttEngine | null => stt, prompts: () => prompts },
    ready,
    summary: parts.length === 0 ? 'none needed' : `${parts.join(', ')}, loading in the background`,
    close: async () => {
      closed = true;
      await ready.catch(() => {});
      await stt?.close();
      await voice?.close();
    },
  };
}
