/**
 * What `serve` hears callers with: pocketsphinx (pre-warmed on a few seconds of the agent's own voice) and
 * Silero VAD, falling back to the energy VAD when Silero cannot load. Without pocketsphinx installed the server
 * still starts, and says so: flows then run on the keypad.
 */
import { mulawToPcm } from '../audio/mulaw.ts';
import { openEnergyVad } from '../call/listener.ts';
import type { Hearing } from '../call/session.ts';
import { isSwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { PocketsphinxStt } from '../speech/stt/pocketsphinx.ts';
import type { SttEngine } from '../speech/stt/engine.ts';
import type { TtsEngine } from '../speech/tts/engine.ts';
import { SileroVad } from '../speech/vad/silero.ts';

export interface OpenedHearing {
  hearing: Hearing | null;
  /** One line for the banner. */
  summary: string;
  /** What the engines dropped because they fell behind, since they started. */
  dropped(): { vadChunks: number; sttFrames: number };
  close(): Promise<void>;
}

// About four seconds of ordinary speech: enough for a decoder's cepstral mean to settle before a caller talks.
const WARM_UP_TEXT =
  'Thanks for calling. How can I help you today? You can say a few words, or press a key on your phone.';

export interface HearingOptions {
  /** Path or soname of libpocketsphinx (POCKETSPHINX_LIBRARY); Debian's soname unless given. */
  library?: string | undefined;
  /** Where Google's client connects instead of Google (GOOGLE_API_ENDPOINT), for STT=google. */
  googleEndpoint?: { host: string; port: number } | null;
  /** Google Speech API version, project, location and model (GOOGLE_STT_API and friends), for STT=google. */
  google?: { api: 'v1' | 'v2'; project: string | null; location: string; model: string | null };
}

export async function openHearing(
  stt: 'pocketsphinx' | 'google' | 'off',
  tts: TtsEngine,
  logger: Logger,
  options: HearingOptions = {},
): Promise<OpenedHearing> {
  const none = (summary: string): OpenedHearing => ({
    hearing: null,
    summary,
    dropped: () => ({ vadChunks: 0, sttFrames: 0 }),
    close: () => Promise.resolve(),
  });
  if (stt === 'off') return none('speech recognition off (STT=off): flows run on the keypad');
  let engine: SttEngine & { readonly droppedFrames?: number };
  try {
    if (stt === 'google') {
      // Loaded only when chosen: Google's client costs a few hundred ms to import.
      const { GoogleStt } = await import('../speech/stt/google.ts');
      const google = options.google;
      engine = new GoogleStt({
        endpoint: options.googleEndpoint ?? null,
        logger,
        ...(google
          ? {
              api: google.api,
              location: google.location,
              ...(google.project ? { project: google.project } : {}),
              ...(google.model ? { model: google.model } : {}),
            }
          : {}),
      });
    } else {
      const warmUp = await tts.synthesize({ text: WARM_UP_TEXT });
      engine = await PocketsphinxStt.open({
        warmUpAudio: mulawToPcm(warmUp.mulaw),
        library: options.library,
      });
    }
  } catch (err) {
    if (!isSwitchboardError(err, 'STT_UNAVAILABLE')) throw err;
    logger.warn('speech recognition unavailable; flows run on the keypad', { code: err.code, err });
    return none(`speech recognition unavailable (${err.message}); flows run on the keypad`);
  }
  let vad: SileroVad | null = null;
  try {
    vad = await SileroVad.create({
      onError: (err) => logger.error('voice activity detection failed for a batch', { err }),
    });
  } catch (err) {
    if (!isSwitchboardError(err, 'VAD_UNAVAILABLE')) throw err;
    logger.warn('Silero VAD unavailable; using the energy VAD', { code: err.code, err });
  }
  const silero = vad;
  return {
    hearing: { stt: engine, openVad: silero ? (listener) => silero.open(listener) : openEnergyVad },
    dropped: () => ({ vadChunks: silero?.stats.dropped ?? 0, sttFrames: engine.droppedFrames ?? 0 }),
    summary: `STT ${engine.name}, VAD ${silero ? 'Silero v5 (batched across calls)' : 'energy (Silero unavailable)'}`,
    close: async () => {
      await silero?.close();
      await engine.close();
    },
  };
}
