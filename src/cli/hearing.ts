/**
 * What `serve` hears callers with: the configured recognizer (STT) and the best voice activity detector that
 * loads, each from the speech registry (src/speech/registry.ts). A recognizer that cannot run here (pocketsphinx
 * not installed, say) leaves the server up, saying so: flows then run on the keypad.
 */
import type { Hearing } from '../call/session.ts';
import { isSwitchboardError, SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { OpenedVad, SpeechConfig } from '../speech/engine-entry.ts';
import { sttEngine, VAD_ENGINES } from '../speech/registry.ts';
import type { TtsEngine } from '../speech/tts/engine.ts';

export interface OpenedHearing {
  hearing: Hearing | null;
  /** One line for the banner. */
  summary: string;
  /** What the engines dropped because they fell behind, since they started. */
  dropped(): { vadChunks: number; sttFrames: number };
  close(): Promise<void>;
}

/** Opens the recognizer `config.stt` names (warmed up with `tts`), then the first VAD of the registry that loads. */
export async function openHearing(
  config: SpeechConfig,
  tts: TtsEngine,
  logger: Logger,
): Promise<OpenedHearing> {
  const none = (summary: string): OpenedHearing => ({
    hearing: null,
    summary,
    dropped: () => ({ vadChunks: 0, sttFrames: 0 }),
    close: () => Promise.resolve(),
  });
  const entry = sttEngine(config.stt);
  let opened;
  try {
    opened = await entry.open({ config, logger, role: 'primary', voice: tts });
  } catch (err) {
    if (!isSwitchboardError(err, entry.unavailable)) throw err;
    logger.warn('speech recognition unavailable; flows run on the keypad', { code: err.code, err });
    return none(`speech recognition unavailable (${err.message}); flows run on the keypad`);
  }
  if (opened === null) return none(entry.offSummary ?? `speech recognition off (STT=${entry.name})`);
  const engine: typeof opened & { readonly droppedFrames?: number } = opened;
  const vad = await openVad(config, logger);
  return {
    hearing: { stt: engine, openVad: vad.open },
    dropped: () => ({ vadChunks: vad.dropped(), sttFrames: engine.droppedFrames ?? 0 }),
    summary: `STT ${engine.name}, VAD ${vad.summary}`,
    close: async () => {
      await vad.close();
      await engine.close();
    },
  };
}

/** The first VAD of the registry's list that loads; the banner says which could not. */
async function openVad(config: SpeechConfig, logger: Logger): Promise<OpenedVad> {
  const failed: string[] = [];
  for (const [i, entry] of VAD_ENGINES.entries()) {
    const next = VAD_ENGINES[i + 1];
    try {
      const vad = await entry.open({ config, logger, role: 'primary' });
      if (failed.length === 0) return vad;
      return { ...vad, summary: `${vad.summary} (${failed.join(', ')} unavailable)` };
    } catch (err) {
      if (next === undefined || entry.unavailable === null || !isSwitchboardError(err, entry.unavailable))
        throw err;
      logger.warn(`${entry.label} VAD unavailable; using the ${next.label} VAD`, { code: err.code, err });
      failed.push(entry.label);
    }
  }
  throw new SwitchboardError('CONFIG_INVALID', 'no VAD is registered');
}
