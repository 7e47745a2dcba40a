/**
 * Failover of one call's speech, as the flow's `speechFailover` policy says. Failures of the speech service are
 * counted per call, in a row; at the policy's threshold the call asks its machine to switch (a journaled
 * `speech.failover` event), so the switch survives a restart or a move to another instance, and the flow says
 * so. Which engines are in use is read from the machine's context, never kept here.
 *
 * A prompt whose synthesis fails is spoken by the embedded voice at once, before any switch: a call is never
 * silent because the cloud is down.
 */
import type { CallContext } from '../flow/index.ts';
import type { ResolvedPolicy } from '../flow/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Prompt } from '../speech/tts/prompt-cache.ts';
import type { RecognitionRequest, RecognitionStream, SttEngine } from '../speech/stt/engine.ts';
import type { PromptRequest, PromptSource } from './effects.ts';
import { isSwitchboardError } from '../errors.ts';

/** Offline engines a call can switch to; each null while it is not (or not yet) available. */
export interface FallbackSpeech {
  stt(): SttEngine | null;
  prompts(): PromptSource | null;
}

export type SpeechModes = NonNullable<CallContext['speech']>;

export interface SpeechFailoverOptions {
  rule: ResolvedPolicy['speechFailover'];
  /** The configured engines; stt is null when the server hears no speech. */
  stt: SttEngine | null;
  prompts: PromptSource;
  fallback: FallbackSpeech | null;
  /** Where the call's machine says the call is now. */
  modes: () => SpeechModes;
  /** Ask the machine to switch `service` to `to`. */
  request: (service: 'stt' | 'tts', to: 'embedded' | 'dtmf') => void;
  logger: Logger;
}

export class SpeechFailover {
  readonly #opts: SpeechFailoverOptions;
  #sttFailures = 0;
  #ttsFailures = 0;
  /** A switch asked for and not yet in the context: failures meanwhile must not ask again. */
  #sttRequested: 'embedded' | 'dtmf' | null = null;
  #ttsRequested = false;

  /** The engine a turn is recognized with now; see stream(). */
  readonly stt: SttEngine;
  /** The source prompts are spoken from now. */
  readonly prompts: PromptSource;

  constructor(opts: SpeechFailoverOptions) {
    this.#opts = opts;
    this.stt = {
      name: 'failover',
      stream: (req) => this.#stream(req),
      // The engines belong to the server, not to one call.
      close: () => Promise.resolve(),
    };
    const voice = (): PromptSource => this.#voice();
    this.prompts = {
      get readsSsml() {
        return voice().readsSsml;
      },
      get: (req: PromptRequest, signal?: AbortSignal): Promise<Prompt> => this.#prompt(req, signal),
    };
  }

  /** Whether speech is recognized at all now: false once the call runs on the keypad. */
  get listening(): boolean {
    return this.#opts.stt !== null && this.#opts.modes().stt !== 'dtmf';
  }

  /** A turn was recognized: the failures counted so far were not in a row. */
  recognized(): void {
    this.#sttFailures = 0;
  }

  /**
   * A turn's recognition failed. Returns true when this failure switched the call with words for it: the machine
   * then asks its question again, so the failed turn must not count as a no-match too. Otherwise the turn goes on
   * as not understood, so the caller is answered either way.
   */
  recognitionFailed(err: unknown): boolean {
    const { rule, logger } = this.#opts;
    const mode = this.#opts.modes().stt;
    if (mode === 'dtmf' || this.#sttRequested === 'dtmf') return false;
    this.#sttFailures += 1;
    if (this.#sttFailures < rule.after) return false;
    // From the cloud engine to the embedded one when wanted and loaded; from there (or else) to the keypad.
    const embedded =
      mode === undefined && rule.hearing === 'embedded' && (this.#opts.fallback?.stt() ?? null) !== null;
    const to = embedded ? 'embedded' : 'dtmf';
    const announced = (to === 'dtmf' ? rule.keypadSay : rule.say) !== '';
    if (this.#sttRequested === to) return announced;
    this.#sttRequested = to;
    this.#sttFailures = 0;
    logger.warn('speech recognition keeps failing; the call switches', {
      to,
      failures: rule.after,
      code: isSwitchboardError(err) ? err.code : 'STT_FAILED',
    });
    this.#opts.request('stt', to);
    return announced;
  }

  #stream(req: RecognitionRequest): RecognitionStream {
    const mode = this.#opts.modes().stt;
    const fallback = mode === 'embedded' ? (this.#opts.fallback?.stt() ?? null) : null;
    const engine = fallback ?? this.#opts.stt;
    if (engine === null) {
      // The listener asks only while listening; answer like an engine that failed the turn.
      const err = new Error('no speech recognition engine');
      queueMicrotask(() => req.onError(err));
      return { write() {}, endUtterance() {}, close() {} };
    }
    return engine.stream(req);
  }

  #voice(): PromptSource {
    const fallback = this.#opts.modes().tts === 'embedded' ? this.#opts.fallback?.prompts() : null;
    return fallback ?? this.#opts.prompts;
  }

  async #prompt(req: PromptRequest, signal?: AbortSignal): Promise<Prompt> {
    const source = this.#voice();
    if (source !== this.#opts.prompts) return source.get(plain(req), signal);
    try {
      const prompt = await source.get(req, signal);
      this.#ttsFailures = 0;
      return prompt;
    } catch (err) {
      const fallback = this.#opts.fallback?.prompts() ?? null;
      if (signal?.aborted || fallback === null) throw err;
      this.#ttsFailures += 1;
      this.#opts.logger.warn('prompt synthesis failed; the embedded voice says it', {
        code: isSwitchboardError(err) ? err.code : 'TTS_FAILED',
        failures: this.#ttsFailures,
      });
      if (this.#ttsFailures >= this.#opts.rule.after && !this.#ttsRequested) {
        this.#ttsRequested = true;
        this.#opts.logger.warn('speech synthesis keeps failing; the call switches', { to: 'embedded' });
        this.#opts.request('tts', 'embedded');
      }
      return fallback.get(plain(req), signal);
    }
  }
}

/** The request for an engine of its own: its default voice and plain text, since cloud voice names mean nothing to it. */
function plain(req: PromptRequest): PromptRequest {
  return req.language === undefined ? { text: req.text } : { text: req.text, language: req.language };
}
