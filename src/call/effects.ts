/**
 * Carries out a call's effects in the order the machine asked for them, for phone calls and text calls alike.
 * Each effect goes to the action that emits it (src/flow/actions/), with the call's I/O as ports: prompts are
 * synthesized (through the shared prompt cache, sentence by sentence, so playback starts once the first
 * sentence is ready) and queued for playback in order, timers are armed on the call's clock, and what waits for
 * the audio (a hangup, a transfer) runs once everything said before it has been heard.
 */
import { systemClock, type Clock, type Timer } from '../clock.ts';
import {
  runEffect,
  type ActionPorts,
  type CallEvent,
  type Effect,
  type WarmTransferRequest,
} from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Prompt } from '../speech/tts/prompt-cache.ts';
import type { HttpEffect, HttpOutcome } from './http-action.ts';
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

/** What the runner needs from the call's media stream (or from a text call standing in for one). */
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
  /**
   * Connect the caller to `to`; the call leaves the flow. Rejects when the transfer cannot be made, or, warm,
   * when the person called did not take it.
   */
  transfer(to: string, warm?: WarmTransferRequest): Promise<void>;
  /** Start, pause or resume the call's recording (a start resolves with its SID); rejects when it cannot. */
  record(action: 'start' | 'pause' | 'resume'): Promise<{ sid: string } | null>;
}

export interface EffectRunnerOptions {
  prompts: PromptSource;
  audio: CallAudio;
  /** Makes a state's web request instead of the http action's own request with `fetch`; never throws. */
  http?: (effect: HttpEffect, signal: AbortSignal) => Promise<HttpOutcome>;
  /** The `fetch` the http action's own request uses (the global one unless given). */
  fetch?: typeof fetch;
  /** Deliver an event back to the call's machine. */
  deliver: (event: CallEvent) => void;
  logger: Logger;
  /** BCP-47 language of the call's flow, passed with every prompt. */
  language?: string;
  now?: () => number;
  /** What no-input timers run on (the system clock unless given); `now` defaults to its `now`. */
  clock?: Clock;
  /** Whether no-input timers are armed at all (default true; a text call's person typing may turn them off). */
  timers?: boolean;
  /** Whether prompts are split into sentences for synthesis (default true; a text call hands out whole prompts). */
  sentences?: boolean;
}

export class EffectRunner {
  readonly #opts: EffectRunnerOptions;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #timers = new Map<string, Timer>();
  readonly #ports: ActionPorts;
  /** Prompts are synthesized concurrently but played strictly in order: each waits for the one before. */
  #queue: Promise<void> = Promise.resolve();
  #abort = new AbortController();
  /** Aborted when the call ends: cancels web requests, which a barge-in does not. */
  readonly #stopSignal = new AbortController();
  #stopped = false;
  /** Work under way that answers the machine later (web requests). */
  #inFlight = 0;

  constructor(opts: EffectRunnerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#now = opts.now ?? (() => this.#clock.now());
    const ports: ActionPorts = {
      log: opts.logger,
      now: () => this.#now(),
      deliver: (event) => {
        if (!this.#stopped) opts.deliver(event);
      },
      stopped: () => this.#stopped,
      signal: this.#stopSignal.signal,
      speak: (effect) => this.#say(effect),
      clear: () => this.#clear(),
      afterAudio: (work, options) => this.#afterAudio(work, options?.evenIfCleared === true),
      startTimer: (id, ms) => this.#startTimer(id, ms),
      cancelTimer: (id) => this.#cancelTimer(id),
      hangup: (reason) => opts.audio.hangup(reason),
      transfer: (to, warm) => opts.audio.transfer(to, warm),
      record: (action) => opts.audio.record(action),
      fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
      track: (work) => this.#track(work),
    };
    if (opts.http) Object.assign(ports, { request: opts.http });
    this.#ports = ports;
  }

  /** Run one effect. Never throws: failures are logged and turned into events the flow can handle. */
  run(effect: Effect): void {
    if (this.#stopped) return;
    if (!runEffect(effect, this.#ports))
      this.#opts.logger.warn('effect not carried out', { effect: effect.type });
  }

  /** Work under way that will answer the machine (web requests), or audio still queued. */
  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /** Cancel everything the runner started. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#stopSignal.abort();
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  #say(effect: Parameters<ActionPorts['speak']>[0]): void {
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
        : this.#opts.sentences === false
          ? text === ''
            ? []
            : [request({ text })]
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

  /** `work` once the audio queued so far has been heard; dropped by a clear or the end of the call. */
  #afterAudio(work: () => Promise<void> | void, evenIfCleared: boolean): void {
    const signal = this.#abort.signal;
    this.#queue = this.#queue.then(async () => {
      await this.#opts.audio.idle();
      if (this.#stopped || (signal.aborted && !evenIfCleared)) return;
      await work();
    });
  }

  #startTimer(id: string, ms: number): void {
    this.#cancelTimer(id);
    if (this.#opts.timers === false) return;
    const timer = this.#clock.after(ms, () => {
      this.#timers.delete(id);
      if (!this.#stopped) this.#opts.deliver({ type: 'timer', at: this.#now(), id });
    });
    this.#timers.set(id, timer);
  }

  #cancelTimer(id: string): void {
    this.#timers.get(id)?.cancel();
    this.#timers.delete(id);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight += 1;
    const done = (): void => {
      this.#inFlight -= 1;
    };
    work.then(done, done);
    return work;
  }
}
