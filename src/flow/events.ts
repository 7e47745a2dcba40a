/**
 * What a call's machine receives and what it asks for. Time and ids arrive inside events, never from the clock
 * inside the machine, so a journal of events replays to the same states and effects.
 */

/** Events delivered to the call's machine. `at` is wall-clock milliseconds when the event happened. */
export type CallEvent =
  | { type: 'call.start'; at: number; callId: string }
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
  /** The caller has heard the prompt that ended with this mark. */
  | { type: 'played'; at: number; mark: string }
  | { type: 'timer'; at: number; id: string }
  /** The actor was restarted by its supervisor: say the state's `resumeSay`, or its prompt again. */
  | { type: 'resume'; at: number }
  /** The supervisor gave up on the call's logic: go to the policy's `onGiveUp` state. */
  | { type: 'giveUp'; at: number }
  /** The caller went away (stream stopped or socket closed). */
  | { type: 'hangup'; at: number; reason: string };

/** Effects the machine asks the call's runner to carry out, in order. */
export type Effect =
  /** Speak `text`, then send `mark` so we learn when the caller has heard it. */
  | { type: 'say'; text: string; mark: string; voice?: string }
  /** Stop whatever audio is still playing (barge-in). */
  | { type: 'clear' }
  | { type: 'timer.start'; id: string; ms: number }
  | { type: 'timer.cancel'; id: string }
  /** End the call once everything already said has been heard. */
  | { type: 'hangup' };

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
}
