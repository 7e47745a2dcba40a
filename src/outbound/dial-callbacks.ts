/**
 * What Twilio reports about a placed call, journaled with its dial: who answered (the asynchronous
 * answering-machine detection callback) and each status (the status callback). Callbacks come twice, late and
 * out of order: one that repeats what the dial has, or comes after its final status, changes nothing; one for a
 * call the dial did not place (another CallSid) is refused.
 */
import { isAnsweredBy, type AnsweredBy } from '../flow/index.ts';
import type { JournalEntry } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import { addToDial, isFinalStatus, readDial, type Dial } from './dial-journal.ts';

/** What became of a callback: journaled, already known (or too late), or about no call of that dial. */
export type CallbackOutcome = 'recorded' | 'repeated' | 'unknown';

export function checkAnsweredBy(value: string | undefined): AnsweredBy | null {
  return isAnsweredBy(value) ? value : null;
}

/** Journal who answered the dial's call. */
export function recordAnswer(
  store: JournalStore,
  owner: string,
  key: string,
  callSid: string,
  answeredBy: AnsweredBy,
  at: number,
): Promise<CallbackOutcome> {
  return record(store, owner, key, callSid, at, (dial) =>
    dial.answeredBy === answeredBy ? [] : [{ kind: 'in', event: { type: 'dial.answered', answeredBy } }],
  );
}

/** Journal a status of the dial's call; a final one ends the dial. */
export function recordStatus(
  store: JournalStore,
  owner: string,
  key: string,
  callSid: string,
  status: string,
  at: number,
): Promise<CallbackOutcome> {
  return record(store, owner, key, callSid, at, (dial) => {
    if (dial.status === status) return [];
    const entries: JournalEntry[] = [{ kind: 'in', event: { type: 'dial.status', status } }];
    if (isFinalStatus(status)) entries.push({ kind: 'end', reason: `call ${status}` });
    return entries;
  });
}

async function record(
  store: JournalStore,
  owner: string,
  key: string,
  callSid: string,
  at: number,
  entries: (dial: Dial) => JournalEntry[],
): Promise<CallbackOutcome> {
  const dial = await readDial(store, key);
  // Before the dialer journaled the SID (Twilio can call back first), the callback says which call it is.
  if (dial === null || (dial.callSid !== null && dial.callSid !== callSid)) return 'unknown';
  const placed = (d: Dial): JournalEntry[] =>
    d.callSid === null ? [{ kind: 'in', event: { type: 'dial.placed', callSid } }] : [];
  const written = await addToDial(
    store,
    owner,
    key,
    (d) => {
      const adding = entries(d);
      return adding.length === 0 ? [] : [...placed(d), ...adding];
    },
    at,
  );
  return written ? 'recorded' : 'repeated';
}
