/**
 * What a campaign row's dials so far mean: the row is done (with its outcome), one of its calls is in progress,
 * or it is to be dialed (again). Decided from the dials as journaled alone, so a runner started again after a
 * crash decides the same as the one that was killed, and never dials a number twice: an attempt journaled
 * without a call (the server was killed while Twilio was asked) is sent again under its own key, which finds the
 * call if Twilio made it.
 */
import type { DialView } from './api-client.ts';
import { retryDelayMs } from './backoff.ts';

/** The outcomes a summary counts: answered by a person, a message left on a machine, no answer, failed, skipped. */
export const OUTCOMES = ['human', 'voicemail', 'no_answer', 'failed', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RetryPolicy {
  /** Dials of a row at most, the first included. */
  maxAttempts: number;
  /** The wait before the second attempt; it doubles for each one after. */
  retryBaseMs: number;
}

export type RowNext =
  | { kind: 'done'; outcome: Outcome; attempts: number; last: DialView | null }
  | { kind: 'dial'; attempt: number; notBefore: number }
  | { kind: 'wait'; attempt: number; key: string };

/** Statuses worth another try: nobody took the call. */
const RETRIED = new Set(['busy', 'no-answer', 'failed', 'canceled']);

/** The dial key of a row's attempt: zero-padded so keys sort in row order, which resuming walks them in. */
export function attemptKey(campaign: string, line: number, attempt: number): string {
  return `${campaign}.${String(line).padStart(8, '0')}.${String(attempt).padStart(2, '0')}`;
}

/** The row (file line) and attempt a campaign's dial key names; null for any other key. */
export function parseAttemptKey(campaign: string, key: string): { line: number; attempt: number } | null {
  const m = /^(\d{8})\.(\d{2})$/.exec(key.startsWith(`${campaign}.`) ? key.slice(campaign.length + 1) : '');
  return m ? { line: Number(m[1]), attempt: Number(m[2]) } : null;
}

/** What to do with a row whose last dial (of `attempt` so far) is `last`; none yet: undefined and 0. */
export function rowNext(last: DialView | undefined, attempt: number, policy: RetryPolicy): RowNext {
  if (last === undefined) return { kind: 'dial', attempt: 1, notBefore: 0 };
  if (last.endedAt === null) {
    // Journaled but never placed: ask again under the same key, which finds the call if Twilio made it.
    if (last.callSid === null) return { kind: 'dial', attempt, notBefore: 0 };
    return { kind: 'wait', attempt, key: last.key };
  }
  if (last.refused !== null) return { kind: 'done', outcome: 'failed', attempts: attempt, last };
  if (last.status === 'completed') {
    if (last.answeredBy === 'fax') return { kind: 'done', outcome: 'failed', attempts: attempt, last };
    const machine = last.answeredBy?.startsWith('machine') === true;
    return { kind: 'done', outcome: machine ? 'voicemail' : 'human', attempts: attempt, last };
  }
  if (last.status !== null && RETRIED.has(last.status) && attempt < policy.maxAttempts) {
    const notBefore = last.endedAt + retryDelayMs(attempt, policy.retryBaseMs);
    return { kind: 'dial', attempt: attempt + 1, notBefore };
  }
  const unanswered = last.status === 'busy' || last.status === 'no-answer';
  return { kind: 'done', outcome: unanswered ? 'no_answer' : 'failed', attempts: attempt, last };
}
