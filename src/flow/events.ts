/**
 * What a call's machine receives and what it asks for. Time and ids arrive inside events, never from the clock
 * inside the machine, so a journal of events replays to the same states and effects.
 */
import type { HangupEffect } from './actions/format/hangup.ts';
import type { AnsweredBy, CallInfo } from './call-info.ts';
import type { HttpEffect, HttpOutcomeEvent } from './actions/format/http.ts';
import type { TimerEffect } from './actions/format/policies.ts';
import type { RecordEffect, RecordOutcome } from './actions/format/record.ts';
import type { SayEffect } from './actions/format/say.ts';
import type { TransferEffect, TransferOutcome } from './actions/format/transfer.ts';

/** Events delivered to the call's machine. `at` is wall-clock milliseconds when the event happened. */
export type CallEvent =
  /**
   * `env`: the environment variables the flow reads (`{{env.NAME}}`), captured when the call started. `call`: how
   * the call reached the flow (`{{call.NAME}}`); absent, as in journals from before it, is an inbound call whose
   * numbers are unknown.
   */
  | { type: 'call.start'; at: number; callId: string; env?: Record<string, string>; call?: CallInfo }
  | { type: 'dtmf'; at: number; digit: string }
  /**
   * The caller said something: the transcript as recognised, the intent understood (null when none), and the
   * entity values found in it by entity name (canonical values, e.g. `{ size: 'large', number: '2' }`).
   */
  | {
      type: 'utterance';
      at: number;
      text: string;
      intent: string | null;
      confidence: number;
      entities: Record<string, string>;
    }
  /**
   * The caller started speaking while agent audio was still playing. The state's `bargeIn` decides whether the
   * prompt stops (a `clear` effect) or plays on.
   */
  | { type: 'speech.start'; at: number }
  /** The caller has heard the prompt that ended with this mark. */
  | { type: 'played'; at: number; mark: string }
  | { type: 'timer'; at: number; id: string }
  /** The actor was restarted by its supervisor: say the state's `resumeSay`, or its prompt again. */
  | { type: 'resume'; at: number }
  /**
   * The call's speech `service` kept failing and the call goes on with `to`: the embedded engine, or the keypad.
   * The flow's `speechFailover` policy says what is said then.
   */
  | { type: 'speech.failover'; at: number; service: 'stt' | 'tts'; to: 'embedded' | 'dtmf' }
  /**
   * Who answered an outbound call, once the answering-machine detection knows: kept as `call.answeredBy`, and
   * when a machine's greeting is over, the call goes to the flow's `on.machine` state (answered.ts).
   */
  | { type: 'answered'; at: number; answeredBy: AnsweredBy }
  /** The supervisor gave up on the call's logic: go to the policy's `onGiveUp` state. */
  | { type: 'giveUp'; at: number }
  /** The outcomes of a state's work: a web request's answer or failure, a transfer that could not be made. */
  | HttpOutcomeEvent
  | TransferOutcome
  /** How a request to the call's recording went; heard in any state, where the call stays (record.ts). */
  | RecordOutcome
  /** The caller went away (stream stopped or socket closed). */
  | { type: 'hangup'; at: number; reason: string };

/** Effects the machine asks the call's runner to carry out, in order; each belongs to an action. */
export type Effect = SayEffect | TimerEffect | HangupEffect | HttpEffect | TransferEffect | RecordEffect;

/** The machine's context: all the state of a conversation that survives a restart. */
export interface CallContext {
  callId: string;
  /** The flow state the conversation is in (mirrors the machine's state value, for logs and views). */
  state: string;
  slots: Record<string, string>;
  /** Digits typed so far in a collect state. */
  digits: string;
  /** A collected value has been read back and the caller's yes or no is awaited. */
  confirming: boolean;
  /**
   * A global intent the model heard (not an exact example) that the caller was asked to confirm before it
   * takes them away from the state's own question; absent otherwise.
   */
  checking?: string;
  /** Environment variables the flow reads, as they were when the call started. */
  env: Record<string, string>;
  /** How the call reached the flow; absent (a call journaled before it was kept) is inbound, numbers unknown. */
  call?: CallInfo;
  /** Id of the web request or transfer in progress, whose answer the state waits for; else null. */
  pending: string | null;
  /** No-input or no-match retries in the current state. */
  retries: number;
  /** Counter behind mark and timer ids, so they are unique within the call and deterministic. */
  seq: number;
  /** Mark of the prompt still playing, or null when the caller has heard it all. */
  playing: string | null;
  /** Id of the armed no-input timer, or null. */
  timer: string | null;
  startedAt: number;
  lastEventAt: number;
  /** Speech services the call switched away from after failures, and to what; absent while all is well. */
  speech?: { stt?: 'embedded' | 'dtmf'; tts?: 'embedded' };
  /** The call's recording, once asked for: on, or paused in a sensitive state; absent when there is none. */
  recording?: 'on' | 'paused';
  /** The recording's Twilio SID, once it has started. */
  recordingSid?: string;
}
