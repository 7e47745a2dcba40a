/** The `record` action's part of the flow format, its effect and its outcomes (the action itself: ../record.ts). */

export interface RecordFields {
  /**
   * Record the call from this state on, with the caller's consent: this line (a template, e.g. `"This call is
   * recorded for quality and training."`) is said on entering the state, before its prompt, and the recording
   * starts once it has been heard. A call is recorded once: entered while it is, the state says nothing more.
   * @minLength 1
   * @pattern \S
   */
  record?: string;
  /**
   * The caller says or keys what must not be recorded here (a card number): the recording pauses on entering
   * the state, before its prompt, and resumes on entering a state that is not sensitive.
   * @default false
   */
  sensitive?: boolean;
}

/** What the call's recording is asked to do. */
export type RecordAction = 'start' | 'pause' | 'resume';

/** Once everything already said has been heard, start, pause or resume the call's recording. */
export type RecordEffect = { type: 'record'; id: string; action: RecordAction };

export type RecordOutcome =
  /** The recording asked for under `id` started; `sid` is its Twilio SID. */
  | { type: 'record.started'; at: number; id: string; sid: string }
  /** Starting, pausing or resuming the recording failed; the call goes on. */
  | { type: 'record.failed'; at: number; id: string; action: RecordAction; reason: string };
