/**
 * A warm transfer in the journal store, beside its call's journal (`transfer-<CallSid>-<id>`): the caller waits
 * on hold while a person is called, and Twilio's callbacks about that person (their answer, their call's end)
 * can reach any instance, which reads and adds to it here. Its records:
 *
 * - `start`: the transfer (`to`, `from`, `room`, `call`, `id`); the numbers are personal data, sealed at rest.
 * - `in` `transfer.held`: the caller was put in the conference room.
 * - `in` `transfer.dialed` (`personSid`): Twilio is calling the person.
 * - `in` `transfer.taken`, then `end`: the person took the call and joined the room.
 * - `in` `transfer.returned` (`reason`), then `end`: they did not; the caller goes back to the flow.
 *
 * The first of taken and returned wins: each writer takes the lease, reads, and decides on what it read.
 */
import type { JournalEntry, JournalRecord } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import {
  SIDE_JOURNAL_PREFIXES,
  appendToSideJournal,
  beginSideJournal,
  readSideJournal,
} from '../journal/side-journal.ts';

export const TRANSFER_PREFIX = SIDE_JOURNAL_PREFIXES.transfer;

/** Why a caller came back from hold. */
export type ReturnReason = 'busy' | 'no answer' | 'declined' | 'failed' | 'canceled' | 'not placed';

/** A warm transfer as its journal tells it. */
export interface HeldTransfer {
  callSid: string;
  id: string;
  to: string;
  from: string;
  room: string;
  /** ms since the epoch when it began. */
  startedAt: number;
  held: boolean;
  /** The person's call, once Twilio placed it. */
  personSid: string | null;
  outcome: { taken: true } | { taken: false; reason: ReturnReason } | null;
}

export function transferJournalId(callSid: string, id: string): string {
  return `${TRANSFER_PREFIX}${callSid}-${id}`;
}

export function isTransferJournalId(journalId: string): boolean {
  return journalId.startsWith(TRANSFER_PREFIX);
}

/** The transfer, or null when it never began. Throws the store's errors. */
export async function readTransfer(
  store: JournalStore,
  callSid: string,
  id: string,
): Promise<HeldTransfer | null> {
  return transferOf(await readSideJournal(store, transferJournalId(callSid, id)));
}

/** A transfer from its journal's records; null when they are not a transfer's. */
export function transferOf(records: readonly JournalRecord[]): HeldTransfer | null {
  const first = records[0];
  if (first?.kind !== 'start') return null;
  const p = first.params;
  const transfer: HeldTransfer = {
    callSid: p.call ?? '',
    id: p.id ?? '',
    to: p.to ?? '',
    from: p.from ?? '',
    room: p.room ?? '',
    startedAt: first.at,
    held: false,
    personSid: null,
    outcome: null,
  };
  for (const r of records.slice(1)) {
    if (r.kind !== 'in' || transfer.outcome !== null) continue;
    const e = r.event;
    if (e.type === 'transfer.held') transfer.held = true;
    if (e.type === 'transfer.dialed' && typeof e.personSid === 'string') transfer.personSid ??= e.personSid;
    if (e.type === 'transfer.taken') transfer.outcome = { taken: true };
    if (e.type === 'transfer.returned' && typeof e.reason === 'string') {
      transfer.outcome = { taken: false, reason: e.reason as ReturnReason };
    }
  }
  return transfer;
}

export interface TransferStart {
  callSid: string;
  id: string;
  to: string;
  from: string;
  room: string;
  /** The call's flow, for listings. */
  flow: string;
}

/** Journal a new transfer; false (nothing written) when it has begun already, here or elsewhere. */
export function beginTransfer(
  store: JournalStore,
  owner: string,
  start: TransferStart,
  at: number,
): Promise<boolean> {
  const { callSid, id, to, from, room, flow } = start;
  return beginSideJournal(
    store,
    owner,
    transferJournalId(callSid, id),
    {
      kind: 'start',
      flow,
      flowVersion: 0,
      modelVersion: null,
      params: { call: callSid, id, to, from, room },
    },
    at,
  );
}

/**
 * Add what `decide` makes of the transfer as it stands; nothing once it has an outcome. Resolves with whether
 * anything was written.
 */
export function addToTransfer(
  store: JournalStore,
  owner: string,
  callSid: string,
  id: string,
  decide: (transfer: HeldTransfer) => readonly JournalEntry[],
  at: number,
): Promise<boolean> {
  return appendToSideJournal(
    store,
    owner,
    transferJournalId(callSid, id),
    (records) => {
      const transfer = transferOf(records);
      return transfer === null || transfer.outcome !== null ? [] : decide(transfer);
    },
    at,
  );
}

/** The records that settle a transfer one way or the other. */
export function outcomeEntries(
  outcome: { taken: true } | { taken: false; reason: ReturnReason },
): JournalEntry[] {
  const event = outcome.taken
    ? { type: 'transfer.taken' }
    : { type: 'transfer.returned', reason: outcome.reason };
  return [
    { kind: 'in', event },
    { kind: 'end', reason: outcome.taken ? 'taken' : 'returned' },
  ];
}
