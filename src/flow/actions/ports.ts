/**
 * The I/O an action's effects are carried out with, injected by the call's EffectRunner (src/call/effects.ts):
 * flow/ stays free of I/O, and a test or a text call gives other ports.
 */
import type { CallEvent, Effect } from '../events.ts';
import type { HttpEffect, HttpOutcome } from './format/http.ts';
import type { RecordAction } from './format/record.ts';
import type { WarmTransfer } from './format/transfer.ts';

/** A warm transfer as carried out: the flow's settings and the id of the transfer within its call. */
export type WarmTransferRequest = WarmTransfer & { id: string };

/** Log lines, with personal data only under `pii`; src/observability/logger.ts's Logger fits. */
export interface ActionLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface AfterAudioOptions {
  /**
   * Run `work` even when the audio before it is cleared (the caller spoke or pressed a key over it), not only
   * once it was heard: for work the call's state already counts as done, such as pausing a recording.
   */
  evenIfCleared?: boolean;
}

export interface ActionPorts {
  readonly log: ActionLog;
  now(): number;
  /** Deliver an event to the call's machine. */
  deliver(event: CallEvent): void;
  /** The call has ended: outcomes are no longer delivered. */
  stopped(): boolean;
  /** Aborted when the call ends. */
  readonly signal: AbortSignal;
  /** Synthesize and queue a prompt after what is queued, then its mark. */
  speak(effect: Extract<Effect, { type: 'say' }>): void;
  /** Drop queued and playing audio (barge-in). */
  clear(): void;
  /** Run `work` once everything queued so far has been heard, unless the audio is cleared or the call ends. */
  afterAudio(work: () => Promise<void> | void, options?: AfterAudioOptions): void;
  startTimer(id: string, ms: number): void;
  cancelTimer(id: string): void;
  /** End the call. */
  hangup(reason: string): void;
  /**
   * Connect the caller to `to`; rejects when the transfer cannot be made. With `warm`, the caller waits on hold
   * while `to` is called and briefed; it rejects (CALL_TRANSFER_NOT_TAKEN) when the person does not take the call,
   * which a call resumed after the hold learns when the same transfer (`warm.id`) is asked for again.
   */
  transfer(to: string, warm?: WarmTransferRequest): Promise<void>;
  /**
   * Start (dual-channel), pause or resume the call's recording; a start resolves with the recording's SID, and
   * null is nothing to report (a call that cannot be recorded). Rejects when it cannot be done. Prompts asked
   * for after it wait for it to settle, so it should not take long.
   */
  record(action: RecordAction): Promise<{ sid: string } | null>;
  readonly fetch: typeof fetch;
  /** Makes a state's web request instead of the action's own (with `fetch`); never throws. */
  readonly request?: (effect: HttpEffect, signal: AbortSignal) => Promise<HttpOutcome>;
  /** Count `work` as under way until it settles (a text call is settled only when none is). */
  track<T>(work: Promise<T>): Promise<T>;
}
