/**
 * The right to erasure: every journal of calls from or to one phone number, deleted. A call's numbers are in its
 * `start` record's parameters (`from`, `to`), sealed when journal encryption is on, so each call's first record
 * is opened with the keyring to be matched. Calls still open are not erased under their live conversation: they
 * are reported, to be erased once they end. Calls whose numbers cannot be read (their key is missing) are
 * counted, so a report never claims more than it did.
 */
import { readRecords } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';

export interface Erasure {
  /** Calls erased, with how many records each had. */
  erased: { callId: string; records: number }[];
  /** Calls of this number still open: not erased. */
  open: string[];
  /** Calls whose numbers could not be read (sealed under a key this keyring lacks, or damaged). */
  unreadable: string[];
  /** Calls looked at. */
  scanned: number;
}

const PAGE = 200;

/** Erase the calls whose start record names `number` as `from` or `to`. `store` opens sealed records. */
export async function eraseCaller(store: JournalStore, number: string): Promise<Erasure> {
  const result: Erasure = { erased: [], open: [], unreadable: [], scanned: 0 };
  let after: string | null = null;
  for (;;) {
    const ids = await store.callIds(after, PAGE);
    for (const callId of ids) {
      result.scanned++;
      const match = await matches(store, callId, number);
      if (match === 'unreadable') result.unreadable.push(callId);
      if (match !== true) continue;
      const records = await store.erase(callId);
      if (records === null) result.open.push(callId);
      else result.erased.push({ callId, records });
    }
    if (ids.length < PAGE) return result;
    after = ids.at(-1)!;
  }
}

async function matches(store: JournalStore, callId: string, number: string): Promise<boolean | 'unreadable'> {
  const rows = await store.read(callId);
  if (rows.length === 0) return false;
  let first;
  try {
    first = readRecords(rows.slice(0, 1).map((r) => r.line)).records[0];
  } catch {
    return 'unreadable';
  }
  if (first?.kind !== 'start') return false;
  if (first.withheld !== undefined) return 'unreadable';
  return first.params.from === number || first.params.to === number;
}
