/**
 * Placing calls over Twilio's REST API (`calls.create`), and finding the ones already placed to a number: what a
 * dial retried after a crash asks before it creates another. A failed request is a TWILIO_REST_FAILED error
 * whose message gives Twilio's error code and what it means (rest-errors.ts).
 */
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import { lazyRestClient, type TwilioRestOptions } from './rest-client.ts';
import { restError } from './rest-errors.ts';

/** A dial should learn quickly that Twilio is unreachable: the request is retried with its key. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Every status a placed call reports, so a campaign learns of busy, no-answer and failed as they happen. */
export const STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

export interface PlaceCall {
  to: string;
  from: string;
  /** The voice webhook Twilio asks for the call's TwiML when it is answered. */
  url: string;
  statusCallback: string;
  /** Where asynchronous answering-machine detection reports who answered. */
  amdCallback: string;
}

export interface PlacedCall {
  sid: string;
  /** ms since the epoch when Twilio created the call. */
  createdAt: number;
}

/** The calls port of a dialer: the REST API, or a test's double. */
export interface OutboundCalls {
  create(call: PlaceCall): Promise<PlacedCall>;
  /** Calls to `to` from `from` created at or after `since` (ms since the epoch), newest first. */
  placedSince(to: string, from: string, since: number): Promise<PlacedCall[]>;
  /** The call's status as Twilio has it now (`in-progress`, `completed`, `busy`...). */
  status(sid: string): Promise<string>;
}

export class TwilioOutboundCalls implements OutboundCalls {
  readonly #client: () => TwilioClient;

  /** Throws CONFIG_INVALID for credentials that could never authenticate, or a bad `apiUrl`. */
  constructor(options: TwilioRestOptions) {
    this.#client = lazyRestClient(options, REQUEST_TIMEOUT_MS);
  }

  /** Load the library now (it blocks the event loop ~150 ms), not on the first dial. */
  warm(): void {
    this.#client();
  }

  async create(call: PlaceCall): Promise<PlacedCall> {
    try {
      const created = await this.#client().calls.create({
        to: call.to,
        from: call.from,
        url: call.url,
        method: 'POST',
        statusCallback: call.statusCallback,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: STATUS_EVENTS,
        // Detection runs while the flow already speaks; its answer comes once a machine's greeting has ended.
        machineDetection: 'DetectMessageEnd',
        asyncAmd: 'true',
        asyncAmdStatusCallback: call.amdCallback,
        asyncAmdStatusCallbackMethod: 'POST',
      });
      return { sid: created.sid, createdAt: created.dateCreated?.getTime() ?? Date.now() };
    } catch (err) {
      throw restError('create call', err, { operation: 'create call' });
    }
  }

  async status(sid: string): Promise<string> {
    try {
      return (await this.#client().calls(sid).fetch()).status;
    } catch (err) {
      throw restError('fetch call', err, { operation: 'fetch call' });
    }
  }

  async placedSince(to: string, from: string, since: number): Promise<PlacedCall[]> {
    try {
      // Not by start time: a call still queued has none. Twilio lists the newest first.
      const calls = await this.#client().calls.list({ to, from, limit: 50 });
      const created = calls.map((c) => ({ sid: c.sid, createdAt: c.dateCreated?.getTime() ?? 0 }));
      return created.filter((c) => c.createdAt >= since);
    } catch (err) {
      throw restError('list calls', err, { operation: 'list calls' });
    }
  }
}
