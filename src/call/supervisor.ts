/**
 * One call's supervisor: it owns the call's xstate actor, keeps the last good snapshot, and when the actor fails
 * (an action or guard threw) restarts it from that snapshot, OTP style, within a restart intensity. Past the
 * intensity it gives up and lets the call end. The process and the other calls never see the failure.
 */
import { createActor, type Actor, type Snapshot } from 'xstate';
import { SwitchboardError } from '../errors.ts';
import type { CallContext, CallEvent, CallMachine, CompiledFlow, Effect } from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';

export interface SupervisorOptions {
  compiled: CompiledFlow;
  callId: string;
  logger: Logger;
  /** Receives the actor's effects in order, synchronously. Must not throw. */
  onEffect: (effect: Effect) => void;
  /** Called once when the conversation reaches its end. */
  onDone?: () => void;
  /** Called once when restarts are exhausted; the call should end. */
  onGiveUp: (err: SwitchboardError) => void;
  /** Wall clock for restart intensity; injected for tests. */
  now?: () => number;
}

type CallActor = Actor<CallMachine>;

export class CallSupervisor {
  readonly #opts: SupervisorOptions;
  readonly #machine: CallMachine;
  readonly #now: () => number;
  #actor: CallActor | null = null;
  #lastGood: Snapshot<unknown> | null = null;
  #restarts: number[] = [];
  #stopped = false;
  /** The flow's onGiveUp state has been entered; a failure now ends the call. */
  #givingUp = false;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#machine = opts.compiled.machine;
    this.#now = opts.now ?? Date.now;
  }

  /** Start the conversation; `env` holds the environment variables the flow reads (see flowEnvNames). */
  start(at: number, env: Record<string, string> = {}): void {
    this.#actor = this.#spawn(undefined);
    this.send({ type: 'call.start', at, callId: this.#opts.callId, env });
  }

  /** Deliver one event; a failure inside the actor triggers a restart, never an exception here. */
  send(event: CallEvent): void {
    const actor = this.#actor;
    if (!actor || this.#stopped) return;
    actor.send(event);
    this.#afterEvent(actor, event);
  }

  /** The conversation's context, for logs and views. */
  get context(): CallContext | null {
    return this.#actor?.getSnapshot().context ?? null;
  }

  get restarts(): number {
    return this.#restarts.length;
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

  #spawn(snapshot: Snapshot<unknown> | undefined): CallActor {
    const actor = createActor(this.#machine, snapshot ? { snapshot } : {});
    actor.on('*', (effect) => {
      if (!this.#stopped) this.#opts.onEffect(effect);
    });
    // Without an error observer xstate rethrows the failure globally; the supervisor handles it instead.
    actor.subscribe({ error: () => {} });
    actor.start();
    return actor;
  }

  #afterEvent(actor: CallActor, event: CallEvent): void {
    const snapshot = actor.getSnapshot();
    if (snapshot.status === 'active') {
      this.#lastGood = actor.getPersistedSnapshot();
      return;
    }
    if (snapshot.status === 'done') {
      this.#stopped = true;
      this.#opts.onDone?.();
      return;
    }
    if (snapshot.status === 'error') this.#restart(snapshot.error, event);
  }

  #restart(error: unknown, event: CallEvent): void {
    const log = this.#opts.logger;
    const now = this.#now();
    const { maxRestarts, withinMs } = this.#opts.compiled.policy.supervisor;
    this.#restarts = this.#restarts.filter((t) => now - t < withinMs);
    log.error('call actor failed', {
      err: error,
      event: event.type,
      restartsInWindow: this.#restarts.length,
    });
    this.#actor?.stop();
    // A failure on the way out (in the onGiveUp state) is not retried: the call ends.
    if (this.#givingUp || this.#restarts.length >= maxRestarts || this.#lastGood === null) {
      const onGiveUp = this.#opts.compiled.policy.supervisor.onGiveUp;
      // The flow's own way out (an apology, a transfer) gets one chance, from the last good state; if that
      // fails too, or there is none, the call ends.
      if (onGiveUp !== null && !this.#givingUp && this.#lastGood !== null) {
        this.#givingUp = true;
        log.error("call supervisor gave up; going to the flow's onGiveUp state", {
          maxRestarts,
          withinMs,
          onGiveUp,
        });
        this.#actor = this.#spawn(this.#lastGood);
        this.send({ type: 'giveUp', at: event.at });
        return;
      }
      this.#stopped = true;
      this.#actor = null;
      log.error('call supervisor gave up', { maxRestarts, withinMs });
      this.#opts.onGiveUp(
        new SwitchboardError('CALL_GAVE_UP', undefined, { maxRestarts, withinMs }, { cause: error }),
      );
      return;
    }
    this.#restarts.push(now);
    // The event that crashed the actor is not delivered again: restarting into the same failure would loop.
    this.#actor = this.#spawn(this.#lastGood);
    log.warn('call actor restarted from last good snapshot', { restarts: this.#restarts.length });
    this.send({ type: 'resume', at: event.at });
  }
}
