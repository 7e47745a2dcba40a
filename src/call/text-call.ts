/**
 * A call carried as text: the flow's machine, under the same supervisor as a phone call, with prompts handed out
 * as text (each counts as heard once handed out) and the caller's turns given as text or keys. It is how
 * `switchboard chat` lets a flow's author try it without audio, and how tests drive flows turn by turn.
 */
import type { Clock } from '../clock.ts';
import { isE164 } from '../common/e164.ts';
import { SwitchboardError } from '../errors.ts';
import { captureEnv, flowEnvNames, type CompiledFlow } from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Prompt } from '../speech/tts/prompt-cache.ts';
import type { EndReason } from './end-reasons.ts';
import { EffectRunner, type CallAudio, type PromptSource } from './effects.ts';
import type { HttpEffect, HttpOutcome } from './http-action.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import { MemoryStore } from '../journal/memory.ts';
import type { JournalRecord } from '../journal/records.ts';
import { CallJournal } from './call-journal.ts';
import { CallSupervisor } from './supervisor.ts';
import { localDate, Understanding } from './understanding.ts';

/** How the end of a text call is told to the person typing. */
const TOLD: Partial<Record<EndReason, string>> = {
  'caller hung up': 'the caller hung up',
  'flow ended the call': 'the flow ended the call',
  'supervisor gave up': 'the call gave up after repeated failures',
};

export interface TextCallOptions {
  compiled: CompiledFlow;
  /** The flow's intent model; the call holds it until it ends. Without one, exact examples only. */
  model?: SharedIntentModel | null;
  logger: Logger;
  callId?: string;
  /** Each prompt the agent says, in order. */
  onSay: (text: string) => void;
  /**
   * The call is over: the flow hung up or transferred the caller, the caller left, or its supervisor gave up.
   * `words` tell the person typing, e.g. "transferred to +15555550100".
   */
  onEnd?: (reason: EndReason, words: string) => void;
  /** Arm the flow's no-input timers for real. Off by default: a person typing is slower than one talking. */
  timers?: boolean;
  /** Where `{{env.NAME}}` values come from (process.env unless given). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Makes a state's web request (a real one, with `fetch`, unless given). */
  http?: (effect: HttpEffect, signal: AbortSignal) => Promise<HttpOutcome>;
  /** The `fetch` a real web request uses (the global one unless given). */
  fetch?: typeof fetch;
  now?: () => number;
  /** What no-input timers run on, when `timers` is on (the system clock unless given). */
  clock?: Clock;
}

const SILENT: Prompt = { key: 'text', mulaw: new Uint8Array(0), frames: [], durationMs: 0 };

/** A prompt as text: nothing to synthesize, so the text call's "audio" is the words. */
const textPrompts: PromptSource = {
  readsSsml: false,
  get: (): Promise<Prompt> => Promise.resolve(SILENT),
};

export class TextCall {
  readonly #opts: TextCallOptions;
  readonly #now: () => number;
  readonly #understanding: Understanding;
  readonly #supervisor: CallSupervisor;
  /** The call's journal, kept in memory: what `switchboard chat --journal` saves for replay. */
  readonly #journal: CallJournal;
  /** Carries out the flow's effects, as for a phone call, with text for audio. */
  readonly #runner: EffectRunner;
  #ended: EndReason | null = null;
  #callerHungUp = false;
  /** The caller's turns, in order: a typed line waits for the model before the keys pressed after it. */
  #turns: Promise<void> = Promise.resolve();
  #releaseModel: (() => void) | null;
  #finished: Promise<void> = Promise.resolve();

  constructor(opts: TextCallOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#releaseModel = opts.model?.retain() ?? null;
    this.#understanding = new Understanding(opts.compiled.flow, {
      model: opts.model?.model ?? null,
      logger: opts.logger,
    });
    const callId = opts.callId ?? 'text-call';
    const store = new MemoryStore();
    this.#journal = new CallJournal(store, store.lease(callId, 'text-call'), 0);
    this.#runner = new EffectRunner({
      prompts: textPrompts,
      audio: this.#audio(),
      ...(opts.http ? { http: opts.http } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      deliver: (event) => this.#deliver(event),
      logger: opts.logger,
      now: this.#now,
      ...(opts.clock ? { clock: opts.clock } : {}),
      timers: opts.timers === true,
      sentences: false,
    });
    this.#supervisor = new CallSupervisor({
      compiled: opts.compiled,
      callId,
      journal: this.#journal,
      logger: opts.logger,
      now: this.#now,
      onEffect: (effect) => this.#runner.run(effect),
      onDone: () => this.#end(this.#callerHungUp ? 'caller hung up' : 'flow ended the call'),
      onGiveUp: () => this.#end('supervisor gave up'),
    });
  }

  start(): void {
    const { flow } = this.#opts.compiled;
    const env = captureEnv(flowEnvNames(flow), this.#opts.env ?? process.env);
    // A chat has no numbers: `{{call.from}}` and `{{call.to}}` read as nothing.
    this.#supervisor.start(
      this.#now(),
      env,
      { flow: flow.id, flowVersion: flow.version, modelVersion: this.modelVersion, params: {} },
      { direction: 'inbound' },
    );
  }

  /** The caller says `text`; see {@link settled} for when the agent has answered. */
  say(text: string): void {
    const at = this.#now();
    this.#turn(async () => {
      // Words over a prompt still "playing" start as speech does on a phone line: the flow decides on barge-in.
      if (this.#supervisor.context?.playing != null) this.#deliver({ type: 'speech.start', at });
      const utterance = await this.#understanding.interpret(text, this.state, at, localDate(at));
      this.#deliver(utterance);
    });
  }

  /** The caller presses `keys`, one after another. */
  press(keys: string): void {
    this.#turn(() => {
      for (const digit of keys) this.#deliver({ type: 'dtmf', at: this.#now(), digit });
      return Promise.resolve();
    });
  }

  /** The caller hangs up. */
  hangup(): void {
    if (this.#ended !== null) return;
    // The machine ends on this event, which the supervisor reports as done: say who ended it.
    this.#callerHungUp = true;
    this.#end('caller hung up');
  }

  /**
   * Resolves once the call has done all it can without the caller: every turn understood, no web request under
   * way, nothing queued.
   */
  async settled(): Promise<void> {
    do {
      await this.#turns;
      await this.#supervisor.settled();
      await new Promise((resolve) => setImmediate(resolve));
    } while ((this.#runner.busy || !this.#supervisor.idle) && this.#ended === null);
  }

  /** The call's journal records so far (all of them once the call has ended and `finished` resolved). */
  records(): Promise<JournalRecord[]> {
    return this.#journal.read();
  }

  /** Resolves once the ended call's journal is complete. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** The version of the intent model this call uses, null when it has none. */
  get modelVersion(): string | null {
    return this.#opts.model?.version ?? null;
  }

  get state(): string {
    return this.#supervisor.context?.state ?? '';
  }

  get slots(): Readonly<Record<string, string>> {
    return this.#supervisor.context?.slots ?? {};
  }

  /** Why the call ended, or null while it goes on. */
  get ended(): EndReason | null {
    return this.#ended;
  }

  /**
   * The call's "audio": each prompt is handed out as text and counts as heard at once (delivered after the current
   * event: the machine does not take events from inside itself); nothing is ever still playing.
   */
  #audio(): CallAudio {
    const heard = (mark: string): void => {
      queueMicrotask(() => this.#deliver({ type: 'played', at: this.#now(), mark }));
    };
    return {
      play: (_prompt, mark, text) => {
        this.#opts.onSay(text);
        if (mark !== null) heard(mark);
      },
      mark: heard,
      clear: () => {},
      idle: () => Promise.resolve(),
      hangup: () => queueMicrotask(() => this.#end('flow ended the call')),
      // There is no phone line to hand over: the conversation with the flow ends here, as a call would, unless
      // the number could not be dialled at all.
      transfer: (to, warm) => {
        if (!isE164(to))
          return Promise.reject(new SwitchboardError('CALL_CONTROL_INVALID', 'not an E.164 number'));
        // A warm transfer shows its whisper, so a flow's author can read what the person would hear.
        const words =
          warm === undefined
            ? `transferred to ${to}`
            : `warm transfer to ${to}; the person hears: "${warm.whisper}"`;
        queueMicrotask(() => this.#end('transferred', words));
        return Promise.resolve();
      },
      // Nothing to record in a typed conversation: the flow goes on as if no recording had started.
      record: () => Promise.resolve(null),
    };
  }

  #turn(handle: () => Promise<void>): void {
    this.#turns = this.#turns
      .then(() => (this.#ended === null ? handle() : undefined))
      .catch((err: unknown) => this.#opts.logger.error('caller turn failed', { err }));
  }

  #deliver(event: Parameters<CallSupervisor['send']>[0]): void {
    if (this.#ended === null) this.#supervisor.send(event);
  }

  #end(reason: EndReason, words: string = TOLD[reason] ?? reason): void {
    if (this.#ended !== null) return;
    this.#ended = reason;
    this.#runner.stop();
    // The machine takes the hangup and the journal its end; a supervisor that gave up has stopped already.
    this.#finished = this.#supervisor.finish(reason, this.#now());
    this.#releaseModel?.();
    this.#releaseModel = null;
    this.#opts.onEnd?.(reason, words);
  }
}
