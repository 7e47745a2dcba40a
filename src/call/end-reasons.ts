/**
 * Why a media stream ended, as the words that reach the journal's `end` record, the `call ended` log line, the
 * calls page and the `switchboard_calls_total{outcome}` label. Each says whether the conversation ends with the
 * stream, or stays open in its journal to be resumed on a new stream (Twilio asks the `<Connect action>`), on this
 * instance or another.
 */

/** Every reason a media session ends, with whether the call can be resumed after it. */
export const END_REASONS = {
  /** Twilio stopped the stream: the caller hung up. */
  'caller hung up': { resumable: false },
  /** The stream stopped after a transfer Twilio accepted: the hand-over, not a hang-up. */
  transferred: { resumable: false },
  /** The caller was put on hold for a warm transfer: the call resumes if the person does not take it. */
  'on hold': { resumable: true },
  /** The flow reached a `hangup` and everything said before it was heard. */
  'flow ended the call': { resumable: false },
  /** The socket closed cleanly without a stop. */
  'stream closed': { resumable: true },
  /** The socket went away abnormally (network, proxy). */
  'stream dropped': { resumable: true },
  /** The server is draining: the call goes on elsewhere. */
  'handed back': { resumable: true },
  /** The call's journal could not be read or written: not the stream's fault. */
  'journal failed': { resumable: true },
  /** The call's journal reached its cap on records (JOURNAL_MAX_RECORDS): the call ends, its journal closed. */
  'journal full': { resumable: false },
  /** The peer stopped reading what was sent. */
  'peer is not reading': { resumable: false },
  /** The call's logic kept failing past its restart intensity. */
  'supervisor gave up': { resumable: false },
  /** A message broke the protocol, named an unknown flow, or could not be resumed here. */
  'bad input': { resumable: false },
} as const satisfies Record<string, { resumable: boolean }>;

export type EndReason = keyof typeof END_REASONS;

export function isEndReason(value: string): value is EndReason {
  return Object.hasOwn(END_REASONS, value);
}

/** Whether the conversation stays open in its journal after the stream ended this way. */
export function isResumable(reason: EndReason): boolean {
  return END_REASONS[reason].resumable;
}

/** The `outcome` label of `switchboard_calls_total`. */
export function outcomeLabel(reason: EndReason): string {
  return reason.replaceAll(' ', '_');
}
