/**
 * The account's own phone numbers over Twilio's REST API (IncomingPhoneNumbers): list them, find one, and point
 * one at a server: its voice webhook (where Twilio asks what to do with a call to it) and its status callback.
 * These are the account's numbers, not callers': they may be shown, and are not personal data.
 */
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import type { IncomingPhoneNumberInstance } from 'twilio/lib/rest/api/v2010/account/incomingPhoneNumber.js';
import { lazyRestClient, type TwilioRestOptions } from './rest-client.ts';
import { restError } from './rest-errors.ts';

/** A person waits at a terminal for these; longer than Twilio ever takes, shorter than the library's 30 s. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Where a number's calls go. */
export interface PhoneNumberConfig {
  sid: string;
  /** E.164. */
  phoneNumber: string;
  friendlyName: string;
  /** The voice webhook; null when none is set. */
  voiceUrl: string | null;
  voiceMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  /** A TwiML application that takes the number's calls instead of `voiceUrl`; null when none. */
  voiceApplicationSid: string | null;
  /** A SIP trunk that takes the number's calls instead of either; null when none. */
  trunkSid: string | null;
}

/** Where a number's calls should go: both webhooks by POST. */
export interface NumberTarget {
  voiceUrl: string;
  statusCallback: string;
}

/** Whether the number's calls already go to `target`, by POST, with no application or trunk taking them. */
export function pointsAt(number: PhoneNumberConfig, target: NumberTarget): boolean {
  return (
    number.voiceUrl === target.voiceUrl &&
    number.voiceMethod.toUpperCase() === 'POST' &&
    number.statusCallback === target.statusCallback &&
    number.statusCallbackMethod.toUpperCase() === 'POST' &&
    number.voiceApplicationSid === null &&
    number.trunkSid === null
  );
}

export class TwilioNumbers {
  readonly #client: () => TwilioClient;

  /** Throws CONFIG_INVALID for an account SID or auth token that could never authenticate, or a bad `apiUrl`. */
  constructor(options: TwilioRestOptions) {
    this.#client = lazyRestClient(options, REQUEST_TIMEOUT_MS);
  }

  /** Every number of the account, in Twilio's order. Throws TWILIO_REST_FAILED. */
  async list(): Promise<PhoneNumberConfig[]> {
    try {
      return (await this.#client().incomingPhoneNumbers.list({ pageSize: 1000 })).map(config);
    } catch (err) {
      throw restError('list numbers', err);
    }
  }

  /** The account's number `phoneNumber` (E.164), or null when the account has none such. */
  async find(phoneNumber: string): Promise<PhoneNumberConfig | null> {
    let found;
    try {
      // Twilio's PhoneNumber filter matches a part of the number: the exact one is picked here.
      found = await this.#client().incomingPhoneNumbers.list({ phoneNumber, pageSize: 1000 });
    } catch (err) {
      throw restError('find number', err);
    }
    return found.map(config).find((n) => n.phoneNumber === phoneNumber) ?? null;
  }

  /** The number with this PN sid, as it is now. Throws TWILIO_REST_FAILED. */
  async fetch(sid: string): Promise<PhoneNumberConfig> {
    try {
      return config(await this.#client().incomingPhoneNumbers(sid).fetch());
    } catch (err) {
      throw restError('fetch number', err, { numberSid: sid });
    }
  }

  /**
   * Points the number's voice webhook and status callback at `target` (POST), and takes it off a TwiML
   * application, which would get its calls instead. Resolves with the number as Twilio answered the update.
   */
  async pointAt(number: PhoneNumberConfig, target: NumberTarget): Promise<PhoneNumberConfig> {
    try {
      const updated = await this.#client()
        .incomingPhoneNumbers(number.sid)
        .update({
          voiceUrl: target.voiceUrl,
          voiceMethod: 'POST',
          statusCallback: target.statusCallback,
          statusCallbackMethod: 'POST',
          ...(number.voiceApplicationSid === null ? {} : { voiceApplicationSid: '' }),
        });
      return config(updated);
    } catch (err) {
      throw restError('update number', err, { numberSid: number.sid });
    }
  }
}

/** The library's instance, its unset fields (null or empty) as null. */
function config(n: IncomingPhoneNumberInstance): PhoneNumberConfig {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName ?? n.phoneNumber,
    voiceUrl: n.voiceUrl || null,
    voiceMethod: n.voiceMethod || 'POST',
    statusCallback: n.statusCallback || null,
    statusCallbackMethod: n.statusCallbackMethod || 'POST',
    voiceApplicationSid: n.voiceApplicationSid || null,
    trunkSid: n.trunkSid || null,
  };
}
