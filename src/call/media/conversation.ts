/**
 * The conversation behind a media stream: the call is attached to its journal by its ticket and lease (begun, or
 * taken up where it was), run by a supervised actor (supervisor.ts), and given the stream's events in order;
 * those that come while the journal is read wait, within a bound. When the stream ends the conversation ends with
 * it, or, when the way it ended is resumable (end-reasons.ts), stays open in the journal for a new stream.
 */
import { isSwitchboardError } from '../../errors.ts';
import {
  BOOT_STATE,
  captureEnv,
  flowEnvNames,
  isCallDirection,
  waitsForInput,
  type CallContext,
  type CallEvent,
  type CallInfo,
  type CompiledFlow,
  type Effect,
  type StateDef,
} from '../../flow/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { resumeRefusal } from '../../journal/resume.ts';
import type { FaultHook } from '../call-journal.ts';
import { isResumable, type EndReason } from '../end-reasons.ts';
import type { CallJournals } from '../journals.ts';
import { recover } from '../recovery.ts';
import { CallSupervisor } from '../supervisor.ts';
import { readDial } from '../../outbound/dial-journal.ts';
import { AnswerWatch } from './answer-watch.ts';
import type { SessionEvents } from './session-events.ts';

/** Events that arrive while the call is still being attached to its journal wait, up to this many. */
const MAX_EARLY_EVENTS = 64;

export interface ConversationOptions {
  compiled: CompiledFlow;
  flowName: string;
  callId: string;
  /** The stream's `<Parameter>`s: its ticket. */
  params: Readonly<Record<string, string>>;
  /** The ticket token the stream's URL carries, when it carries one (SessionDeps.urlTicket). */
  urlTicket?: string;
  tracks: readonly string[];
  modelVersion: string | null;
  /** Wall-clock ms when the stream started: a new conversation starts then. */
  startedAt: number;
  journals: CallJournals;
  faults?: FaultHook;
  env: Readonly<Record<string, string | undefined>>;
  events: SessionEvents;
  logger: Logger;
  now: () => number;
  /** Whether the stream is still live: a conversation attached after it ended is let go. */
  live: () => boolean;
  /** Carry out an effect the machine asked for. */
  onEffect: (effect: Effect) => void;
  /** The conversation cannot go on here: end the stream. */
  end: (reason: EndReason, fields: Record<string, unknown>) => void;
  /** Attaching failed: end the stream for `err`. */
  fail: (err: unknown) => void;
}

/** A flow state that waits for the caller: for an answer, or yes or no to a read-back. */
export interface WaitingState {
  state: string;
  def: StateDef;
  confirming: boolean;
  checking: boolean;
}

export class Conversation {
  readonly #opts: ConversationOptions;
  #supervisor: CallSupervisor | null = null;
  /** Events delivered before the supervisor exists (the journal is being read). */
  #early: CallEvent[] | null = [];
  /** Resolves once attaching is over, either way. */
  readonly #attached: Promise<void>;
  #attachDone: () => void = () => {};
  /** The flow state and slots last announced. */
  #entered: { state: string; slots: Record<string, string> } | null = null;
  /** For a call this server placed: the key of its dial, and who answered, until it is known. */
  #dial: string | undefined;
  #answerWatch: AnswerWatch | null = null;

  constructor(opts: ConversationOptions) {
    this.#opts = opts;
    this.#attached = new Promise((resolve) => (this.#attachDone = resolve));
    // A shadow model that understood a turn differently is journaled beside the turn (learn, the calls pages).
    opts.events.subscribe((event, at) => {
      if (event.type !== 'nlu.shadow' || event.verdict.outcome !== 'disagree') return;
      const { at: turn, version, shadow } = event.verdict;
      const { intent, confidence } = shadow!;
      this.#supervisor?.note({ kind: 'shadow', turn, version, intent, confidence }, at);
    });
  }

  get context(): CallContext | null {
    return this.#supervisor?.context ?? null;
  }

  /** The definition of the flow state the conversation is in. */
  get currentState(): StateDef | undefined {
    const state = this.context?.state;
    return state === undefined ? undefined : this.#opts.compiled.flow.states[state];
  }

  /** The current state when it waits for the caller; else null. */
  get waitingState(): WaitingState | null {
    const def = this.currentState;
    const ctx = this.context;
    if (!def || !ctx || !(waitsForInput(def) || ctx.confirming)) return null;
    return { state: ctx.state, def, confirming: ctx.confirming, checking: ctx.checking !== undefined };
  }

  /** Attach to the journal: begin the conversation, or take it up where it was. Never rejects. */
  async attach(): Promise<void> {
    try {
      await this.#attach();
    } finally {
      this.#attachDone();
    }
  }

  /** Resolves once every event delivered so far has been journaled and handled. */
  async settled(): Promise<void> {
    await this.#attached;
    await this.#supervisor?.settled();
  }

  /** Give the conversation `event`, after those before it. */
  deliver(event: CallEvent): void {
    const supervisor = this.#supervisor;
    if (supervisor) {
      supervisor.send(event);
      this.#opts.events.emit({ type: 'event.delivered', event });
      this.#afterStep(supervisor, event);
      return;
    }
    // Before the journal is read: kept for the conversation, in order, within a bound.
    if (this.#early !== null && this.#early.length < MAX_EARLY_EVENTS) this.#early.push(event);
    else this.#opts.events.emit({ type: 'event.dropped', event: event.type });
  }

  /** Resolves once `event`, delivered just before, has been handled (with those before it). */
  handled(): Promise<void> {
    return this.#supervisor?.settled() ?? Promise.resolve();
  }

  /**
   * The stream ended for `reason`: the conversation ends with it, or stays open in the journal to be resumed.
   * Resolves once the journal says which.
   */
  leave(reason: EndReason, at: number): Promise<void> {
    this.#attachDone();
    this.#answerWatch?.stop();
    const supervisor = this.#supervisor;
    if (!supervisor) return Promise.resolve();
    return isResumable(reason) ? supervisor.detach() : supervisor.finish(reason, at);
  }

  async #attach(): Promise<void> {
    const opts = this.#opts;
    let attached;
    try {
      attached = await opts.journals.attach(opts.params, opts.callId, opts.urlTicket);
    } catch (err) {
      opts.fail(err);
      return;
    }
    const { journal, records } = attached;
    // A call this server placed reads the variables it was dialed with (sealed in the dial's journal).
    let vars: Record<string, string> | undefined;
    if (records.length === 0 && opts.params.dial !== undefined) {
      const dial = await readDial(opts.journals.store, opts.params.dial).catch((err: unknown) => {
        opts.logger.warn('the dial of an outbound call could not be read', { dial: opts.params.dial, err });
        return null;
      });
      vars = dial?.vars;
    }
    if (!opts.live()) {
      await journal.release().catch(() => {});
      return;
    }
    const { compiled, events } = opts;
    const supervisor = new CallSupervisor({
      compiled,
      callId: opts.callId,
      journal,
      logger: opts.logger,
      onEffect: (effect) => this.#effect(effect),
      onDone: () => events.emit({ type: 'conversation.done' }),
      onRestart: () => events.emit({ type: 'actor.restarted' }),
      onGiveUp: (err) => opts.end('supervisor gave up', { code: err.code }),
      onJournalFull: (err) => opts.end('journal full', { code: err.code }),
      onJournalFailed: (err) =>
        opts.end('journal failed', { code: isSwitchboardError(err) ? err.code : 'INTERNAL' }),
      now: opts.now,
      ...(opts.faults ? { faults: opts.faults } : {}),
    });
    try {
      if (records.length === 0) this.#begin(supervisor, vars);
      else this.#resume(supervisor, records, journal.token);
    } catch (err) {
      await journal.release().catch(() => {});
      opts.fail(err);
      return;
    }
    this.#supervisor = supervisor;
    const early = this.#early ?? [];
    this.#early = null;
    for (const event of early) supervisor.send(event);
    events.emit({ type: 'conversation.attached' });
    this.#afterStep(supervisor, null);
    this.#watchAnswer(supervisor);
  }

  /** A call this server placed learns who answered (answer-watch.ts), unless it knows already. */
  #watchAnswer(supervisor: CallSupervisor): void {
    const dial = this.#dial;
    if (dial === undefined || supervisor.context?.call?.answeredBy !== undefined) return;
    this.#answerWatch = new AnswerWatch({
      store: this.#opts.journals.store,
      dial,
      logger: this.#opts.logger,
      answered: (answeredBy) => this.deliver({ type: 'answered', at: this.#opts.now(), answeredBy }),
    });
    this.#answerWatch.start();
  }

  #begin(supervisor: CallSupervisor, vars: Record<string, string> | undefined): void {
    const { compiled, flowName, modelVersion } = this.#opts;
    this.#opts.events.emit({
      type: 'call.started',
      flowVersion: compiled.flow.version,
      modelVersion,
      tracks: this.#opts.tracks,
    });
    const caller = callerParams(this.#opts.params);
    this.#dial = caller.dial;
    supervisor.start(
      this.#opts.startedAt,
      captureEnv(flowEnvNames(compiled.flow), this.#opts.env),
      {
        flow: flowName,
        flowVersion: compiled.flow.version,
        modelVersion,
        params: { flow: flowName, ...caller },
      },
      callOf(this.#opts.params.direction, caller, vars),
    );
  }

  #resume(supervisor: CallSupervisor, records: Parameters<typeof recover>[1], leaseToken: number): void {
    const { compiled, flowName, modelVersion } = this.#opts;
    const recovered = recover(compiled.machine, records);
    const refused = resumeRefusal(recovered.start, flowName, compiled.flow.version);
    if (refused) throw refused;
    this.#dial = recovered.start.params.dial;
    this.#opts.events.emit({
      type: 'call.resumed',
      flowVersion: compiled.flow.version,
      modelVersion,
      journaledModelVersion: recovered.start.modelVersion,
      records: records.length,
      replayedEvents: recovered.replayed,
      timersRearmed: recovered.timers.length,
      state: recovered.snapshot.context.state,
      leaseToken,
    });
    supervisor.resume(recovered, this.#opts.now());
  }

  #effect(effect: Effect): void {
    // The step that asked for the effect has moved the conversation on: its state goes before its prompt.
    this.#announceState();
    this.#opts.events.emit({ type: 'effect', effect });
    this.#opts.onEffect(effect);
  }

  /**
   * Once the supervisor has handled what it was given (steps without effects change slots too), announce where
   * it is. Runs before the supervisor takes the next event.
   */
  #afterStep(supervisor: CallSupervisor, event: CallEvent | null): void {
    void supervisor.settled().then(
      () => {
        this.#announceState();
        this.#opts.events.emit({ type: 'step.settled', event, context: supervisor.context });
      },
      () => {},
    );
  }

  /** Announce the flow state and slots when they changed since last announced. */
  #announceState(): void {
    if (!this.#opts.live()) return;
    const ctx = this.context;
    if (!ctx || ctx.state === BOOT_STATE) return;
    const last = this.#entered;
    if (last && last.state === ctx.state && sameSlots(last.slots, ctx.slots)) return;
    const slots = { ...ctx.slots };
    this.#entered = { state: ctx.state, slots };
    this.#opts.events.emit({ type: 'state.entered', state: ctx.state, slots });
  }
}

function sameSlots(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

/**
 * The call's numbers its webhook passed on to the stream, and the key of the dial that placed it: journaled in
 * the start record, sealed when keyed.
 */
function callerParams(params: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  if (params.from !== undefined) out.from = params.from;
  if (params.to !== undefined) out.to = params.to;
  if (params.dial !== undefined) out.dial = params.dial;
  return out;
}

/**
 * How the call reached its flow (`{{call.NAME}}`): the `direction` stream parameter when it is `inbound` or
 * `outbound` (the outbound dialer sets it), else inbound; and the numbers that are known.
 */
function callOf(
  direction: string | undefined,
  caller: Readonly<Record<string, string>>,
  vars: Record<string, string> | undefined,
): CallInfo {
  const call: CallInfo = { direction: isCallDirection(direction) ? direction : 'inbound' };
  if (caller.from) call.from = caller.from;
  if (caller.to) call.to = caller.to;
  if (vars) call.vars = vars;
  return call;
}
