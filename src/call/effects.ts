/**
 * Carries out a call's effects in the order the machine asked for them: prompts are synthesized (through the
 * shared prompt cache, sentence by sentence, so playback starts once the first sentence is ready) and queued for
 * playback in order, timers are armed and cancelled, and a hangup waits until everything said before it has
 * been heard.
 */
import type { CallEvent, Effect } from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Prompt } from '../speech/tts/prompt-cache.ts';
import { httpOutcomeEvent, type HttpEffect, type HttpOutcome } from './http-action.ts';
import { splitSentences } from '../speech/tts/sentences.ts';

/** One prompt to synthesize. */
export interface PromptRequest {
  /** Plain text; every engine can speak it. */
  text: string;
  /** The same prompt as an SSML document, for sources that read SSML (used instead of text then). */
  ssml?: string;
  voice?: string;
  /** BCP-47 language of the prompt (the flow's `language`). */
  language?: string;
}

/** Where prompts come from: the shared prompt cache, or a source that picks between engines. */
export interface PromptSource {
  /**
   * Whether `ssml` is used when given (the engine behind reads SSML). Read at each say: it may change during a
   * call.
   */
  readonly readsSsml: boolean;
  get(req: PromptRequest, signal?: AbortSignal): Promise<Prompt>;
}

/** What the runner needs from the call's media stream. */
export interface CallAudio {
  /**
   * Queue audio followed by a mark, or by none when `mark` is null (the audio goes on in the next call); `text`
   * is the sentence it says.
   */
  play(prompt: Prompt, mark: string | null, text: string): void;
  /** Queue a mark alone, after the audio queued so far. */
  mark(name: string): void;
  /** Drop queued audio (barge-in). */
  clear(): void;
  /** Resolves when every queued prompt has been heard (its mark echoed) or dropped. */
  idle(): Promise<void>;
  /** End the call. */
  hangup(reason: string): void;
  /** Connect the caller to `to`; the call leaves the flow. Rejects when the transfer cannot be made. */
  transfer(to: string): Promise<void>;
}

export interface EffectRunnerOptions {
  prompts: PromptSource;
  audio: CallAudio;
  /** Makes a state's web request; never throws. */
  http: (effect: HttpEffect, signal: AbortSignal) => Promise<HttpOutcome>;
  /** Deliver an event back to the call's machine. */
  deliver: (event: CallEvent) => void;
  logger: Logger;
  /** BCP-47 language of the call's flow, passed with every prompt. */
  language?: string;
  now?: () => number;
}

export class EffectRunner {
  readonly #opts: EffectRunnerOptions;
  readonly #now: () => number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Prompts are synthesized concurrently but played strictly in order: each waits for the one before. */
  #queue: Promise<void> = Promise.resolve();
  #abort = new AbortController();
  /** Aborted when the call ends: cancels web requests, which a barge-in does not. */
  readonly #stopSignal = new AbortController();
  #stopped = false;

  constructor(opts: EffectRunnerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Run one effect. Never throws: failures are logged and turned into events the flow can handle. */
  run(effect: Effect): void {
    if (this.#stopped) return;
    switch (effect.type) {
      case 'say':
        this.#say(effect);
        break;
      case 'clear':
        this.#clear();
        break;
      case 'timer.start':
        this.#startTimer(effect.id, effect.ms);
        break;
      case 'timer.cancel':
        this.#cancelTimer(effect.id);
        break;
      case 'hangup':
        this.#hangup();
        break;
      case 'http':
        this.#http(effect);
        break;
      case 'transfer':
        this.#transfer(effect.id, effect.to);
        break;
    }
  }

  /** Cancel everything the runner started. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#stopSignal.abort();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #say(effect: Extract<Effect, { type: 'say' }>): void {
    const { text, ssml, voice, mark } = effect;
    const { prompts, language } = this.#opts;
    const signal = this.#abort.signal;
    // SSML cannot be cut safely at sentence ends (a tag may span them), so it goes whole, as one prompt.
    const request = (req: PromptRequest): PromptRequest => {
      if (voice !== undefined) req.voice = voice;
      if (language !== undefined) req.language = language;
      return req;
    };
    const requests =
      ssml && prompts.readsSsml
        ? [request({ text, ssml })]
        : splitSentences(text).map((sentence) => request({ text: sentence }));
    const sentences = requests.map((r) => r.text);
    // Every sentence is requested now (engines serve in order, so the first is ready first) and played in turn.
    const syntheses = requests.map((req) => {
      const synthesis = prompts.get(req, signal);
      // Keep the promise from being reported as unhandled while it waits its turn in the queue.
      synthesis.catch(() => {});
      return synthesis;
    });
    this.#queue = this.#queue.then(async () => {
      // Nothing to say (a template that rendered empty): the flow still waits for the mark.
      if (syntheses.length === 0 && !signal.aborted && !this.#stopped) this.#opts.audio.mark(mark);
      for (const [i, synthesis] of syntheses.entries()) {
        const last = i === syntheses.length - 1;
        let prompt: Prompt | null = null;
        try {
          prompt = await synthesis;
        } catch (err) {
          if (signal.aborted || this.#stopped) return;
          // A sentence that cannot be spoken is skipped; the others still are.
          this.#opts.logger.error('prompt synthesis failed', {
            err,
            mark,
            sentence: i,
            pii: { text: sentences[i] },
          });
        }
        if (signal.aborted || this.#stopped) return;
        if (prompt) this.#opts.audio.play(prompt, last ? mark : null, sentences[i]!);
        // The flow waits for this mark, so it is sent even when the last sentence failed, after what did play.
        else if (last) this.#opts.audio.mark(mark);
      }
    });
  }

  #clear(): void {
    // Prompts not yet queued for playback are dropped along with the queued audio.
    this.#abort.abort();
    this.#abort = new AbortController();
    this.#queue = Promise.resolve();
    this.#opts.audio.clear();
  }

  #startTimer(id: string, ms: number): void {
    this.#cancelTimer(id);
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#stopped) this.#opts.deliver({ type: 'timer', at: this.#now(), id });
    }, ms);
    timer.unref();
    this.#timers.set(id, timer);
  }

  #cancelTimer(id: string): void {
    const timer = this.#timers.get(id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(id);
  }

  #http(effect: HttpEffect): void {
    // Not tied to the audio queue: the request runs while its state's prompt is still heard out, and only the
    // end of the call (stop) cancels it.
    const stopped = this.#stopSignal.signal;
    void this.#opts.http(effect, stopped).then((outcome) => {
      if (!this.#stopped) this.#opts.deliver(httpOutcomeEvent(effect, outcome, this.#now()));
    });
  }

  #transfer(id: string, to: string): void {
    const signal = this.#abort.signal;
    this.#queue = this.#queue.then(async () => {
      await this.#opts.audio.idle();
      if (this.#stopped || signal.aborted) return;
      try {
        await this.#opts.audio.transfer(to);
      } catch (err) {
        if (this.#stopped) return;
        this.#opts.logger.error('transfer failed', { err, id });
        const reason = err instanceof Error ? err.message : String(err);
        this.#opts.deliver({ type: 'transfer.failed', at: this.#now(), id, reason });
      }
    });
  }

  #hangup(): void {
    const signal = this.#abort.signal;
    this.#queue = this.#queue.then(async () => {
      await this.#opts.audio.idle();
      if (!this.#stopped && !signal.aborted) this.#opts.audio.hangup('flow ended the call');
    });
  }
}
