/**
 * One call's journal writer: it numbers the call's records, appends them to the store under the call's lease,
 * one batch at a time and in order, and reads them back for a restart. A failed append (the lease was taken by
 * another instance, the store is down) fails every later one too: a journal with a hole is worse than a call
 * that stops here and is resumed elsewhere. A call's records are capped (JOURNAL_MAX_RECORDS): past the cap an
 * append is refused with JOURNAL_FULL, and only the `end` record that closes the journal still goes in.
 */
import { SwitchboardError } from '../errors.ts';
import {
  JOURNAL_VERSION,
  encodeRecord,
  readRecords,
  type JournalEntry,
  type JournalRecord,
} from '../journal/records.ts';
import type { JournalStore, Lease, StoredRecord } from '../journal/store.ts';

/**
 * Named points in a call's event handling where a test can make the process "die" (by throwing from the hook):
 * - `in.received`: an event arrived and is not journaled yet;
 * - `in.journaled`: the event is journaled and not yet delivered to the machine;
 * - `eff.sent`: the machine's effects are carried out (a prompt queued, a web request sent) and their records
 *   not yet written;
 * - `snap.writing`: a snapshot is about to be written.
 */
export type FaultPoint = 'in.received' | 'in.journaled' | 'eff.sent' | 'snap.writing';
export type FaultHook = (point: FaultPoint, detail: { event?: string; seq?: number }) => void;

/**
 * Records one call's journal may hold unless configured otherwise: hours of a busy conversation, while a client
 * flooding a call with events is stopped within megabytes.
 */
export const DEFAULT_MAX_RECORDS = 20_000;

export class CallJournal {
  readonly callId: string;
  readonly #store: JournalStore;
  readonly #lease: Lease;
  #seq: number;
  #tail: Promise<unknown> = Promise.resolve();
  #failure: Error | null = null;
  #released = false;
  readonly #maxRecords: number;

  /**
   * `lastSeq`: the sequence number of the last record already stored for the call (0 for a new call);
   * `maxRecords`: the cap on the call's records.
   */
  constructor(store: JournalStore, lease: Lease, lastSeq: number, maxRecords = DEFAULT_MAX_RECORDS) {
    this.callId = lease.callId;
    this.#store = store;
    this.#lease = lease;
    this.#seq = lastSeq;
    this.#maxRecords = maxRecords;
  }

  /** The fencing token this journal writes under. */
  get token(): number {
    return this.#lease.token;
  }

  /** Sequence number of the last record appended (or queued). */
  get seq(): number {
    return this.#seq;
  }

  /** Why appends fail, once one has; null while they work. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Append entries as one batch, after every batch appended before; resolves with each entry's sequence number
   * once the batch is stored. Rejects if this or an earlier append failed, and with JOURNAL_FULL (nothing
   * written, later appends unaffected) when the batch would take the call past its cap, unless it only ends it.
   */
  append(entries: readonly JournalEntry[], at: number, flow?: string): Promise<number[]> {
    if (this.#released)
      return Promise.reject(new SwitchboardError('JOURNAL_FENCED', 'the journal was released'));
    const ending = entries.every((entry) => entry.kind === 'end');
    if (!ending && this.#seq + entries.length > this.#maxRecords) {
      const data = { records: this.#seq, maxRecords: this.#maxRecords };
      return Promise.reject(new SwitchboardError('JOURNAL_FULL', undefined, data));
    }
    const stored: StoredRecord[] = entries.map((entry) => {
      this.#seq += 1;
      const record: JournalRecord = { ...entry, v: JOURNAL_VERSION, callId: this.callId, seq: this.#seq, at };
      return {
        seq: this.#seq,
        kind: entry.kind,
        at,
        line: encodeRecord(record),
        ...(entry.kind === 'start' && flow !== undefined ? { flow } : {}),
      };
    });
    const done = this.#tail.then(async () => {
      if (this.#failure !== null) throw this.#failure;
      try {
        await this.#store.append(this.#lease, stored);
      } catch (err) {
        this.#failure = err instanceof Error ? err : new Error(String(err));
        throw this.#failure;
      }
      return stored.map((r) => r.seq);
    });
    // The chain goes on after a failure; each later append sees #failure and rejects with it.
    this.#tail = done.catch(() => {});
    return done;
  }

  /** Resolves when every append made so far has been stored or has failed. */
  flushed(): Promise<void> {
    return this.#tail.then(() => {});
  }

  /** The call's records as stored, decoded and checked (see readRecords). */
  async read(): Promise<JournalRecord[]> {
    await this.flushed();
    return readJournal(this.#store, this.callId);
  }

  /** Give the lease up once pending appends are done; later appends are refused. */
  async release(): Promise<void> {
    if (this.#released) return;
    await this.flushed();
    this.#released = true;
    await this.#store.release(this.#lease);
  }
}

/**
 * A call's stored records, decoded; a torn last record is left out. A record whose personal fields are withheld
 * (sealed under a key this server lacks) cannot drive a call: JOURNAL_KEY_MISSING, unless `withheld` allows it
 * for a reader that shows the journal's structure only.
 */
export async function readJournal(
  store: JournalStore,
  callId: string,
  options: { withheld?: 'allow' } = {},
): Promise<JournalRecord[]> {
  const rows = await store.read(callId);
  const { records } = readRecords(rows.map((r) => r.line));
  const withheld = records.find((r) => r.withheld !== undefined);
  if (withheld && options.withheld !== 'allow') {
    throw new SwitchboardError(
      'JOURNAL_KEY_MISSING',
      `record ${withheld.seq} needs key ${withheld.withheld}`,
      {
        callId,
        seq: withheld.seq,
        key: withheld.withheld,
      },
    );
  }
  return records;
}
