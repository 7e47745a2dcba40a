/**
 * Writing the small journals that sit beside calls' journals in the store (a dial's, a campaign's, a call's
 * recordings', a warm transfer's), and listing calls without them. No media stream holds them, and several
 * writers may add to one (the dialer, Twilio's callbacks, a campaign runner, on any instance). Each write takes
 * the lease, which fences the other writers out, reads the journal, and appends after its last record; a writer
 * fenced or beaten to a sequence number pauses a random moment, then reads again and decides again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isSwitchboardError } from '../errors.ts';
import {
  JOURNAL_VERSION,
  encodeRecord,
  readRecords,
  type JournalEntry,
  type JournalRecord,
} from './records.ts';
import type { CallSummary, JournalStore, StoredRecord } from './store.ts';

/**
 * The prefix of each kind of side journal's ids: a dial's, a campaign's, a call's recordings', a warm transfer's.
 * They are not calls, so listings of calls leave them out (isSideJournalId).
 */
export const SIDE_JOURNAL_PREFIXES = {
  dial: 'dial-',
  campaign: 'campaign-',
  recording: 'recording-',
  transfer: 'transfer-',
} as const;

/** Whether journal `id` is a side journal rather than a call's. */
export function isSideJournalId(id: string): boolean {
  return Object.values(SIDE_JOURNAL_PREFIXES).some((prefix) => id.startsWith(prefix));
}

/** Side journals listed at most per call asked for, when calls are listed without them. */
const SIDE_JOURNALS_PER_CALL = 3;

/** The `limit` most recently active calls' summaries, side journals left out. */
export async function listCalls(store: JournalStore, limit: number): Promise<CallSummary[]> {
  const listed = await store.list(limit * (1 + SIDE_JOURNALS_PER_CALL));
  return listed.filter((s) => !isSideJournalId(s.callId)).slice(0, limit);
}

const WRITE_TRIES = 10;
/** The longest pause before a fenced writer tries again, growing with each try (random below it). */
const BACKOFF_MS = 10;

/** The journal's records, decoded; empty when there is no such journal. */
export async function readSideJournal(store: JournalStore, id: string): Promise<JournalRecord[]> {
  const rows = await store.read(id);
  return readRecords(rows.map((r) => r.line)).records;
}

/** Begin journal `id` with `first`; false (nothing written) when it exists, even if begun at the same moment. */
export async function beginSideJournal(
  store: JournalStore,
  owner: string,
  id: string,
  first: Extract<JournalEntry, { kind: 'start' }>,
  at: number,
): Promise<boolean> {
  if ((await store.summary(id)) !== null) return false;
  const lease = await store.acquire(id, owner);
  try {
    await store.append(lease, stored(id, [first], 0, at, first.flow));
    return true;
  } catch (err) {
    if (raced(err)) return false;
    throw err;
  } finally {
    await store.release(lease).catch(() => {});
  }
}

/**
 * Append what `decide` makes of the journal's records as they stand (nothing when it returns none). Resolves with
 * whether anything was written; `decide` may throw to refuse.
 */
export async function appendToSideJournal(
  store: JournalStore,
  owner: string,
  id: string,
  decide: (records: JournalRecord[]) => readonly JournalEntry[],
  at: number,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const lease = await store.acquire(id, owner);
    try {
      const records = await readSideJournal(store, id);
      const adding = decide(records);
      if (adding.length === 0) return false;
      await store.append(lease, stored(id, adding, records.at(-1)?.seq ?? 0, at));
      return true;
    } catch (err) {
      if (!raced(err) || attempt >= WRITE_TRIES) throw err;
    } finally {
      await store.release(lease).catch(() => {});
    }
    // Two writers that take the lease from each other in step would go on doing so: a random pause breaks it.
    await sleep(Math.random() * BACKOFF_MS * attempt);
  }
}

/** Another writer took the journal between our read and our write. */
function raced(err: unknown): boolean {
  return isSwitchboardError(err, 'JOURNAL_FENCED') || isSwitchboardError(err, 'JOURNAL_CONFLICT');
}

function stored(
  id: string,
  entries: readonly JournalEntry[],
  lastSeq: number,
  at: number,
  flow?: string,
): StoredRecord[] {
  return entries.map((entry, i) => {
    const seq = lastSeq + i + 1;
    const line = encodeRecord({ ...entry, v: JOURNAL_VERSION, callId: id, seq, at });
    return { seq, kind: entry.kind, at, line, ...(entry.kind === 'start' && flow ? { flow } : {}) };
  });
}
