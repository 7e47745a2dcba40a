/**
 * The account's IncomingPhoneNumbers: seeded by the test (`add`), listed (PhoneNumber filters by a part of
 * the number), fetched, and updated: where the number's calls go (voice URL and method, or a TwiML application
 * or SIP trunk that takes them instead: setting one clears the other) and where their status callbacks go.
 */
import { randomSid } from '../../../src/simulator/sid.ts';
import {
  API_VERSION,
  errorReply,
  isHttpUrl,
  method,
  notFound,
  page,
  rfc2822,
  type Reply,
  type RouteRequest,
  type RouteSpec,
} from './resources.ts';
import type { FakeNumberConfig } from './types.ts';

interface FakeNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  voiceApplicationSid: string | null;
  trunkSid: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export class Numbers {
  readonly #accountSid: string;
  readonly #numbers = new Map<string, FakeNumber>();

  constructor(accountSid: string) {
    this.#accountSid = accountSid;
  }

  routes(): RouteSpec[] {
    return [
      { method: 'GET', path: '/IncomingPhoneNumbers.json', handle: (r) => this.#list(r) },
      { method: 'GET', path: '/IncomingPhoneNumbers/{PN}.json', handle: (r) => this.#fetch(r) },
      { method: 'POST', path: '/IncomingPhoneNumbers/{PN}.json', handle: (r) => this.#update(r) },
    ];
  }

  /** Seeds a number the account owns; returns its PN sid. */
  add(phoneNumber: string, config: FakeNumberConfig): string {
    const now = new Date();
    const number: FakeNumber = {
      sid: randomSid('PN'),
      phoneNumber,
      friendlyName: config.friendlyName ?? phoneNumber,
      voiceUrl: config.voiceUrl ?? null,
      voiceMethod: config.voiceMethod ?? 'POST',
      statusCallback: config.statusCallback ?? null,
      statusCallbackMethod: config.statusCallbackMethod ?? 'POST',
      voiceApplicationSid: config.voiceApplicationSid ?? null,
      trunkSid: config.trunkSid ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.#numbers.set(number.sid, number);
    return number.sid;
  }

  /** The number's resource as the REST API shows it, or undefined for a sid the account does not own. */
  resource(sid: string): Record<string, unknown> | undefined {
    const number = this.#numbers.get(sid);
    return number && this.#json(number);
  }

  /** The sid of the account's number `phoneNumber`, or null (a call's phone_number_sid). */
  sidOf(phoneNumber: string): string | null {
    return [...this.#numbers.values()].find((n) => n.phoneNumber === phoneNumber)?.sid ?? null;
  }

  /** PhoneNumber matches a part of the number; `*` is a wildcard. */
  #list({ query, path }: RouteRequest): Reply {
    const wanted = query.get('PhoneNumber')?.replaceAll('*', '');
    const numbers = [...this.#numbers.values()]
      .filter((n) => wanted === undefined || n.phoneNumber.includes(wanted))
      .map((n) => this.#json(n));
    return page(path, query, 'incoming_phone_numbers', numbers);
  }

  #fetch({ sids: [sid] }: RouteRequest): Reply {
    const number = this.#numbers.get(sid ?? '');
    return number === undefined ? notFound(sid) : { status: 200, body: this.#json(number) };
  }

  #update({ sids: [sid], form }: RouteRequest): Reply {
    const number = this.#numbers.get(sid ?? '');
    if (number === undefined) return notFound(sid);
    for (const name of ['VoiceUrl', 'StatusCallback']) {
      const value = form.get(name);
      if (value !== null && value !== '' && !isHttpUrl(value)) {
        return errorReply(400, 21502, `${name} is not a valid URL: ${value}`);
      }
    }
    // An empty value clears the setting.
    if (form.has('VoiceUrl')) number.voiceUrl = form.get('VoiceUrl') || null;
    if (form.has('StatusCallback')) number.statusCallback = form.get('StatusCallback') || null;
    if (form.has('VoiceMethod')) number.voiceMethod = method(form.get('VoiceMethod'));
    if (form.has('StatusCallbackMethod')) {
      number.statusCallbackMethod = method(form.get('StatusCallbackMethod'));
    }
    if (form.has('VoiceApplicationSid')) {
      number.voiceApplicationSid = form.get('VoiceApplicationSid') || null;
      if (number.voiceApplicationSid !== null) number.trunkSid = null;
    }
    if (form.has('TrunkSid')) {
      number.trunkSid = form.get('TrunkSid') || null;
      if (number.trunkSid !== null) number.voiceApplicationSid = null;
    }
    if (form.has('FriendlyName')) number.friendlyName = form.get('FriendlyName') ?? number.friendlyName;
    number.updatedAt = new Date();
    return { status: 200, body: this.#json(number) };
  }

  #json(number: FakeNumber): Record<string, unknown> {
    return {
      sid: number.sid,
      account_sid: this.#accountSid,
      api_version: API_VERSION,
      phone_number: number.phoneNumber,
      friendly_name: number.friendlyName,
      date_created: rfc2822(number.createdAt),
      date_updated: rfc2822(number.updatedAt),
      capabilities: { voice: true, sms: true, mms: true, fax: false },
      voice_url: number.voiceUrl,
      voice_method: number.voiceMethod,
      voice_fallback_url: null,
      voice_fallback_method: 'POST',
      voice_application_sid: number.voiceApplicationSid,
      voice_caller_id_lookup: false,
      status_callback: number.statusCallback,
      status_callback_method: number.statusCallbackMethod,
      trunk_sid: number.trunkSid,
      status: 'in-use',
      origin: 'twilio',
      beta: false,
      uri: `/${API_VERSION}/Accounts/${this.#accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    };
  }
}
