/**
 * This instance's access to call journals: it admits new calls, decides what a call whose stream ended should do
 * next, and attaches a media stream to its call. A stream carries a ticket (`callId`, `lease`, `token`
 * parameters): an HMAC, under the store's shared secret, of the call id and the lease token current when the
 * ticket was issued. So a stream can attach only to the call it was issued for, only while no other instance has
 * taken the call since, and any instance sharing the store can check a ticket another issued.
 *
 * Issuing a ticket takes nothing: the lease is taken when a stream attaches with it. And a Twilio stream's URL
 * carries its ticket's token (`/twilio/media/<token>`), which Twilio signs on the websocket upgrade, so a ticket
 * is good only on the stream Twilio opens for it: a captured webhook re-sent for a call in progress gets a ticket
 * nobody can open a stream with (that would need a signature made with the auth token), and fences nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import type { JournalRecord, StartEntry } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import { CallJournal, DEFAULT_MAX_RECORDS, readJournal } from './call-journal.ts';

/** The `<Parameter>`s a stream carries to attach to its call. */
export interface StreamTicket {
  callId: string;
  lease: string;
  token: string;
}

/** What to do when a call's stream has ended (Twilio's `<Connect action>`). */
export type AfterStream =
  /** The conversation is over: hang up. */
  | { kind: 'ended' }
  /** No such call in the journal store. */
  | { kind: 'unknown' }
  /** Resume with a new stream carrying `ticket`; `start` is the call's start record (null if it never began). */
  | { kind: 'resume'; ticket: StreamTicket; start: StartEntry | null };

export interface Attached {
  journal: CallJournal;
  /** The call's records so far, decoded; empty for a call that has not begun. */
  records: JournalRecord[];
}

/**
 * How long a webhook keeps asking a store that cannot be reached (a database restarting, paused, failing over)
 * before giving up: Twilio drops the caller on an error, so a short outage is better waited out than answered.
 * With a try in flight when it runs out (a statement gives up after 5 s), the answer still comes within ~10 s:
 * time for a proxy to try another instance inside Twilio's 15 s.
 */
export const STORE_WAIT_MS = 5000;
const STORE_RETRY_MS = 500;

export class CallJournals {
  readonly store: JournalStore;
  /** This instance's name on the leases it holds. */
  readonly owner: string;
  readonly #storeWaitMs: number;
  readonly #maxRecords: number;
  #secret: Buffer | null = null;

  constructor(
    store: JournalStore,
    owner = `sb-${process.pid}-${randomBytes(4).toString('hex')}`,
    options: { storeWaitMs?: number; maxRecords?: number } = {},
  ) {
    this.store = store;
    this.owner = owner;
    this.#storeWaitMs = options.storeWaitMs ?? STORE_WAIT_MS;
    this.#maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  }

  /** Load the store's shared secret; call once before use. */
  async init(): Promise<void> {
    this.#secret = await this.store.secret();
  }

  /** A key for `purpose` derived from the store's shared secret: the same on every instance sharing the store. */
  deriveKey(purpose: string): Buffer {
    if (!this.#secret) throw new Error('CallJournals.init() was not called');
    return createHmac('sha256', this.#secret).update(purpose).digest();
  }

  /**
   * A new call: create its journal and issue its first stream's ticket. HTTP_CALL_EXISTS when the call already
   * has a journal: a voice webhook comes once per call, so that is a replayed one, and it gets no ticket. While
   * the store cannot be reached, each step is tried again, up to STORE_WAIT_MS in all.
   */
  async admit(callId: string): Promise<StreamTicket> {
    const deadline = performance.now() + this.#storeWaitMs;
    if (await this.#patiently(deadline, () => this.store.summary(callId))) {
      throw new SwitchboardError('HTTP_CALL_EXISTS', 'the call already has a journal');
    }
    // Taking a lease again after a try whose outcome is unknown only makes the token grow: safe to repeat.
    const lease = await this.#patiently(deadline, () => this.store.acquire(callId, this.owner));
    // Created and released: the stream takes the lease when it attaches.
    await this.#patiently(deadline, () => this.store.release(lease));
    return this.#ticket(callId, lease.token);
  }

  /**
   * The call's stream ended: hang up if its conversation is over, else issue a ticket for a new stream. Only
   * reads, so while the store cannot be reached it is asked again, up to STORE_WAIT_MS.
   */
  afterStream(callId: string): Promise<AfterStream> {
    return this.#patiently(performance.now() + this.#storeWaitMs, () => this.#afterStream(callId));
  }

  /**
   * `step`, tried again while the store is unreachable (a retryable STORE_UNAVAILABLE) until `deadline`: monotonic,
   * so a step of the wall clock neither cuts the wait short nor stretches it.
   */
  async #patiently<T>(deadline: number, step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        const retryable = isSwitchboardError(err, 'STORE_UNAVAILABLE') && err.retryable;
        if (!retryable || performance.now() + STORE_RETRY_MS > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
      }
    }
  }

  async #afterStream(callId: string): Promise<AfterStream> {
    const summary = await this.store.summary(callId);
    if (!summary) return { kind: 'unknown' };
    if (summary.ended) return { kind: 'ended' };
    const records = await readJournal(this.store, callId);
    if (records.some((r) => r.kind === 'end')) return { kind: 'ended' };
    const first = records[0];
    return {
      kind: 'resume',
      // Under the current token: the stream that attaches with it fences the last holder out, not this webhook.
      ticket: this.#ticket(callId, summary.token),
      start: first?.kind === 'start' ? first : null,
    };
  }

  /**
   * Attach a stream to its call: check its ticket, take the lease (fencing out whoever held it) and read what
   * was journaled. RESUME_REFUSED when the ticket is missing, forged, for another call, stale, or not the one
   * `urlTicket` (the token in the stream's signed URL, when it has one) names.
   */
  async attach(
    params: Readonly<Record<string, string>>,
    callSid: string,
    urlTicket?: string,
  ): Promise<Attached> {
    const { callId, lease, token } = params;
    if (callId === undefined || lease === undefined || token === undefined) {
      throw refused('the stream has no call ticket (callId, lease and token parameters)');
    }
    if (urlTicket !== undefined && !sameText(urlTicket, token)) {
      throw refused('the ticket is not the one the stream URL was issued with');
    }
    if (callId !== callSid) throw refused('the ticket is for another call');
    const issuedUnder = Number(lease);
    if (!Number.isSafeInteger(issuedUnder) || !this.#verify(callId, issuedUnder, token)) {
      throw refused('the ticket is not valid');
    }
    const summary = await this.store.summary(callId);
    if (!summary || summary.token !== issuedUnder) {
      throw refused('the ticket is stale: the call was taken up elsewhere since', {
        issuedUnder,
        current: summary?.token ?? null,
      });
    }
    const taken = await this.store.acquire(callId, this.owner);
    const records = await readJournal(this.store, callId);
    if (records.some((r) => r.kind === 'end')) throw refused('the call has ended');
    const journal = new CallJournal(this.store, taken, records.at(-1)?.seq ?? 0, this.#maxRecords);
    return { journal, records };
  }

  /**
   * Twilio says the call is over (status callback `completed`) while its journal is still open, e.g. the caller
   * hung up while no instance held the stream: the journal is closed so nothing tries to resume it. Left alone
   * while an instance holds the call, unless `force` (the call can never resume, as when its flow is gone).
   */
  async end(callId: string, reason: string, at: number, options: { force?: boolean } = {}): Promise<boolean> {
    const summary = await this.store.summary(callId);
    if (!summary || summary.ended || (summary.owner !== null && options.force !== true)) return false;
    const records = await readJournal(this.store, callId);
    const lease = await this.store.acquire(callId, this.owner);
    const journal = new CallJournal(this.store, lease, records.at(-1)?.seq ?? 0);
    await journal.append([{ kind: 'end', reason }], at);
    await journal.release();
    return true;
  }

  /**
   * A new call turned away before it began (admission control): its journal is one `end` record saying why, so
   * the calls page shows it and nothing tries to resume it. False, and nothing written, when the call already
   * has a journal (a webhook retried for a call taken up elsewhere).
   */
  async refuse(callId: string, reason: string, at: number): Promise<boolean> {
    if (await this.store.summary(callId)) return false;
    const lease = await this.store.acquire(callId, this.owner);
    const journal = new CallJournal(this.store, lease, 0);
    await journal.append([{ kind: 'end', reason }], at);
    await journal.release();
    return true;
  }

  #ticket(callId: string, lease: number): StreamTicket {
    return { callId, lease: String(lease), token: this.#sign(callId, lease) };
  }

  #sign(callId: string, lease: number): string {
    if (!this.#secret) throw new Error('CallJournals.init() was not called');
    return createHmac('sha256', this.#secret).update(`${callId}:${lease}`).digest('base64url');
  }

  #verify(callId: string, lease: number, token: string): boolean {
    return sameText(token, this.#sign(callId, lease));
  }
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refused(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('RESUME_REFUSED', detail, data);
}
