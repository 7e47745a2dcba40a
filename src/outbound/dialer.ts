/**
 * Places calls: checks a dial request, journals it, then asks Twilio to create the call, its voice webhook
 * pointing at the flow and its status and answering-machine callbacks at this server, each naming the dial's key.
 *
 * Nothing is dialed twice. The request is journaled before Twilio is asked, and the call's SID after; a dial
 * whose key is journaled without a SID (a process killed while Twilio was asked, or an answer that never came)
 * first lists the calls to that number since the request and takes the one it finds rather than create another.
 * In one process, dials with the same key run one at a time.
 */
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import type { CompiledFlow } from '../flow/index.ts';
import type { JournalStore } from '../journal/store.ts';
import type { Logger } from '../observability/logger.ts';
import type { OutboundCalls } from '../telephony/outbound-calls.ts';
import { twilioMessage } from '../telephony/rest-errors.ts';
import { recordStatus } from './dial-callbacks.ts';
import { addToDial, beginDial, isFinalStatus, readDial, type Dial } from './dial-journal.ts';
import { parseDialRequest, type DialRequest } from './dial-request.ts';

/** Twilio's creation times are whole seconds on its clock: a call found this long before the request counts. */
export const LOOKUP_MARGIN_MS = 30_000;

/**
 * A placed call not heard of for this long is asked after: its final status callback may have gone to an
 * instance that was down, and Twilio does not send it again.
 */
export const STALE_MS = 30_000;
const MAX_LOOKED_UP = 10_000;

export interface DialerOptions {
  store: JournalStore;
  /** This instance's name on the dial journals' leases. */
  owner: string;
  calls: OutboundCalls;
  flows: ReadonlyMap<string, CompiledFlow>;
  /** TWILIO_CALLER_ID: the caller id of a request without `from`. */
  defaultFrom: string | null;
  /** The URL Twilio reaches this server at. */
  publicUrl: () => string;
  /** The server's paths for a placed call's voice webhook, status callback and detection callback. */
  paths: { voice: string; status: string; amd: string };
  logger: Logger;
  now?: () => number;
}

export interface DialResult {
  key: string;
  callSid: string;
  /** False when the key's call had been placed before: this request placed nothing. */
  created: boolean;
}

export class Dialer {
  readonly #opts: DialerOptions;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<DialResult>>();
  /** When each stale dial was last looked up at Twilio, oldest first. */
  readonly #lookedUp = new Map<string, number>();

  constructor(opts: DialerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Place the call a request body asks for, or find the one its key placed before. Throws DIAL_INVALID or
   * FLOW_NOT_FOUND for a bad request, DIAL_KEY_REUSED for a key used for another request, TWILIO_REST_FAILED
   * when Twilio refuses or cannot be reached (retryable then: the same key never dials twice).
   */
  dial(body: unknown): Promise<DialResult> {
    const request = parseDialRequest(body, { flows: this.#opts.flows, from: this.#opts.defaultFrom });
    const key = request.idempotencyKey;
    const running = this.#inFlight.get(key);
    if (running) return running.then((r) => ({ ...r, created: false }));
    const dialing = this.#dial(request).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, dialing);
    return dialing;
  }

  /**
   * The dial with key `key` as journaled, null when there is none. A placed call not heard of for STALE_MS is
   * looked up at Twilio first, and a final status found there journaled, as its lost callback would have been.
   */
  async state(key: string): Promise<Dial | null> {
    const { store, owner } = this.#opts;
    const dial = await readDial(store, key);
    const now = this.#now();
    if (dial?.callSid == null || dial.endedAt !== null || now - dial.updatedAt < STALE_MS) return dial;
    // A call in progress for minutes is asked after once every STALE_MS, not at every poll of its dial.
    if (now - (this.#lookedUp.get(key) ?? 0) < STALE_MS) return dial;
    this.#lookedUp.delete(key);
    this.#lookedUp.set(key, now);
    if (this.#lookedUp.size > MAX_LOOKED_UP) this.#lookedUp.delete(this.#lookedUp.keys().next().value!);
    const status = await this.#opts.calls.status(dial.callSid);
    if (!isFinalStatus(status)) return dial;
    this.#lookedUp.delete(key);
    await recordStatus(store, owner, key, dial.callSid, status, this.#now());
    this.#opts.logger.info('dial status found at Twilio', { dial: key, callSid: dial.callSid, status });
    return readDial(store, key);
  }

  async #dial(request: DialRequest): Promise<DialResult> {
    const { store, owner, logger } = this.#opts;
    const key = request.idempotencyKey;
    const log = logger.child({ dial: key });
    const flowVersion = this.#opts.flows.get(request.flow)!.flow.version;
    if (!(await beginDial(store, owner, request, flowVersion, this.#now()))) {
      const dial = await readDial(store, key);
      if (dial === null) throw new SwitchboardError('JOURNAL_NOT_FOUND', 'the dial was not journaled', {});
      checkSameRequest(dial, request);
      if (dial.callSid !== null) return { key, callSid: dial.callSid, created: false };
      if (dial.refused !== null) throw refusedAgain(dial);
      // Journaled, but no call on record: the process that asked Twilio may have died before the answer.
      const found = await this.#opts.calls.placedSince(
        request.to,
        request.from,
        dial.requestedAt - LOOKUP_MARGIN_MS,
      );
      const oldest = found.at(-1);
      if (oldest !== undefined) {
        await this.#placed(key, oldest.sid, true);
        log.info('dial retried: the call placed before was found', { callSid: oldest.sid });
        return { key, callSid: oldest.sid, created: false };
      }
    }
    const publicUrl = this.#opts.publicUrl();
    const paths = this.#opts.paths;
    const query = `dial=${encodeURIComponent(key)}`;
    let sid: string;
    try {
      sid = (
        await this.#opts.calls.create({
          to: request.to,
          from: request.from,
          url: `${publicUrl}${paths.voice}?flow=${encodeURIComponent(request.flow)}&${query}`,
          statusCallback: `${publicUrl}${paths.status}?${query}`,
          amdCallback: `${publicUrl}${paths.amd}?${query}`,
        })
      ).sid;
    } catch (err) {
      await this.#failed(key, err, log);
      throw err;
    }
    try {
      await this.#placed(key, sid, false);
    } catch (err) {
      // The call is placed: its status callbacks journal its SID too (dial-callbacks.ts), and a retry of this
      // key finds it at Twilio. The request succeeded; only this record of it did not.
      log.warn('placed call not journaled here; its callbacks will', { callSid: sid, err });
    }
    log.info('call placed', {
      callSid: sid,
      flow: request.flow,
      pii: { to: request.to, from: request.from },
    });
    return { key, callSid: sid, created: true };
  }

  #placed(key: string, callSid: string, adopted: boolean): Promise<boolean> {
    const event = { type: 'dial.placed', callSid, ...(adopted ? { adopted } : {}) };
    return addToDial(this.#opts.store, this.#opts.owner, key, () => [{ kind: 'in', event }], this.#now());
  }

  /**
   * Twilio answered with a refusal: journaled, and the dial is over. Without an answer (a timeout, a reset) the
   * call may have been created: nothing is journaled, so a retry looks it up.
   */
  async #failed(key: string, err: unknown, log: Logger): Promise<void> {
    const status = isSwitchboardError(err) ? err.data.status : null;
    const twilioCode = isSwitchboardError(err) ? (err.data.twilioCode ?? null) : null;
    const message = twilioMessage(err);
    log.error('call could not be placed', {
      code: isSwitchboardError(err) ? err.code : 'INTERNAL',
      status: status ?? null,
      twilioCode,
      ...(message === undefined ? {} : { pii: { twilioMessage: message } }),
    });
    if (typeof status !== 'number' || status < 400 || status >= 500) return;
    const entries = () => [
      { kind: 'in' as const, event: { type: 'dial.failed', status, twilioCode } },
      { kind: 'end' as const, reason: 'dial refused' },
    ];
    await addToDial(this.#opts.store, this.#opts.owner, key, entries, this.#now());
  }
}

/** A key names one request: the same key with another callee, caller id or flow is a mistake, not a retry. */
function checkSameRequest(dial: Dial, request: DialRequest): void {
  if (dial.to === request.to && dial.from === request.from && dial.flow === request.flow) return;
  throw new SwitchboardError(
    'DIAL_KEY_REUSED',
    'the idempotencyKey was used for a dial to another number, from another number or with another flow',
    { dial: request.idempotencyKey },
  );
}

function refusedAgain(dial: Dial): SwitchboardError {
  const code = dial.refused?.twilioCode ?? null;
  return new SwitchboardError(
    'TWILIO_REST_FAILED',
    `create call was refused before for this key${code === null ? '' : ` (Twilio error ${code})`}`,
    { operation: 'create call', status: null, twilioCode: code, dial: dial.key },
  );
}
