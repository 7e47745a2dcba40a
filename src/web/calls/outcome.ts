/**
 * How a call came out, read from its journal: the flow state it was last in, and what its web requests and
 * transfers came to. The reason a call ended ("flow ended the call") says who ended it, not how the caller's
 * business went; a refill that went through and one whose request failed end the same way, in different states.
 * One pass over the records and no text built, as the calls list reads it for every call.
 */
import type { JournalRecord } from '../../journal/records.ts';

export interface CallOutcome {
  /** The state of the last `state` record; null before the first. */
  lastState: string | null;
  /** Web requests answered with success, and those that failed after their retries. */
  webAnswered: number;
  webFailed: number;
  /** Transfers asked for, and those that could not be made. */
  transfers: number;
  transfersFailed: number;
}

/** The outcome of one call's decoded records. */
export function callOutcome(records: readonly JournalRecord[]): CallOutcome {
  const outcome: CallOutcome = {
    lastState: null,
    webAnswered: 0,
    webFailed: 0,
    transfers: 0,
    transfersFailed: 0,
  };
  for (const r of records) {
    if (r.kind === 'state') outcome.lastState = r.state;
    else if (r.kind === 'eff' && r.effect.type === 'transfer') outcome.transfers += 1;
    else if (r.kind === 'in') {
      const type = r.event.type;
      if (type === 'http.done') outcome.webAnswered += 1;
      else if (type === 'http.failed') outcome.webFailed += 1;
      else if (type === 'transfer.failed') outcome.transfersFailed += 1;
    }
  }
  return outcome;
}

/** The web requests and transfers in words ("web request failed · transfer failed"); '' when there were none. */
export function describeOutcome(o: CallOutcome): string {
  const parts: string[] = [];
  const add = (n: number, thing: string, what: string): void => {
    if (n > 0) parts.push(n === 1 ? `${thing} ${what}` : `${n} ${thing}s ${what}`);
  };
  add(o.webAnswered, 'web request', 'answered');
  add(o.webFailed, 'web request', 'failed');
  add(o.transfers - o.transfersFailed, 'transfer', 'asked for');
  add(o.transfersFailed, 'transfer', 'failed');
  return parts.join(' · ');
}
