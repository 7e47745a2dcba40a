/**
 * The twilio library's REST client for one account, built when first needed. Loading the library costs
 * ~140-160 ms of blocking CommonJS (axios and the REST tree), so it is required then, not when this module is
 * imported, and from its deep module lib/rest/Twilio.js, which skips the webhooks, JWT and TwiML builders the
 * package root also loads. With `apiUrl` (TWILIO_API_URL) its requests go to that base URL instead of Twilio
 * (api-url.ts).
 */
import { createRequire } from 'node:module';
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { SwitchboardError } from '../errors.ts';
import { parseTwilioApiUrl, rebasedRequestClient } from './api-url.ts';

const require = createRequire(import.meta.url);

const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;

export interface TwilioRestOptions {
  accountSid: string;
  authToken: string;
  /**
   * Replaces the HTTP client the twilio library sends requests with: anything with its RequestClient's
   * `request(opts)` (tests pass a recording double). Default: the library's own.
   */
  httpClient?: unknown;
  /**
   * TWILIO_API_URL: the base URL every request goes to instead of Twilio (a fake or an emulator); https, or http
   * to a loopback host. Not used with `httpClient`.
   */
  apiUrl?: string;
}

/**
 * The account's client, built (and the library loaded) on the first call, each request given `timeoutMs`.
 * Throws CONFIG_INVALID now for an account SID or auth token that could never authenticate, or a bad `apiUrl`.
 */
export function lazyRestClient(options: TwilioRestOptions, timeoutMs: number): () => TwilioClient {
  if (!ACCOUNT_SID.test(options.accountSid)) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      'Twilio account SID must be "AC" and 32 lower-case hex digits',
    );
  }
  if (options.authToken.length === 0)
    throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is empty');
  const { accountSid, authToken, httpClient } = options;
  const apiUrl = options.apiUrl === undefined ? null : parseTwilioApiUrl(options.apiUrl);
  let client: TwilioClient | null = null;
  return () => {
    if (client === null) {
      const Twilio = require('twilio/lib/rest/Twilio.js') as typeof TwilioClient;
      // The library applies `timeout` only to the client it builds itself; a rebased one is given it here.
      const http =
        httpClient ?? (apiUrl === null ? undefined : rebasedRequestClient(apiUrl, { timeout: timeoutMs }));
      client = new Twilio(accountSid, authToken, {
        timeout: timeoutMs,
        ...(http === undefined ? {} : { httpClient: http as RequestClient }),
      });
    }
    return client;
  };
}
