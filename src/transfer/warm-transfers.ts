/**
 * Warm transfers, from the call that asks for one to the person who takes it or not. The call's instance puts
 * the caller on hold in a conference room (their media stream ends, the conversation stays open in its
 * journal) and has Twilio call the person with a whisper. Twilio's callbacks about the person (their key, their
 * call's end) reach any instance, signed, at TRANSFER_PATH: taking the call joins them to the room; anything
 * else settles the transfer as returned and redirects the caller to be resumed on a new stream, where the
 * conversation asks for the same transfer again and learns here that it was not taken (CALL_TRANSFER_NOT_TAKEN).
 * What happened is journaled beside the call (transfer-journal.ts), so the first outcome wins on every instance.
 */
import { createHash } from 'node:crypto';
import { isE164 } from '../common/e164.ts';
import { SwitchboardError } from '../errors.ts';
import type { WarmTransferRequest } from '../flow/index.ts';
import type { JournalEntry } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import type { Logger } from '../observability/logger.ts';
import type { CallControl } from '../telephony/call-control.ts';
import { TAKE_KEY, holdInConference, joinConference, whisperTwiml } from '../telephony/conference-twiml.ts';
import { httpUrlFor, sayThenHangup } from '../telephony/twiml.ts';
import {
  addToTransfer,
  beginTransfer,
  outcomeEntries,
  readTransfer,
  transferJournalId,
  type HeldTransfer,
  type ReturnReason,
} from './transfer-journal.ts';

/** Where Twilio reports on the person called: `?callSid=<CallSid>&transferId=<id>&step=answer|ended`. */
export const TRANSFER_PATH = '/twilio/transfer';

const CALL_SID = /^CA[0-9a-f]{32}$/;
/** The transfers of one call looked at when it ends: a flow that tried more is a loop, and those are over. */
const MAX_TRANSFERS_LOOKED_UP = 100;
const TRANSFER_ID = /^[A-Za-z0-9_.-]{1,256}$/;

/** The person's call ended without taking the transfer: why, in the words the flow's `transfer.failed` gives. */
const ENDED_REASONS: Readonly<Record<string, ReturnReason>> = {
  completed: 'declined',
  busy: 'busy',
  'no-answer': 'no answer',
  failed: 'failed',
  canceled: 'canceled',
};

export interface WarmTransfersOptions {
  store: JournalStore;
  /** This instance, as the journal store knows it. */
  owner: string;
  control: CallControl;
  /** The URL Twilio reaches. */
  publicUrl: () => string;
  /** Where a call asks to be resumed on a new stream (its `<Connect action>`). */
  resumePath: string;
  /** TWILIO_CALLER_ID: the number the person is called from when the call's own number is not a phone number. */
  callerId: string | null;
  logger: Logger;
  /** The person took the call: the caller's conversation is over, transferred. */
  endCall: (callSid: string, at: number) => Promise<unknown>;
  now?: () => number;
}

/** A warm transfer a live call asks for. */
export interface WarmStart {
  callSid: string;
  flow: string;
  to: string;
  /** The call's own Twilio number (the one called, or called from), when it is a phone number. */
  ownNumber: string | null;
  request: WarmTransferRequest;
}

export class WarmTransfers {
  readonly #opts: WarmTransfersOptions;
  readonly #now: () => number;

  constructor(opts: WarmTransfersOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Start the transfer, or take it up when it was asked for before (a resumed call asks again). Resolves once
   * the caller is on hold and the person is being called; the caller's stream then ends. Rejects, the caller
   * still in the flow, when the caller could not be put on hold, or with CALL_TRANSFER_NOT_TAKEN when the
   * transfer came back already.
   */
  async start(start: WarmStart): Promise<void> {
    const { callSid, to, request } = start;
    if (!isE164(to)) {
      throw new SwitchboardError(
        'CALL_CONTROL_INVALID',
        'transfer number must be E.164, such as +14155552671',
      );
    }
    const from = start.ownNumber !== null && isE164(start.ownNumber) ? start.ownNumber : this.#opts.callerId;
    if (from === null) {
      throw new SwitchboardError(
        'CALL_CONTROL_INVALID',
        'a warm transfer calls the person from a Twilio number: set TWILIO_CALLER_ID',
      );
    }
    const { store, owner } = this.#opts;
    const room = roomFor(callSid, request.id);
    await beginTransfer(
      store,
      owner,
      { callSid, id: request.id, to, from, room, flow: start.flow },
      this.#now(),
    );
    const transfer = (await readTransfer(store, callSid, request.id))!;
    if (transfer.outcome !== null) throw notTaken(transfer);
    await this.#opts.control.redirect(callSid, holdInConference(room, request.hold));
    const log = this.#opts.logger.child({ callId: callSid, transfer: request.id });
    log.info('caller on hold for a warm transfer');
    // The caller is on hold from here: nothing may reject any more, or the call would end as hung up. A step
    // that fails brings the caller back instead.
    try {
      if (!transfer.held) await this.#add(callSid, request.id, () => [event('transfer.held')]);
      // Taken up after a hold: the person was called already, and Twilio reports on that call.
      if (transfer.personSid !== null) return;
      const person = await this.#opts.control.callPerson({
        to,
        from,
        twiml: whisperTwiml(request.whisper, this.#callbackUrl(callSid, request.id, 'answer')),
        timeoutSeconds: request.timeoutSeconds,
        statusCallback: this.#callbackUrl(callSid, request.id, 'ended'),
      });
      await this.#add(callSid, request.id, () => [event('transfer.dialed', { personSid: person.sid })]);
    } catch (err) {
      log.error('the person could not be called; the caller goes back to the flow', { err });
      await this.#return(callSid, request.id, 'not placed').catch((returnErr: unknown) => {
        log.error('the caller could not be brought back from hold', { err: returnErr });
      });
    }
  }

  /**
   * A callback about a transfer's person (the query of TRANSFER_PATH, Twilio's form): TwiML for their call, or
   * null when Twilio wants no answer. Throws HTTP_BAD_BODY for a query this server never gave out.
   */
  async callback(query: URLSearchParams, form: Record<string, string>): Promise<string | null> {
    const callSid = query.get('callSid') ?? '';
    const id = query.get('transferId') ?? '';
    const step = query.get('step');
    if (!CALL_SID.test(callSid) || !TRANSFER_ID.test(id) || (step !== 'answer' && step !== 'ended')) {
      throw new SwitchboardError('HTTP_BAD_BODY', 'not a transfer callback this server gave out');
    }
    if (step === 'answer') return this.#answer(callSid, id, form.Digits ?? '');
    await this.#ended(callSid, id, form.CallStatus ?? '');
    return null;
  }

  /**
   * The caller's call is over (its status callback said `completed`): a transfer of theirs still ringing or
   * whispering is called off, and the person's phone stops.
   */
  async callerLeft(callSid: string): Promise<void> {
    const prefix = transferJournalId(callSid, '');
    const ids = await this.#opts.store.callIds(prefix, MAX_TRANSFERS_LOOKED_UP);
    for (const journalId of ids) {
      if (!journalId.startsWith(prefix)) break;
      const id = journalId.slice(prefix.length);
      const transfer = await readTransfer(this.#opts.store, callSid, id);
      if (transfer === null || transfer.outcome !== null) continue;
      const settled = await this.#add(callSid, id, () =>
        outcomeEntries({ taken: false, reason: 'canceled' }),
      );
      if (!settled) continue;
      this.#opts.logger.info('the caller hung up on hold; the transfer is called off', {
        callId: callSid,
        transfer: id,
      });
      if (transfer.personSid !== null) {
        await this.#opts.control.hangup(transfer.personSid).catch(() => {
          // Logged by CallControl; the person's call may have ended by itself meanwhile.
        });
      }
    }
  }

  /** The person's key after the whisper: TAKE_KEY joins them to the caller; anything else sends the caller back. */
  async #answer(callSid: string, id: string, digits: string): Promise<string> {
    const log = this.#opts.logger.child({ callId: callSid, transfer: id });
    const transfer = await readTransfer(this.#opts.store, callSid, id);
    if (transfer === null) {
      log.warn('answer for a transfer this server never began');
      return sayThenHangup('Sorry, this call cannot be connected. Goodbye.');
    }
    if (digits !== TAKE_KEY) {
      const returned = await this.#return(callSid, id, 'declined');
      log.info('the person declined the transfer', { returned });
      return sayThenHangup(
        returned ? 'The caller will be told. Goodbye.' : 'The caller is no longer waiting.',
      );
    }
    // A caller who hung up on hold has a closed journal: nobody would be in the room.
    const callerGone = (await this.#opts.store.summary(callSid))?.ended === true;
    if (callerGone) {
      await this.#add(callSid, id, () => outcomeEntries({ taken: false, reason: 'canceled' }));
      log.info('the person took a transfer whose caller had hung up');
      return sayThenHangup('Sorry, the caller has hung up. Goodbye.');
    }
    const taken = await this.#add(callSid, id, () => outcomeEntries({ taken: true }));
    const now = await readTransfer(this.#opts.store, callSid, id);
    if (!taken && now?.outcome?.taken !== true) {
      log.info('the person took a transfer that had come back already');
      return sayThenHangup('Sorry, the caller is no longer waiting. Goodbye.');
    }
    if (taken) {
      log.info('the person took the transfer');
      await this.#opts.endCall(callSid, this.#now()).catch((err: unknown) => {
        log.warn("the caller's journal could not be closed as transferred", { err });
      });
    }
    return joinConference(transfer.room);
  }

  /** The person's call ended: unless they took the transfer, the caller goes back to the flow. */
  async #ended(callSid: string, id: string, status: string): Promise<void> {
    const reason = ENDED_REASONS[status];
    if (reason === undefined) return;
    const returned = await this.#return(callSid, id, reason);
    if (returned)
      this.#opts.logger.info('the person did not take the transfer', {
        callId: callSid,
        transfer: id,
        reason,
      });
  }

  /**
   * Settle the transfer as returned and redirect the caller to be resumed; false when it was settled already.
   * A caller who hung up meanwhile cannot be redirected: that is logged, and nothing more is needed.
   */
  async #return(callSid: string, id: string, reason: ReturnReason): Promise<boolean> {
    const returned = await this.#add(callSid, id, () => outcomeEntries({ taken: false, reason }));
    if (!returned) return false;
    try {
      await this.#opts.control.redirectTo(callSid, httpUrlFor(this.#opts.publicUrl(), this.#opts.resumePath));
    } catch (err) {
      this.#opts.logger.warn('the caller could not be brought back from hold', {
        callId: callSid,
        transfer: id,
        err,
      });
    }
    return true;
  }

  #add(callSid: string, id: string, decide: (t: HeldTransfer) => readonly JournalEntry[]): Promise<boolean> {
    return addToTransfer(this.#opts.store, this.#opts.owner, callSid, id, decide, this.#now());
  }

  #callbackUrl(callSid: string, id: string, step: 'answer' | 'ended'): string {
    const query = new URLSearchParams({ callSid, transferId: id, step });
    return httpUrlFor(this.#opts.publicUrl(), `${TRANSFER_PATH}?${query.toString()}`);
  }
}

function event(type: string, fields: Record<string, unknown> = {}): JournalEntry {
  return { kind: 'in', event: { type, ...fields } };
}

/** The transfer came back: why, as the flow's `transfer.failed` says it. */
function notTaken(transfer: HeldTransfer): SwitchboardError {
  const reason =
    transfer.outcome?.taken === false ? transfer.outcome.reason : 'taken before the caller came back';
  return new SwitchboardError('CALL_TRANSFER_NOT_TAKEN', reason, { reason });
}

/** The conference room of transfer `id`: unique to it, and within Twilio's limits however long the id. */
function roomFor(callSid: string, id: string): string {
  return `sb-${callSid}-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}
