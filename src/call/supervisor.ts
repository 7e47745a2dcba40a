/**
 * One call's supervisor: it owns the call's xstate actor and its journal. Every event is appended to the journal
 * before the actor sees it, and the effects the actor asks for are journaled before they are carried out, one
 * event at a time. When the actor fails (an action or guard threw) the supervisor records which event did it and
 * restarts the actor from the journal (last snapshot, then the later events through the pure `transition()`),
 * OTP style, within a restart intensity; past it, the flow's `onGiveUp` state gets one chance, then the call
 * ends. The process and the other calls never see the failure.
 */
import { createActor, type Actor } from 'xstate';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import {
  BOOT_STATE,
  type CallContext,
  type CallEvent,
  type CallInfo,
  type CallMachine,
  type CompiledFlow,
  type Effect,
  effectKey,
} from '../flow/index.ts';
import type { JournalEntry, Payload, StartEntry } from '../journal/records.ts';
import type { Logger } from '../observability/logger.ts';
import { RestartIntensity } from '../restart-intensity.ts';
import type { CallJournal, FaultHook } from './call-journal.ts';
import { recover, type Recovered } from './recovery.ts';

export interface SupervisorOptions {
  compiled: CompiledFlow;
  callId: string;
  journal: CallJournal;
  logger: Logger;
  /** Receives the actor's effects in order, once the event that caused them is journaled. Must not throw. */
  onEffect: (effect: Effect) => void;
  /** Called once when the conversation reaches its end. */
  onDone?: () => void;
  /** Called each time the actor is restarted from the journal after a failure. */
  onRestart?: () => void;
  /** Called once when restarts are exhausted; the call should end. */
  onGiveUp: (err: SwitchboardError) => void;
  /**
   * Called once when the journal cannot be written (another instance took the call, or the store failed): the
   * call must stop here without ending, so it can be resumed from what was journaled.
   */
  onJournalFailed?: (err: unknown) => void;
  /**
   * Called once when the call's journal reached its cap (JOURNAL_FULL): the call must end, as nothing more it
   * does can be journaled. Without it, a full journal is a failed one.
   */
  onJournalFull?: (err: SwitchboardError) => void;
  /** Wall clock for restart intensity; injected for tests. */
  now?: () => number;
  /** A snapshot is journaled after this many events (default 8), so a restart replays few. */
  snapshotEvery?: number;
  /** Deterministic fault injection for tests (see FaultPoint). */
  faults?: FaultHook;
}

type CallActor = Actor<CallMachine>;

const DEFAULT_SNAPSHOT_EVERY = 8;

export class CallSupervisor {
  readonly #opts: SupervisorOptions;
  readonly #machine: CallMachine;
  readonly #journal: CallJournal;
  readonly #now: () => number;
  #actor: CallActor | null = null;
  /** Restarts within the flow's window (policy.supervisor); past it, the supervisor gives up. */
  readonly #restarts: RestartIntensity;
  #stopped = false;
  /** The flow's onGiveUp state has been entered; a failure now ends the call. */
  #givingUp = false;
  /** Events are handled one at a time, in order: each waits for the journal writes of the one before. */
  #queue: Promise<void> = Promise.resolve();
  /** Effects the actor emits while taking the current event. */
  #emitted: Effect[] = [];
  #eventsSinceSnapshot = 0;
  /** Steps queued and not yet done. */
  #pending = 0;
  #lastIn = 0;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#machine = opts.compiled.machine;
    this.#journal = opts.journal;
    this.#now = opts.now ?? Date.now;
    const { maxRestarts, withinMs } = opts.compiled.policy.supervisor;
    this.#restarts = new RestartIntensity({ max: maxRestarts, withinMs, now: this.#now });
  }

  /**
   * Start a new conversation: journal its start, then deliver `call.start` with the flow's environment and how
   * the call reached it (`call`, journaled in the event's body, which is sealed at rest).
   */
  start(at: number, env: Record<string, string>, start: Omit<StartEntry, 'kind'>, call?: CallInfo): void {
    this.#enqueue(async () => {
      await this.#journal.append([{ kind: 'start', ...start }], at, start.flow);
      this.#actor = this.#spawn(undefined);
      const callId = this.#opts.callId;
      await this.#handle({ type: 'call.start', at, callId, env, ...(call === undefined ? {} : { call }) });
    });
  }

  /**
   * Take the conversation up from its journal (a new instance after a crash, or a new stream): rebuild the
   * actor, re-arm the timers still due (as `timer.start` effects with the time left), then deliver `resume`.
   */
  resume(recovered: Recovered, at: number): void {
    this.#enqueue(async () => {
      this.#actor = this.#spawn(recovered.persisted);
      this.#lastIn = recovered.lastIn;
      this.#eventsSinceSnapshot = recovered.replayed;
      for (const t of recovered.timers) {
        this.#opts.onEffect({ type: 'timer.start', id: t.id, ms: Math.max(0, t.deadline - at) });
      }
      await this.#handle({ type: 'resume', at });
    });
  }

  /** Deliver one event after those before it; a failure inside the actor triggers a restart, never a throw. */
  send(event: CallEvent): void {
    this.#enqueue(() => this.#handle(event));
  }

  /**
   * Journal `entry`, a note about the call that the actor does not take (a shadow model's answer), in the order
   * of appends but without waiting for the events before it. A note that cannot be written is dropped: the
   * journal's failure, if it is one, is the next event's to report.
   */
  note(entry: JournalEntry, at: number): void {
    if (this.#stopped) return;
    this.#journal.append([entry], at).catch(() => {});
  }

  /**
   * The conversation is over (the caller hung up, the call was transferred): deliver `hangup`, journal the end
   * and give the lease up.
   */
  async finish(reason: string, at: number): Promise<void> {
    this.#enqueue(async () => {
      if (this.#actor?.getSnapshot().status === 'active') await this.#handle({ type: 'hangup', at, reason });
      await this.#journal.append([{ kind: 'end', reason }], at);
    });
    await this.#queue;
    this.stop();
    await this.#journal.release().catch(() => {});
  }

  /** Stop here without ending the conversation, so it can be resumed: the lease is given up. */
  async detach(): Promise<void> {
    this.stop();
    await this.#queue;
    await this.#journal.release().catch(() => {});
  }

  /** No event is waiting or being handled. */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Resolves once every event delivered so far has been handled. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** The conversation's context, for logs and views. */
  get context(): CallContext | null {
    return this.#actor?.getSnapshot().context ?? null;
  }

  get restarts(): number {
    return this.#restarts.counted;
  }

  get running(): boolean {
    return this.#actor !== null && !this.#stopped && this.#actor.getSnapshot().status === 'active';
  }

  /** Stop supervising: the actor is stopped and no more effects are delivered. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#actor?.stop();
  }

  #enqueue(step: () => Promise<void>): void {
    this.#pending += 1;
    this.#queue = this.#queue.then(async () => {
      try {
        await step();
      } catch (err) {
        this.#journalFailed(err);
      } finally {
        this.#pending -= 1;
      }
    });
  }

  #spawn(snapshot: unknown): CallActor {
    const actor = createActor(this.#machine, snapshot ? { snapshot: snapshot as never } : {});
    actor.on('*', (effect) => this.#emitted.push(effect));
    // Without an error observer xstate rethrows the failure globally; the supervisor handles it instead.
    actor.subscribe({ error: () => {} });
    actor.start();
    return actor;
  }

  /** Journal the event, deliver it, carry out and journal its effects. */
  async #handle(event: CallEvent): Promise<void> {
    const actor = this.#actor;
    if (!actor || this.#stopped || actor.getSnapshot().status !== 'active') return;
    const faults = this.#opts.faults;
    faults?.('in.received', { event: event.type });
    const [seq] = await this.#journal.append([{ kind: 'in', event: event as unknown as Payload }], event.at);
    faults?.('in.journaled', { event: event.type, seq: seq! });
    if (this.#stopped) return;
    this.#emitted = [];
    actor.send(event);
    const effects = this.#emitted;
    this.#emitted = [];
    const snapshot = actor.getSnapshot();
    if (snapshot.status === 'error') {
      await this.#journal.append([{ kind: 'crash', in: seq!, code: 'CALL_ACTOR_FAILED' }], event.at);
      await this.#restart(snapshot.error, event);
      return;
    }
    this.#lastIn = seq!;
    // Effects are carried out before their records are stored: the journaled event already determines them, so
    // a crash in between loses nothing (a restart computes them again, under the same keys), and the caller
    // does not wait for a second write.
    for (const effect of effects) this.#opts.onEffect(effect);
    faults?.('eff.sent', { event: event.type, seq: seq! });
    const entries = effects.map((e) => this.#effectEntry(e, event.at)).flat();
    entries.push({ kind: 'state', in: seq!, state: snapshot.context.state });
    await this.#journal.append(entries, event.at);
    if (this.#stopped) return;
    if (snapshot.status === 'done') {
      this.#stopped = true;
      this.#opts.onDone?.();
      return;
    }
    this.#eventsSinceSnapshot += 1;
    if (this.#eventsSinceSnapshot >= (this.#opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY)) {
      faults?.('snap.writing', { seq: this.#lastIn });
      this.#eventsSinceSnapshot = 0;
      const entry: JournalEntry = {
        kind: 'snap',
        upTo: this.#lastIn,
        snapshot: actor.getPersistedSnapshot(),
      };
      await this.#journal.append([entry], event.at);
    }
  }

  /** An effect's records: the effect under its idempotency key, and a deadline for a timer. */
  #effectEntry(effect: Effect, at: number): JournalEntry[] {
    const entry: JournalEntry = {
      kind: 'eff',
      key: effectKey(this.#opts.callId, effect),
      effect: { ...effect },
    };
    if (effect.type !== 'timer.start') return [entry];
    return [entry, { kind: 'timer', id: effect.id, deadline: at + effect.ms }];
  }

  async #restart(error: unknown, event: CallEvent): Promise<void> {
    const log = this.#opts.logger;
    const { maxRestarts, withinMs, onGiveUp } = this.#opts.compiled.policy.supervisor;
    const exhausted = this.#restarts.exhausted();
    log.error('call actor failed', {
      err: error,
      event: event.type,
      restartsInWindow: this.#restarts.counted,
    });
    this.#actor?.stop();
    this.#actor = null;
    // The event that crashed the actor is not delivered again (its crash record says so): restarting into the
    // same failure would loop.
    const recovered = recover(this.#machine, await this.#journal.read());
    const started = recovered.snapshot.context.state !== BOOT_STATE;
    if (this.#givingUp || exhausted || !started) {
      // The flow's own way out (an apology, a transfer) gets one chance; if that fails too, the call ends.
      if (onGiveUp !== null && !this.#givingUp && started) {
        this.#givingUp = true;
        log.error("call supervisor gave up; going to the flow's onGiveUp state", {
          maxRestarts,
          withinMs,
          onGiveUp,
        });
        this.#actor = this.#spawn(recovered.persisted);
        await this.#handle({ type: 'giveUp', at: event.at });
        return;
      }
      this.#stopped = true;
      log.error('call supervisor gave up', { maxRestarts, withinMs });
      this.#opts.onGiveUp(
        new SwitchboardError('CALL_GAVE_UP', undefined, { maxRestarts, withinMs }, { cause: error }),
      );
      return;
    }
    this.#restarts.record();
    this.#opts.onRestart?.();
    this.#actor = this.#spawn(recovered.persisted);
    log.warn('call actor restarted from its journal', {
      restarts: this.#restarts.counted,
      replayedEvents: recovered.replayed,
    });
    await this.#handle({ type: 'resume', at: event.at });
  }

  #journalFailed(err: unknown): void {
    if (this.#stopped && this.#journal.failure === null) {
      this.#opts.logger.error('call event handling failed after the call stopped', { err });
      return;
    }
    const wasStopped = this.#stopped;
    this.#stopped = true;
    this.#actor?.stop();
    if (wasStopped) return;
    if (isSwitchboardError(err, 'JOURNAL_FULL') && this.#opts.onJournalFull) {
      this.#opts.logger.warn('call journal full; the call ends', { code: err.code, ...err.data });
      this.#opts.onJournalFull(err);
      return;
    }
    const fenced = isSwitchboardError(err, 'JOURNAL_FENCED');
    if (fenced)
      this.#opts.logger.warn('call taken over by another instance; stopping here', {
        code: 'JOURNAL_FENCED',
      });
    else this.#opts.logger.error('call journal failed; the call stops here', { err, code: codeOf(err) });
    this.#opts.onJournalFailed?.(err);
  }
}

function codeOf(err: unknown): string {
  return isSwitchboardError(err) ? err.code : 'INTERNAL';
}
