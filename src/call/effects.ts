/**
 * Carries out a call's effects in the order the machine asked for them: prompts are synthesized (through the
 * shared prompt cache) and queued for playback in order, timers are armed and cancelled, and a hangup waits
 * until everything said before it has been heard.
 */
import type { CallEvent, Effect } from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Prompt } from '../speech/tts/prompt-cache.ts';

export interface PromptSource {
  get(text: string, voice?: string, signal?: AbortSignal): Promise<Prompt>;
}

/** What the runner needs from the call's media stream. */
export interface CallAudio {
  /** Queue a prompt's audio followed by its mark. */
  play(prompt: Prompt, mark: string): void;
  /** Drop queued audio (barge-in). */
  clear(): void;
  /** Resolves when every queued prompt has been heard (its mark echoed) or dropped. */
  idle(): Promise<void>;
  /** End the call. */
  hangup(reason: string): void;
}

export interface EffectRunnerOptions {
  prompts: PromptSource;
  audio: CallAudio;
  /** Deliver an event back to the call's machine. */
  deliver: (event: CallEvent) => void;
  logger: Logger;
  now?: () => number;
}

export class EffectRunner {
  readonly #opts: EffectRunnerOptions;
  readonly #now: () => number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Prompts are synthesized concurrently but played strictly in order: each waits for the one before. */
  #queue: Promise<void> = Promise.resolve();
  #abort = new AbortController();
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
        this.#say(effect.text, effect.mark, effect.voice);
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
    }
  }

  /** Cancel everything the runner started. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #say(text: string, mark: string, voice: string | undefined): void {
    const signal = this.#abort.signal;
    const synthesis = this.#opts.prompts.get(text, voice, signal);
    // Keep the promise from being reported as unhandled while it waits its turn in the queue.
    synthesis.catch(() => {});
    this.#queue = this.#queue.then(async () => {
      try {
        const prompt = await synthesis;
        if (!signal.aborted && !this.#stopped) this.#opts.audio.play(prompt, mark);
      } catch (err) {
        if (signal.aborted || this.#stopped) return;
        // The flow waits for this mark; without it the call would stall in silence, so move it on.
        this.#opts.logger.error('prompt synthesis failed', { err, mark, pii: { text } });
        this.#opts.deliver({ type: 'played', at: this.#now(), mark });
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

  #hangup(): void {
    const signal = this.#abort.signal;
    this.#queue = this.#queue.then(async () => {
      await this.#opts.audio.idle();
      if (!this.#stopped && !signal.aborted) this.#opts.audio.hangup('flow ended the call');
    });
  }
}
