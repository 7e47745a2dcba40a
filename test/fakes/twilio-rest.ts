/**
 * Test double for the twilio library's HTTP client (its RequestClient): pass it as `httpClient` and the real twilio
 * REST client builds real requests, which this records instead of sending, answering each with a canned response.
 * Nothing reaches api.twilio.com.
 */

/** One request as the twilio library handed it over. */
export interface RecordedTwilioRequest {
  method: string;
  uri: string;
  username: string | undefined;
  password: string | undefined;
  /** The Authorization header the real client would send for these credentials, or null without them. */
  authorization: string | null;
  headers: Record<string, string>;
  /** Form fields as the library passed them (e.g. `Twiml`, `Status`). */
  data: Record<string, unknown>;
  /** The same fields as the URL-encoded body the real client would send. */
  form: URLSearchParams;
}

/** A canned answer: an HTTP response, or an error thrown as the transport would (connection reset, timeout). */
export type CannedTwilioResponse =
  { statusCode: number; body: unknown; headers?: Record<string, string> } | { error: Error };

/** What the twilio library reads back from its httpClient. */
interface HttpResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Twilio's error body, e.g. `twilioError(404, 20404, 'The requested resource ... was not found')`. */
export function twilioError(statusCode: number, code: number, message: string): CannedTwilioResponse {
  return {
    statusCode,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: statusCode },
  };
}

/** A 200 with a call resource like Twilio's answer to a call update. */
export function callResource(
  callSid: string,
  accountSid: string,
  status = 'in-progress',
): CannedTwilioResponse {
  return {
    statusCode: 200,
    body: {
      sid: callSid,
      account_sid: accountSid,
      status,
      api_version: '2010-04-01',
      date_created: 'Tue, 02 Jan 2024 10:00:00 +0000',
      date_updated: 'Tue, 02 Jan 2024 10:00:05 +0000',
      uri: `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`,
    },
  };
}

export class RecordingTwilioHttpClient {
  /** Every request received, in order. */
  readonly requests: RecordedTwilioRequest[] = [];
  readonly #queued: CannedTwilioResponse[] = [];

  /** Queue answers for the next requests, in order; once they run out, each request gets a 200 call resource. */
  respondWith(...responses: CannedTwilioResponse[]): void {
    this.#queued.push(...responses);
  }

  /** The contract of twilio's RequestClient.request: resolves with the response whatever its status. */
  async request(opts: {
    method: string;
    uri: string;
    username?: string;
    password?: string;
    headers?: Record<string, string>;
    data?: Record<string, unknown>;
  }): Promise<HttpResponse> {
    const data = { ...(opts.data ?? {}) };
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(data)) {
      for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) form.append(key, String(v));
    }
    this.requests.push({
      method: opts.method,
      uri: opts.uri,
      username: opts.username,
      password: opts.password,
      authorization:
        opts.username && opts.password
          ? 'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64')
          : null,
      headers: { ...(opts.headers ?? {}) },
      data,
      form,
    });
    const next = this.#queued.shift() ?? this.#defaultAnswer(opts.uri);
    if ('error' in next) throw next.error;
    return { statusCode: next.statusCode, body: next.body, headers: next.headers ?? {} };
  }

  #defaultAnswer(uri: string): CannedTwilioResponse {
    const m = /\/Accounts\/(AC[0-9a-f]+)\/Calls\/(CA[0-9a-f]+)\.json$/.exec(uri);
    return m ? callResource(m[2]!, m[1]!) : { statusCode: 200, body: {} };
  }
}
