/**
 * A dial in the journal store: journaled from the moment it is requested, before Twilio is asked, so a process
 * killed at any point leaves a record of it and a retry with the same key never places a second call. It is kept
 * as a journal of its own, `dial-<key>`, in the records calls use, so sealing, retention and erasure by caller
 * treat it as they treat a call:
 *
 * - `start`: the request; its parameters (`to`, `from`, `flow`, `key`, and each variable as `var.NAME`) are
 *   personal data, sealed at rest like a call's numbers.
 * - `in` `dial.placed` (`callSid`): Twilio created the call, or a retry found the one it had created.
 * - `in` `dial.failed` (`twilioCode`), then `end`: Twilio refused the call; asking again gets the same answer.
 * - `in` `dial.answered` (`answeredBy`): answering-machine detection said who answered.
 * - `in` `dial.status` (`status`): the call's status callbacks; a final status ends the journal.
 *
 * Several writers may add to one dial (the dialer, the AMD and status callbacks, on any instance): each takes
 * the lease, which fences the others out, and tries again when fenced.
 */
import { SwitchboardError } from '../errors.ts';
import { isAnsweredBy, type AnsweredBy } from '../flow/index.ts';
import type { JournalEntry, JournalRecord } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import type { DialRequest } from './dial-request.ts';
import {
  SIDE_JOURNAL_PREFIXES,
  appendToSideJournal,
  beginSideJournal,
  readSideJournal,
} from '../journal/side-journal.ts';

export const DIAL_PREFIX = SIDE_JOURNAL_PREFIXES.dial;
const VAR_PREFIX = 'var.';
/** Call statuses after which nothing more happens to a call. */
export const FINAL_STATUSES = ['completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** A dial as its journal tells it. */
export interface Dial {
  key: string;
  to: string;
  from: string;
  flow: string;
  vars: Record<string, string>;
  /** ms since the epoch when it was requested. */
  requestedAt: number;
  callSid: string | null;
  /** Twilio refused to place it: its error code (null when it gave none). */
  refused: { twilioCode: number | null } | null;
  answeredBy: AnsweredBy | null;
  /** The last status Twilio reported (`ringing`, `in-progress`, `busy`...), null before the first. */
  status: string | null;
  /** ms since the epoch of the dial's last record: when anything was last heard of it. */
  updatedAt: number;
  /** ms since the epoch when it ended (a final status, a refusal); null while it is open. */
  endedAt: number | null;
}

/** The journal id of the dial with idempotency key `key`. */
export function dialJournalId(key: string): string {
  return `${DIAL_PREFIX}${key}`;
}

export function isDialJournalId(callId: string): boolean {
  return callId.startsWith(DIAL_PREFIX);
}

export function isFinalStatus(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** The dial with key `key`, or null when it was never requested. Throws the store's errors. */
export async function readDial(store: JournalStore, key: string): Promise<Dial | null> {
  return dialOf(key, await readSideJournal(store, dialJournalId(key)));
}

/** A dial from its journal's records; null when they are not a dial's. */
export function dialOf(key: string, records: readonly JournalRecord[]): Dial | null {
  const first = records[0];
  if (first?.kind !== 'start') return null;
  const params = first.params;
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (name.startsWith(VAR_PREFIX)) vars[name.slice(VAR_PREFIX.length)] = value;
  }
  const dial: Dial = {
    key,
    to: params.to ?? '',
    from: params.from ?? '',
    flow: first.flow,
    vars,
    requestedAt: first.at,
    callSid: null,
    refused: null,
    answeredBy: null,
    status: null,
    updatedAt: records.at(-1)!.at,
    endedAt: null,
  };
  for (const r of records.slice(1)) {
    if (r.kind === 'end') dial.endedAt ??= r.at;
    if (r.kind !== 'in') continue;
    const e = r.event;
    if (e.type === 'dial.placed' && typeof e.callSid === 'string') dial.callSid ??= e.callSid;
    if (e.type === 'dial.failed') {
      dial.refused = { twilioCode: typeof e.twilioCode === 'number' ? e.twilioCode : null };
    }
    if (e.type === 'dial.answered' && isAnsweredBy(e.answeredBy)) dial.answeredBy = e.answeredBy;
    if (e.type === 'dial.status' && typeof e.status === 'string') dial.status = e.status;
  }
  return dial;
}

/** The request's first record: the dial's parameters, sealed at rest. */
export function requestEntry(
  request: DialRequest,
  flowVersion: number,
): Extract<JournalEntry, { kind: 'start' }> {
  const params: Record<string, string> = {
    to: request.to,
    from: request.from,
    flow: request.flow,
    key: request.idempotencyKey,
  };
  for (const [name, value] of Object.entries(request.vars)) params[`${VAR_PREFIX}${name}`] = value;
  return { kind: 'start', flow: request.flow, flowVersion, modelVersion: null, params };
}

/**
 * Journal a new dial's request; false (nothing written) when the key already has a journal, including one
 * another process began at the same moment.
 */
export function beginDial(
  store: JournalStore,
  owner: string,
  request: DialRequest,
  flowVersion: number,
  at: number,
): Promise<boolean> {
  const id = dialJournalId(request.idempotencyKey);
  return beginSideJournal(store, owner, id, requestEntry(request, flowVersion), at);
}

/**
 * Add records to a dial, unless `entries` makes none of the dial as it stands (a repeated callback) or the dial
 * is over. Resolves with whether anything was written; JOURNAL_NOT_FOUND when there is no such dial.
 */
export function addToDial(
  store: JournalStore,
  owner: string,
  key: string,
  entries: (dial: Dial) => readonly JournalEntry[],
  at: number,
): Promise<boolean> {
  return appendToSideJournal(
    store,
    owner,
    dialJournalId(key),
    (records) => {
      const dial = dialOf(key, records);
      if (dial === null) throw new SwitchboardError('JOURNAL_NOT_FOUND', 'no such dial', { dial: key });
      return dial.endedAt !== null ? [] : entries(dial);
    },
    at,
  );
}
