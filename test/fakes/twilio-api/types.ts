/** The fake Twilio REST API's public vocabulary: its options, what it records, and what tests script. */

export type AnsweredBy =
  | 'human'
  | 'machine_start'
  | 'machine_end_beep'
  | 'machine_end_silence'
  | 'machine_end_other'
  | 'fax'
  | 'unknown';

export type FakeCallStatus =
  'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/**
 * What happens when a number is dialled. `afterMs` is how long after the answer detection reports (real time,
 * also sent as MachineDetectionDuration; `stepMs` unless given). With `MachineDetection=Enable` Twilio reports
 * no message end, so a `machine_end_*` answer is reported as `machine_start`, as Twilio would. `hangupAfterMs`
 * is when the callee hangs up, counted from the answer but never before the voice webhook and the detection
 * result went out (the fake's `hangupAfterMs` unless given; without either the call stays up until ended).
 */
export type ScriptedOutcome =
  | 'human'
  | 'machine'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | { outcome: 'human'; afterMs?: number; hangupAfterMs?: number }
  | {
      outcome: 'machine';
      answeredBy?: Exclude<AnsweredBy, 'human'>;
      afterMs?: number;
      hangupAfterMs?: number;
    };

/**
 * How a create is held (`holdCreates`): 'drop' as if the request never reached Twilio (no call, no answer);
 * 'hold' as if the answer got lost on the way back (the call is placed, the answer waits for `releaseHeld()`).
 */
export type HeldCreateMode = 'drop' | 'hold';

export interface FakeTwilioApiOptions {
  /** "AC" and 32 hex digits. */
  accountSid: string;
  authToken: string;
  /** Real delay before each step of placing a call (ms); 5 unless given. */
  stepMs?: number;
  /** The callee hangs up every answered call this long after the answer, unless its script says otherwise. */
  hangupAfterMs?: number;
}

/**
 * One REST request as received, with the status it was answered with. A held create is recorded once answered,
 * or once its client went away (with the status Twilio answered it with, though nobody got it); a dropped one
 * never is.
 */
export interface FakeTwilioRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The form body (empty for GET). */
  form: URLSearchParams;
  status: number;
}

export type FakeWebhookKind = 'status' | 'voice' | 'amd' | 'recording';

/** One webhook the fake sent, with the answer it got (`status` null when nothing answered). */
export interface FakeWebhook {
  kind: FakeWebhookKind;
  callSid: string;
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  signature: string;
  status: number | null;
  /** The answer's body (the TwiML, for a voice webhook), cut at 64 KiB. */
  body: string;
  /** Why nothing answered (connection refused, timeout); null when something did. */
  error: string | null;
}

export interface FakeRecording {
  readonly sid: string;
  readonly callSid: string;
  status: 'in-progress' | 'paused' | 'stopped' | 'completed';
  readonly channels: 1 | 2;
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: 'GET' | 'POST';
  /** RecordingStatusCallbackEvent: in-progress, completed, absent (default completed). */
  readonly events: ReadonlySet<string>;
  readonly createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
}

/** A call as the fake holds it; read it, do not change it. */
export interface FakeCall {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  /** The form the call was created with. */
  readonly params: URLSearchParams;
  readonly status: FakeCallStatus;
  readonly answeredBy: AnsweredBy | null;
  /** Every TwiML document the call was given, in order: Twiml param, voice webhook answers, updates. */
  readonly twiml: readonly string[];
  readonly recordings: readonly FakeRecording[];
}

export type FakeTwilioEvent =
  | { type: 'request'; request: FakeTwilioRequest }
  | { type: 'webhook'; webhook: FakeWebhook }
  | { type: 'status'; callSid: string; status: FakeCallStatus }
  | { type: 'twiml'; callSid: string; twiml: string }
  | { type: 'error'; callSid: string; error: unknown }
  /** A create was held (`holdCreates`); `callSid` is the call it placed, null when it placed none. */
  | { type: 'held'; to: string; mode: HeldCreateMode; callSid: string | null };

export interface FakeNumberConfig {
  voiceUrl?: string;
  voiceMethod?: 'GET' | 'POST';
  statusCallback?: string;
  statusCallbackMethod?: 'GET' | 'POST';
  friendlyName?: string;
  /** A TwiML application ("AP" sid) that takes the number's calls instead of its voice URL. */
  voiceApplicationSid?: string;
  /** A SIP trunk ("TK" sid) that takes the number's calls instead of either. */
  trunkSid?: string;
}

/** Where a call's TwiML seats it in a conference (`<Dial><Conference>`), read from the TwiML, not simulated. */
export interface FakeConferenceSeat {
  room: string;
  /** startConferenceOnEnter: the conference begins when this call joins (others stop hearing hold audio). */
  startsConference: boolean;
  /** endConferenceOnExit: the conference ends when this call leaves. */
  endsConference: boolean;
  /** What the call hears while waiting; null for Twilio's own hold music. */
  waitUrl: string | null;
}
